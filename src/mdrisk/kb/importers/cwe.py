"""MITRE CWE from the XML catalogue (``cwec_v4.x.xml``, namespace ``http://cwe.mitre.org/cwe-7``).

In: the catalogue, streamed (it is ~15 MB; only the parts kept are built in memory). Out: one
batch with a ``weakness`` record per Weakness (``CWE-287``: name, abstraction, status,
description, likelihood of exploit, consequences, summarised potential mitigations,
platforms, parents, the primary parent in the research view 1000) and per Category
(``entry_type: category``, with its members: CVE and KEV records still cite categories such
as CWE-264), and the relations CWE -child_of-> CWE (ChildOf in any view) and CWE
-exploited_by-> CAPEC. Deprecated entries are kept, with their status, because published
vulnerabilities cite them. Views are not imported (counted in ``skipped``). A DOCTYPE or
entity declaration is refused (see ``mdrisk.parsing.safe_xml``).

The CWE CSV views (1000.csv, 699.csv, 1194.csv) are deliberately not imported: they are
subsets of the same release's XML and would only repeat its weaknesses under a second source.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, TreeBuilder

from mdrisk.errors import InputError
from mdrisk.kb.catalog_ids import natural
from mdrisk.kb.importers._text import fold, shorten
from mdrisk.kb.importers.base import Importer
from mdrisk.kb.records import (
    REL_CAPEC,
    REL_CHILD_OF,
    WEAKNESS,
    ImportBatch,
    Record,
    Relation,
)
from mdrisk.parsing.errors import refuse
from mdrisk.parsing.safe_xml import stream_xml

SOURCE_KEY = "mitre-cwe"
NAMESPACE_PREFIX = "http://cwe.mitre.org/cwe-"
ENTRIES = {"Weakness": "Weaknesses", "Category": "Categories"}
# Subtrees nobody downstream reads: not built, which keeps the import fast and small.
NOT_READ = {
    "Content_History",
    "Demonstrative_Examples",
    "Observed_Examples",
    "References",
    "Taxonomy_Mappings",
    "Notes",
    "Detection_Methods",
    "Background_Details",
    "Modes_Of_Introduction",
    "Weakness_Ordinalities",
    "Alternate_Terms",
    "Affected_Resources",
    "Functional_Areas",
    "Exploitation_Factors",
}
MITIGATION_SUMMARY_CHARS = 300
_NUMBER = re.compile(r"[0-9]{1,6}")
RESEARCH_VIEW = "1000"  # "Research Concepts": every weakness, one primary parent each


class CweImporter(Importer):
    name = "cwe"
    whole_catalogue = True
    description = "MITRE CWE weaknesses and categories with CAPEC links (XML catalogue)"

    def __init__(self) -> None:
        self.skipped: Counter[str] = Counter()

    @classmethod
    def sniff(cls, head: str, path: Path) -> bool:
        return "<Weakness_Catalog" in head

    def read(self, path: Path) -> list[ImportBatch]:
        reader = _CatalogReader(path)
        stream_xml(path, reader.start, reader.end, reader.text)
        if not reader.root_seen:
            raise refuse(
                path,
                "no Weakness_Catalog element",
                record="Weakness_Catalog",
                fix="give the CWE XML catalogue (cwec_v4.x.xml)",
            )
        weaknesses = [e for e in reader.entries if e[0] == "Weakness"]
        if not weaknesses:
            raise refuse(
                path,
                "no Weakness entries",
                record="Weaknesses",
                fix="this is not a CWE catalogue, or it is truncated",
            )
        self.skipped["views"] = reader.views
        records: dict[str, Record] = {}
        relations: list[Relation] = []
        for tag, element, line in reader.entries:
            record, links = (weakness_record if tag == "Weakness" else category_record)(
                path, element, line, reader.version
            )
            if record.id in records:
                raise refuse(
                    path,
                    f"{record.id} appears more than once",
                    record=f"{tag} {record.id}",
                    line=line,
                    fix="give each CWE entry once",
                )
            records[record.id] = record
            relations += links
        for record in records.values():
            if record.data["entry_type"] == "category":
                for member in record.data["members"]:
                    if member in records:
                        records[member].data["categories"].append(record.id)
        ordered = sorted(records.values(), key=lambda r: natural(r.id))
        relations = sorted(set(relations), key=lambda r: (r.src, r.rel, r.dst))
        return [ImportBatch(self.name, SOURCE_KEY, ordered, [], relations)]


class _CatalogReader:
    """Builds one Element per Weakness/Category (minus ``NOT_READ``), ignores the rest."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.stack: list[str] = []
        self.builder: TreeBuilder | None = None
        self.entry_line = 0
        self.skip_depth = 0
        self.entries: list[tuple[str, Element, int]] = []
        self.views = 0
        self.version = ""
        self.root_seen = False

    def start(self, name: str, attributes: dict[str, str], line: int) -> None:
        depth = len(self.stack)
        self.stack.append(name)
        if depth == 0:
            namespace = attributes.get("{namespace}", "")
            if name != "Weakness_Catalog" or not namespace.startswith(NAMESPACE_PREFIX):
                raise refuse(
                    self.path,
                    f"the root element is {{{namespace}}}{name}, not a CWE Weakness_Catalog",
                    record=name,
                    line=line,
                    fix=f"expected namespace {NAMESPACE_PREFIX}7",
                )
            self.version = attributes.get("Version", "")
            self.root_seen = True
        elif self.skip_depth:
            self.skip_depth += 1
        elif self.builder is not None:
            if name in NOT_READ:
                self.skip_depth = 1
            else:
                self.builder.start(name, attributes)
        elif depth == 2 and ENTRIES.get(name) == self.stack[1]:
            self.builder = TreeBuilder()
            self.builder.start(name, attributes)
            self.entry_line = line
        elif depth == 2 and name == "View":
            self.views += 1

    def end(self, name: str) -> None:
        self.stack.pop()
        if self.skip_depth:
            self.skip_depth -= 1
        elif self.builder is not None:
            self.builder.end(name)
            if len(self.stack) == 2:
                self.entries.append((name, self.builder.close(), self.entry_line))
                self.builder = None

    def text(self, data: str) -> None:
        if self.builder is not None and not self.skip_depth:
            self.builder.data(data)


def text_of(element: Element | None) -> str:
    return "" if element is None else fold(" ".join(element.itertext()))


def texts_of(element: Element, path: str) -> list[str]:
    return [text_of(child) for child in element.findall(path) if text_of(child)]


@dataclass(frozen=True)
class _Where:
    """An entry of the catalogue, for refusals: ``Weakness CWE-287`` at its line."""

    path: Path
    record: str
    line: int

    def refusal(self, message: str, fix: str) -> InputError:
        return refuse(self.path, message, record=self.record, line=self.line, fix=fix)


def cwe_id(where: _Where, raw: str | None, attribute: str = "ID") -> str:
    if raw is None or not _NUMBER.fullmatch(raw.strip()):
        raise where.refusal(
            f"{attribute} '{(raw or '')[:40]}' is not a CWE number",
            fix='CWE ids are numbers, e.g. ID="287"',
        )
    return f"CWE-{int(raw)}"


def entry_basics(
    path: Path, element: Element, line: int, version: str
) -> tuple[str, _Where, dict[str, Any]]:
    identifier = cwe_id(_Where(path, element.tag, line), element.get("ID"))
    where = _Where(path, f"{element.tag} {identifier}", line)
    name = fold(element.get("Name") or "")
    if not name:
        raise where.refusal(
            "the Name attribute is missing or empty", fix="give every entry its Name"
        )
    data = {
        "name": name,
        "status": element.get("Status", ""),
        "mapping_usage": text_of(element.find("Mapping_Notes/Usage")),
        "categories": [],
        "framework": "cwe",
        "version": version,
        "url": f"https://cwe.mitre.org/data/definitions/{identifier[4:]}.html",
    }
    return identifier, where, data


def weakness_record(
    path: Path, element: Element, line: int, version: str
) -> tuple[Record, list[Relation]]:
    identifier, where, data = entry_basics(path, element, line, version)
    parents: list[str] = []
    primary_parent = ""
    related: list[dict[str, str]] = []
    for link in element.findall("Related_Weaknesses/Related_Weakness"):
        other = cwe_id(where, link.get("CWE_ID"), "Related_Weakness CWE_ID")
        nature = link.get("Nature", "")
        if nature == "ChildOf":
            if other not in parents:
                parents.append(other)
            if link.get("View_ID") == RESEARCH_VIEW and link.get("Ordinal") == "Primary":
                primary_parent = other
        elif {"nature": nature, "id": other} not in related:
            related.append({"nature": nature, "id": other})
    capecs = []
    for link in element.findall("Related_Attack_Patterns/Related_Attack_Pattern"):
        raw = (link.get("CAPEC_ID") or "").strip()
        if not _NUMBER.fullmatch(raw):
            raise where.refusal(
                f"CAPEC_ID '{raw[:40]}' is not a CAPEC number",
                fix='CAPEC ids are numbers, e.g. CAPEC_ID="114"',
            )
        capecs.append(f"CAPEC-{int(raw)}")
    data.update(
        {
            "entry_type": "weakness",
            "abstraction": element.get("Abstraction", ""),
            "structure": element.get("Structure", ""),
            "description": text_of(element.find("Description")),
            "extended_description": text_of(element.find("Extended_Description")),
            "likelihood": text_of(element.find("Likelihood_Of_Exploit")),
            "parents": parents,
            "primary_parent": primary_parent or (parents[0] if parents else ""),
            "related": related,
            "capecs": sorted(set(capecs), key=natural),
            "consequences": [
                {"scopes": texts_of(c, "Scope"), "impacts": texts_of(c, "Impact")}
                for c in element.findall("Common_Consequences/Consequence")
            ],
            "potential_mitigations": [
                mitigation_summary(m) for m in element.findall("Potential_Mitigations/Mitigation")
            ],
            "platforms": [
                f"{child.tag.replace('_', ' ')}: {child.get('Class') or child.get('Name')}"
                for child in element.findall("Applicable_Platforms/*")
                if child.get("Class") or child.get("Name")
            ],
        }
    )
    links = [Relation(identifier, REL_CHILD_OF, parent) for parent in parents]
    links += [Relation(identifier, REL_CAPEC, capec) for capec in capecs]
    return Record(WEAKNESS, identifier, data), links


def mitigation_summary(mitigation: Element) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "phases": texts_of(mitigation, "Phase"),
        "strategy": text_of(mitigation.find("Strategy")),
        "description": shorten(text_of(mitigation.find("Description")), MITIGATION_SUMMARY_CHARS),
        "effectiveness": text_of(mitigation.find("Effectiveness")),
    }
    if mitigation.get("Mitigation_ID"):
        summary["id"] = mitigation.get("Mitigation_ID")
    return summary


def category_record(
    path: Path, element: Element, line: int, version: str
) -> tuple[Record, list[Relation]]:
    identifier, where, data = entry_basics(path, element, line, version)
    members: list[str] = []
    for member in element.findall("Relationships/Has_Member"):
        other = cwe_id(where, member.get("CWE_ID"), "Has_Member CWE_ID")
        if other not in members:
            members.append(other)
    data.update(
        {
            "entry_type": "category",
            "description": text_of(element.find("Summary")),
            "members": members,
        }
    )
    return Record(WEAKNESS, identifier, data), []
