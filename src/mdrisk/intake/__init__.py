"""Document intake: read device documents (text, Markdown, PDF), find the technologies they
say the device uses, each with the sentence that says so, and draft a device model.

It feeds ``model/`` (a draft device model), not the analysis stages: see
:func:`extract_files` and :func:`draft_model`. Documents are data: text a reader cannot see
and sentences addressed to a reader or tool are never read as facts.
"""

from mdrisk.intake.draft import Draft, draft_model
from mdrisk.intake.extract import Reading, extract_documents, extract_files
from mdrisk.intake.findings import Evidence, Extraction, Finding, SetAside
from mdrisk.intake.lexicon import Lexicon, load_lexicon
from mdrisk.intake.readers import read_document

__all__ = [
    "Draft",
    "Evidence",
    "Extraction",
    "Finding",
    "Lexicon",
    "Reading",
    "SetAside",
    "draft_model",
    "extract_documents",
    "extract_files",
    "load_lexicon",
    "read_document",
]
