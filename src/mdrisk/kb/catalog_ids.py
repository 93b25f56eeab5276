"""Identifiers of the threat catalogues: their written forms and a natural sort order."""

from __future__ import annotations

import re

CAPEC_ID = re.compile(r"CAPEC-([0-9]{1,6})")
CWE_ID = re.compile(r"CWE-([0-9]{1,6})")
ATTACK_TECHNIQUE_ID = re.compile(r"T[0-9]{4}(?:\.[0-9]{3})?")
ATTACK_MITIGATION_ID = re.compile(r"M[0-9]{4}")
ATTACK_TACTIC_ID = re.compile(r"TA[0-9]{4}")
ATLAS_TECHNIQUE_ID = re.compile(r"AML\.T[0-9]{4}(?:\.[0-9]{3})?")
ATLAS_TACTIC_ID = re.compile(r"AML\.TA[0-9]{4}")
ATLAS_MITIGATION_ID = re.compile(r"AML\.M[0-9]{4}")
ATLAS_CASE_STUDY_ID = re.compile(r"AML\.CS[0-9]{4}")

_NUMBERS = re.compile(r"([0-9]+)")


def natural(identifier: str) -> tuple:
    """Sort key putting CAPEC-9 before CAPEC-10 and T1110 before T1110.001."""
    return tuple(
        (1, int(part), "") if part.isascii() and part.isdigit() else (0, 0, part)
        for part in _NUMBERS.split(identifier)
    )


def lookup_forms(identifier: str) -> list[str]:
    """The forms an id may be stored under, most likely first: as typed, upper case
    (``cwe-79``, ``t0830``, ``aml.t0043``), lower case (STIX ids)."""
    forms = []
    for form in (identifier, identifier.upper(), identifier.lower()):
        if form not in forms:
            forms.append(form)
    return forms
