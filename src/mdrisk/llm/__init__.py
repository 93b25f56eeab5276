"""The LLM layer: an untrusted helper that drafts narratives, never findings.

One client for OpenAI-compatible endpoints (``client``), configured by environment or flags
(``config``); prompts built only from facts selected out of the assessment, with those facts
quoted as data (``facts``, ``prompts``); one output schema per task (``tasks``); every answer
parsed, validated and checked for ids the facts do not contain (``validate``), retried with
the problem fed back, and recorded with its provenance (``enrich``). This package knows no
domain logic: the deterministic assessment stands without it.
"""
