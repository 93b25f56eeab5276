"""The workspace: devices, their model versions and assessments, and the analyst's decisions
with every change kept in an audit trail, in one SQLite file in the workspace folder.

Beside it, per device, the files the CLI reads when it runs an analysis: the current model
(``devices/<id>/model.yaml``), the decisions file (``decisions.yaml``) and the answers file
(``answers.yaml``); each assessment is ``assessments/<id>.json``. Every path is built from an
integer id the database gave, never from a name a request carried.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from mdrisk.atomic import write_text_atomic

DATABASE = "workspace.sqlite"
SCHEMA = """
CREATE TABLE IF NOT EXISTS devices (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    origin TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS model_versions (
    id INTEGER PRIMARY KEY,
    device_id INTEGER NOT NULL REFERENCES devices(id),
    number INTEGER NOT NULL,
    text TEXT NOT NULL,
    note TEXT NOT NULL,
    created TEXT NOT NULL,
    UNIQUE (device_id, number)
);
CREATE TABLE IF NOT EXISTS assessments (
    id INTEGER PRIMARY KEY,
    device_id INTEGER NOT NULL REFERENCES devices(id),
    model_version_id INTEGER NOT NULL REFERENCES model_versions(id),
    created TEXT NOT NULL,
    options TEXT NOT NULL,
    summary TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS decisions (
    device_id INTEGER NOT NULL REFERENCES devices(id),
    key TEXT NOT NULL,
    status TEXT NOT NULL,
    justification TEXT NOT NULL,
    owner TEXT NOT NULL,
    date TEXT NOT NULL,
    vex_justification TEXT,
    PRIMARY KEY (device_id, key)
);
CREATE TABLE IF NOT EXISTS decision_audit (
    id INTEGER PRIMARY KEY,
    device_id INTEGER NOT NULL REFERENCES devices(id),
    key TEXT NOT NULL,
    who TEXT NOT NULL,
    at TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    why TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS answers (
    device_id INTEGER PRIMARY KEY REFERENCES devices(id),
    text TEXT NOT NULL,
    updated TEXT NOT NULL
);
"""


def now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Device:
    id: int
    name: str
    origin: str  # "example bgms", "upload model.yaml", "documents", "sbom"
    created: str


@dataclass(frozen=True)
class ModelVersion:
    id: int
    device_id: int
    number: int
    text: str
    note: str
    created: str


@dataclass(frozen=True)
class AssessmentRow:
    id: int
    device_id: int
    model_version_id: int
    created: str
    options: str  # "kb", "kb, simulate"
    summary: str


@dataclass(frozen=True)
class DecisionRow:
    key: str
    status: str
    justification: str
    owner: str
    date: str
    vex_justification: str | None = None


@dataclass(frozen=True)
class AuditEntry:
    key: str
    who: str
    at: str
    from_status: str | None
    to_status: str
    why: str


class Workspace:
    """One workspace folder. Safe to share between threads: each call opens its own
    connection; writes are serialised by a lock (SQLite allows one writer anyway)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "assessments").mkdir(exist_ok=True)
        (folder / "devices").mkdir(exist_ok=True)
        (folder / "runs").mkdir(exist_ok=True)
        self._write_lock = threading.Lock()
        # One connection per thread, kept: opening one costs more than most queries here.
        self._local = threading.local()
        with self._connect() as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.folder / DATABASE, timeout=30)
            connection.execute("PRAGMA foreign_keys=ON")
            self._local.connection = connection
        with connection:
            yield connection

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        with self._write_lock, self._connect() as connection:
            yield connection

    # Paths: built from integer ids only.

    def device_folder(self, device_id: int) -> Path:
        folder = self.folder / "devices" / str(int(device_id))
        folder.mkdir(exist_ok=True)
        return folder

    def model_file(self, device_id: int) -> Path:
        return self.device_folder(device_id) / "model.yaml"

    def decisions_file(self, device_id: int) -> Path:
        return self.device_folder(device_id) / "decisions.yaml"

    def answers_file(self, device_id: int) -> Path:
        return self.device_folder(device_id) / "answers.yaml"

    def assessment_file(self, assessment_id: int) -> Path:
        return self.folder / "assessments" / f"{int(assessment_id)}.json"

    # Devices and model versions.

    def add_device(self, name: str, origin: str, model_text: str, note: str) -> Device:
        created = now()
        with self._writing() as connection:
            cursor = connection.execute(
                "INSERT INTO devices (name, origin, created) VALUES (?, ?, ?)",
                (name, origin, created),
            )
            device_id = int(cursor.lastrowid or 0)
            connection.execute(
                "INSERT INTO model_versions (device_id, number, text, note, created) "
                "VALUES (?, 1, ?, ?, ?)",
                (device_id, model_text, note, created),
            )
        write_text_atomic(self.model_file(device_id), model_text)
        return Device(device_id, name, origin, created)

    def devices(self) -> list[Device]:
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT id, name, origin, created FROM devices ORDER BY id"
            ).fetchall()
        return [Device(*row) for row in rows]

    def device(self, device_id: int) -> Device | None:
        with self._connect() as connection:
            row = connection.execute(
                "SELECT id, name, origin, created FROM devices WHERE id = ?", (device_id,)
            ).fetchone()
        return Device(*row) if row else None

    def add_model_version(self, device_id: int, text: str, note: str) -> ModelVersion:
        created = now()
        with self._writing() as connection:
            (last,) = connection.execute(
                "SELECT COALESCE(MAX(number), 0) FROM model_versions WHERE device_id = ?",
                (device_id,),
            ).fetchone()
            cursor = connection.execute(
                "INSERT INTO model_versions (device_id, number, text, note, created) "
                "VALUES (?, ?, ?, ?, ?)",
                (device_id, last + 1, text, note, created),
            )
            version = ModelVersion(
                int(cursor.lastrowid or 0), device_id, last + 1, text, note, created
            )
        write_text_atomic(self.model_file(device_id), text)
        return version

    def model_versions(self, device_id: int) -> list[ModelVersion]:
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT id, device_id, number, text, note, created FROM model_versions "
                "WHERE device_id = ? ORDER BY number",
                (device_id,),
            ).fetchall()
        return [ModelVersion(*row) for row in rows]

    def latest_model(self, device_id: int) -> ModelVersion | None:
        versions = self.model_versions(device_id)
        return versions[-1] if versions else None

    # Assessments.

    def add_assessment(
        self, device_id: int, model_version_id: int, options: str, summary: str, json_file: Path
    ) -> AssessmentRow:
        """Record an assessment and move its file (written by the worker) into place."""
        created = now()
        with self._writing() as connection:
            cursor = connection.execute(
                "INSERT INTO assessments (device_id, model_version_id, created, options, "
                "summary) VALUES (?, ?, ?, ?, ?)",
                (device_id, model_version_id, created, options, summary),
            )
            assessment_id = int(cursor.lastrowid or 0)
            json_file.replace(self.assessment_file(assessment_id))
        return AssessmentRow(assessment_id, device_id, model_version_id, created, options, summary)

    def assessments(self, device_id: int) -> list[AssessmentRow]:
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT id, device_id, model_version_id, created, options, summary "
                "FROM assessments WHERE device_id = ? ORDER BY id",
                (device_id,),
            ).fetchall()
        return [AssessmentRow(*row) for row in rows]

    def assessment(self, assessment_id: int) -> AssessmentRow | None:
        with self._connect() as connection:
            row = connection.execute(
                "SELECT id, device_id, model_version_id, created, options, summary "
                "FROM assessments WHERE id = ?",
                (assessment_id,),
            ).fetchone()
        return AssessmentRow(*row) if row else None

    # Decisions and their audit trail.

    def decisions(self, device_id: int) -> list[DecisionRow]:
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT key, status, justification, owner, date, vex_justification "
                "FROM decisions WHERE device_id = ? ORDER BY key",
                (device_id,),
            ).fetchall()
        return [DecisionRow(*row) for row in rows]

    def set_decision(self, device_id: int, decision: DecisionRow, why: str) -> None:
        """Record ``decision`` (replacing the one on its key) and the change in the audit
        trail, then rewrite the device's decisions file, in one transaction: the file is
        written before the transaction commits, so a failure leaves both as they were."""
        with self._writing() as connection:
            before = connection.execute(
                "SELECT status FROM decisions WHERE device_id = ? AND key = ?",
                (device_id, decision.key),
            ).fetchone()
            connection.execute(
                "INSERT OR REPLACE INTO decisions (device_id, key, status, justification, "
                "owner, date, vex_justification) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    device_id,
                    decision.key,
                    decision.status,
                    decision.justification,
                    decision.owner,
                    decision.date,
                    decision.vex_justification,
                ),
            )
            connection.execute(
                "INSERT INTO decision_audit (device_id, key, who, at, from_status, to_status, "
                "why) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    device_id,
                    decision.key,
                    decision.owner,
                    now(),
                    before[0] if before else None,
                    decision.status,
                    why,
                ),
            )
            rows = connection.execute(
                "SELECT key, status, justification, owner, date, vex_justification "
                "FROM decisions WHERE device_id = ? ORDER BY key",
                (device_id,),
            ).fetchall()
            write_text_atomic(
                self.decisions_file(device_id), decisions_yaml([DecisionRow(*r) for r in rows])
            )

    def audit_trail(self, device_id: int, key: str | None = None) -> list[AuditEntry]:
        query = (
            "SELECT key, who, at, from_status, to_status, why FROM decision_audit "
            "WHERE device_id = ?"
        )
        parameters: tuple[object, ...] = (device_id,)
        if key is not None:
            query += " AND key = ?"
            parameters += (key,)
        with self._connect() as connection:
            rows = connection.execute(query + " ORDER BY id", parameters).fetchall()
        return [AuditEntry(*row) for row in rows]

    # The answers file.

    def answers_text(self, device_id: int) -> str:
        with self._connect() as connection:
            row = connection.execute(
                "SELECT text FROM answers WHERE device_id = ?", (device_id,)
            ).fetchone()
        return str(row[0]) if row else ""

    def set_answers(self, device_id: int, text: str) -> None:
        with self._writing() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO answers (device_id, text, updated) VALUES (?, ?, ?)",
                (device_id, text, now()),
            )
            write_text_atomic(self.answers_file(device_id), text)


def decisions_yaml(rows: list[DecisionRow]) -> str:
    """The decisions file the CLI reads (``--decisions``), from the recorded decisions."""
    entries: dict[str, dict[str, str]] = {}
    for row in rows:
        entry = {"status": row.status, "owner": row.owner, "date": row.date}
        if row.justification:
            entry["justification"] = row.justification
        if row.vex_justification:
            entry["vex_justification"] = row.vex_justification
        entries[row.key] = entry
    header = "# Written by 'mdrisk serve' from the workspace's decisions; edit them there.\n"
    body = yaml.safe_dump(
        {"schema_version": 1, "decisions": entries}, sort_keys=True, allow_unicode=True
    )
    return header + body
