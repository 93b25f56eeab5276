"""Find and read every input of the landscape in a data folder: the corpus.

The folder is laid out like ``../shared/data`` (each source in its own sub-folder, named as
below); openFDA JSON files (device events, recalls, 510(k)s: what ``mdrisk landscape sync``
writes) are read from ``<data>/openfda`` and any folder given with ``--openfda``. A source
that is absent is listed as absent; a file that is present but malformed stops the run with
an InputError naming the file and record (nothing is skipped quietly).

Loading is a list of steps so a caller can show progress; ``load_corpus`` runs them all.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from mdrisk.errors import InputError, Problem
from mdrisk.landscape.importers.babic_devices import BabicDevicesImporter
from mdrisk.landscape.importers.base import label
from mdrisk.landscape.importers.csaf_advisories import CsafAdvisoryImporter
from mdrisk.landscape.importers.cwe_names import read_cwe_names
from mdrisk.landscape.importers.fda_ai_csv import FdaAiCsvImporter
from mdrisk.landscape.importers.fda_ai_json import FdaAiJsonImporter
from mdrisk.landscape.importers.fda_ai_xml import FdaAiXmlImporter
from mdrisk.landscape.importers.ics_table import IcsTableImporter
from mdrisk.landscape.importers.kev import KevCatalogImporter
from mdrisk.landscape.importers.maude_rows import MaudeRowsImporter
from mdrisk.landscape.importers.openfda_clearance import OpenFdaClearanceImporter
from mdrisk.landscape.importers.openfda_event import OpenFdaEventImporter
from mdrisk.landscape.importers.openfda_recall import OpenFdaRecallImporter
from mdrisk.landscape.records import (
    AdverseEvent,
    AECoverage,
    AIDevice,
    Clearance,
    DataNote,
    IcsAdvisoryRow,
    KevEntry,
    MedicalAdvisory,
    Recall,
)

AI_XML = "fda-ai-enabled-devices/ai-ml-enabled-devices-xml.xml"
AI_JSON = "fda-ai-enabled-devices/ai-ml-enabled-devices-enriched.json"
AI_CSV_MAY_2024 = "medai-babic-2025/fda_ai_devices_may2024.csv"
BABIC_DEVICES = "medai-babic-2025/823_fda_devices_withAEs.csv"
BABIC_EVENTS = "medai-babic-2025/943_AEs_for_fda_devices.csv"
CSAF_DIR = "cisa-csaf-icsma"
ICS_TABLE = "ics-advisory-project/CISA_ICS_ADV_Master.csv"
KEV = "cisa-kev/known_exploited_vulnerabilities.json"
KEV_CSV = "cisa-kev/known_exploited_vulnerabilities.csv"
CWE_DIR = "mitre-cwe"
OPENFDA_DIR = "openfda"
_OPENFDA_KINDS = (
    (re.compile(r'"mdr_report_key"\s*:'), OpenFdaEventImporter),
    (
        re.compile(r'"(res_event_number|product_res_number|recalling_firm)"\s*:'),
        OpenFdaRecallImporter,
    ),
    (re.compile(r'"k_number"\s*:'), OpenFdaClearanceImporter),
)


@dataclass(frozen=True)
class SourceInfo:
    name: str  # what it is
    file: str  # relative to the data folder, or as given
    records: int
    present: bool = True


@dataclass
class Corpus:
    """Everything read, as typed records; analysis functions take it as their input."""

    data_dir: Path
    devices: list[AIDevice] = field(default_factory=list)
    device_list_file: str = ""
    may_2024_list: list[AIDevice] = field(default_factory=list)
    coverage: list[AECoverage] = field(default_factory=list)
    events: list[AdverseEvent] = field(default_factory=list)
    recalls: list[Recall] = field(default_factory=list)
    clearances: list[Clearance] = field(default_factory=list)
    csaf: list[MedicalAdvisory] = field(default_factory=list)
    ics_rows: list[IcsAdvisoryRow] = field(default_factory=list)
    kev: list[KevEntry] = field(default_factory=list)
    cwe_names: dict[str, str] = field(default_factory=dict)
    notes: list[DataNote] = field(default_factory=list)
    sources: list[SourceInfo] = field(default_factory=list)


@dataclass(frozen=True)
class LoadStep:
    label: str
    run: Callable[[Corpus], None]


def _present(corpus: Corpus, name: str, path: Path, records: int) -> None:
    try:
        shown = str(path.relative_to(corpus.data_dir))
    except ValueError:
        shown = str(path)
    corpus.sources.append(SourceInfo(name, shown, records))


def _absent(corpus: Corpus, name: str, relative: str) -> None:
    corpus.sources.append(SourceInfo(name, relative, 0, present=False))


def _device_list(corpus: Corpus) -> None:
    xml, enriched = corpus.data_dir / AI_XML, corpus.data_dir / AI_JSON
    devices: list[AIDevice] = []
    if xml.is_file():
        devices = FdaAiXmlImporter().parse(xml).records
        _present(corpus, "FDA AI-enabled device list (XML)", xml, len(devices))
        corpus.device_list_file = label(xml)
    else:
        _absent(corpus, "FDA AI-enabled device list (XML)", AI_XML)
    if enriched.is_file():
        extra = FdaAiJsonImporter().parse(enriched).records
        _present(corpus, "FDA AI-enabled device list (enriched JSON)", enriched, len(extra))
        if devices:
            devices = _merge_enriched(corpus, devices, extra, label(enriched))
        else:
            devices = extra
            corpus.device_list_file = label(enriched)
    else:
        _absent(corpus, "FDA AI-enabled device list (enriched JSON)", AI_JSON)
    corpus.devices = devices


def _merge_enriched(
    corpus: Corpus, devices: list[AIDevice], enriched: list[AIDevice], enriched_label: str
) -> list[AIDevice]:
    """The XML's devices with the JSON's received dates and summary links; a device in one
    list and not the other is noted."""
    by_submission = {device.submission: device for device in enriched}
    listed = {device.submission for device in devices}
    merged = []
    for device in devices:
        extra = by_submission.get(device.submission)
        if extra is None:
            corpus.notes.append(
                DataNote(
                    file=enriched_label,
                    record=device.submission,
                    message="in the XML list but not in the JSON",
                )
            )
            merged.append(device)
            continue
        merged.append(
            device.model_copy(
                update={"received_date": extra.received_date, "summary_url": extra.summary_url}
            )
        )
    for submission in sorted(set(by_submission) - listed):
        corpus.notes.append(
            DataNote(
                file=enriched_label,
                record=submission,
                message="in the JSON list but not in the XML; left out",
            )
        )
    return merged


def _may_2024(corpus: Corpus) -> None:
    path = corpus.data_dir / AI_CSV_MAY_2024
    if not path.is_file():
        _absent(corpus, "FDA AI-enabled device list, May 2024 (CSV)", AI_CSV_MAY_2024)
        return
    corpus.may_2024_list = FdaAiCsvImporter().parse(path).records
    _present(corpus, "FDA AI-enabled device list, May 2024 (CSV)", path, len(corpus.may_2024_list))
    if not corpus.devices:
        corpus.devices = corpus.may_2024_list
        corpus.device_list_file = label(path)


def _babic(corpus: Corpus) -> None:
    devices, events = corpus.data_dir / BABIC_DEVICES, corpus.data_dir / BABIC_EVENTS
    if devices.is_file():
        corpus.coverage = BabicDevicesImporter().parse(devices).records
        _present(
            corpus,
            "AI/ML 510(k) devices searched in MAUDE (Babic et al.)",
            devices,
            len(corpus.coverage),
        )
    else:
        _absent(corpus, "AI/ML 510(k) devices searched in MAUDE (Babic et al.)", BABIC_DEVICES)
    if events.is_file():
        found = MaudeRowsImporter().parse(events).records
        corpus.events += found
        _present(corpus, "MAUDE reports by report key (Babic et al.)", events, len(found))
    else:
        _absent(corpus, "MAUDE reports by report key (Babic et al.)", BABIC_EVENTS)


def openfda_files(folders: list[Path]) -> list[Path]:
    """Every *.json in the folders; hidden files (sync's request counter) are not records."""
    files: set[Path] = set()
    for folder in folders:
        if folder.is_file():
            files.add(folder)
        elif folder.is_dir():
            files.update(
                path
                for path in folder.rglob("*.json")
                if path.is_file() and not path.name.startswith(".")
            )
    return sorted(files)


def _openfda(corpus: Corpus, path: Path) -> None:
    with path.open("rb") as handle:
        head = handle.read(65536).decode("utf-8", errors="replace")
    for pattern, importer_class in _OPENFDA_KINDS:
        if pattern.search(head):
            importer = importer_class()
            parsed = importer.parse(path)
            corpus.notes += parsed.notes
            if isinstance(importer, OpenFdaEventImporter):
                corpus.events += parsed.records  # type: ignore[arg-type]
            elif isinstance(importer, OpenFdaRecallImporter):
                corpus.recalls += parsed.records  # type: ignore[arg-type]
            else:
                corpus.clearances += parsed.records  # type: ignore[arg-type]
            _present(corpus, importer.description, path, len(parsed.records))
            return
    raise InputError(
        str(path),
        [
            Problem(
                "not an openFDA device event, recall or 510(k) file (no mdr_report_key, "
                "res_event_number or k_number in its first records)",
                field="results",
                fix="keep only openFDA device JSON in the openFDA folder",
            )
        ],
    )


def _csaf(corpus: Corpus, files: list[Path]) -> None:
    importer = CsafAdvisoryImporter()
    for path in files:
        corpus.csaf += importer.parse(path).records
    if files:
        corpus.sources.append(
            SourceInfo(
                "CISA medical advisories (CSAF 2.0)",
                f"{CSAF_DIR}/ ({len(files)} files)",
                len(corpus.csaf),
            )
        )
    else:
        _absent(corpus, "CISA medical advisories (CSAF 2.0)", CSAF_DIR)


def _ics_table(corpus: Corpus) -> None:
    path = corpus.data_dir / ICS_TABLE
    if not path.is_file():
        _absent(corpus, "CISA ICS advisory table (ICS Advisory Project)", ICS_TABLE)
        return
    parsed = IcsTableImporter().parse(path)
    corpus.ics_rows = parsed.records
    corpus.notes += parsed.notes
    _present(corpus, "CISA ICS advisory table (ICS Advisory Project)", path, len(parsed.records))


def _kev(corpus: Corpus) -> None:
    path = corpus.data_dir / KEV
    if not path.is_file():
        path = corpus.data_dir / KEV_CSV
    if not path.is_file():
        _absent(corpus, "CISA Known Exploited Vulnerabilities", KEV)
        return
    corpus.kev = KevCatalogImporter().parse(path).records
    _present(corpus, "CISA Known Exploited Vulnerabilities", path, len(corpus.kev))


def _cwe(corpus: Corpus) -> None:
    catalogues = sorted((corpus.data_dir / CWE_DIR).glob("cwec_v*.xml"))
    if not catalogues:
        _absent(corpus, "CWE names (MITRE CWE)", CWE_DIR)
        return
    corpus.cwe_names = read_cwe_names(catalogues[-1])
    _present(corpus, "CWE names (MITRE CWE)", catalogues[-1], len(corpus.cwe_names))


def read_device_list(data_dir: Path) -> list[AIDevice]:
    """FDA's AI-enabled device list alone (XML, else JSON, else the May 2024 CSV)."""
    corpus = Corpus(data_dir)
    _device_list(corpus)
    if not corpus.devices:
        _may_2024(corpus)
    return corpus.devices


def load_steps(data_dir: Path, openfda: list[Path] | None = None) -> list[LoadStep]:
    """Every step of reading ``data_dir`` (and the openFDA folders), in order."""
    folders = [data_dir / OPENFDA_DIR] + list(openfda or [])
    steps = [
        LoadStep("FDA AI-enabled device list", _device_list),
        LoadStep("FDA list of May 2024", _may_2024),
        LoadStep("MAUDE reports (Babic et al.)", _babic),
    ]
    steps += [
        LoadStep(f"openFDA {path.name}", partial(_openfda, path=path))
        for path in openfda_files(folders)
    ]
    csaf_files = sorted((data_dir / CSAF_DIR).glob("*/*.json")) + sorted(
        (data_dir / CSAF_DIR).glob("*.json")
    )
    steps += [
        LoadStep("CISA medical advisories (CSAF)", lambda corpus: _csaf(corpus, csaf_files)),
        LoadStep("ICS advisory table", _ics_table),
        LoadStep("KEV catalog", _kev),
        LoadStep("CWE names", _cwe),
    ]
    return steps


def load_corpus(
    data_dir: Path, openfda: list[Path] | None = None, on_step: Callable[[str], None] | None = None
) -> Corpus:
    """Read everything; ``on_step(label)`` is called before each step."""
    if not data_dir.is_dir():
        raise InputError(
            str(data_dir),
            [
                Problem(
                    "the data folder does not exist", fix="give --data DIR or set MDRISK_DATA_DIR"
                )
            ],
        )
    corpus = Corpus(data_dir)
    for step in load_steps(data_dir, openfda):
        if on_step is not None:
            on_step(step.label)
        step.run(corpus)
    if not any(source.present for source in corpus.sources):
        raise InputError(
            str(data_dir),
            [
                Problem(
                    "none of the landscape's sources is in this folder (looked for "
                    f"{AI_XML}, {BABIC_EVENTS}, {CSAF_DIR}/, {ICS_TABLE}, {KEV}, ...)",
                    fix="point --data at the shared public data folder (../shared/data)",
                )
            ],
        )
    return corpus
