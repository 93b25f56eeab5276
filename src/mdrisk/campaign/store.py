"""The results of a campaign: one SQLite row per finished task, committed as it arrives.

``DIR/results.sqlite`` holds the campaign's fingerprint (:meth:`Campaign.fingerprint`) and a
row per task (its key, what it covered, its payload or its error, how long it took). A
stopped campaign loses only the tasks that had not come back; run again, it skips every task
whose row holds a payload (a task recorded with an error is run again). Results written for
another campaign definition are refused unless the caller restarts (which clears them).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mdrisk.campaign.batch import TaskResult, TaskSpec
from mdrisk.errors import InputError, Problem

FILE = "results.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tasks (
    key TEXT PRIMARY KEY,
    ordinal INTEGER NOT NULL,
    class TEXT NOT NULL,
    attack TEXT NOT NULL,
    patients TEXT NOT NULL,
    first_day INTEGER NOT NULL,
    days INTEGER NOT NULL,
    patient_days INTEGER NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    seconds REAL NOT NULL,
    payload TEXT
);
"""


@dataclass(frozen=True)
class StoredTask:
    key: str
    ordinal: int
    class_key: str
    attack: str
    patient_days: int
    status: str
    error: str | None
    seconds: float
    payload: dict[str, Any] | None


class ResultStore:
    """The results database of one campaign folder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(path)
        self.db.executescript(_SCHEMA)

    @classmethod
    def open(
        cls, out_dir: Path, fingerprint: str, campaign_file: str, restart: bool = False
    ) -> ResultStore:
        """The store of ``out_dir`` for the campaign of ``fingerprint``. InputError when it
        holds results of another definition and ``restart`` is false."""
        out_dir.mkdir(parents=True, exist_ok=True)
        store = cls(out_dir / FILE)
        written = store.meta("fingerprint")
        if written is not None and written != fingerprint:
            if not restart:
                store.close()
                raise InputError(
                    campaign_file,
                    [
                        Problem(
                            f"{out_dir} holds results of another definition of this campaign "
                            f"(the file, its model or the mapping changed since "
                            f"{store_path_note(out_dir)})",
                            fix="run it with --restart to discard them, or choose another --out",
                        )
                    ],
                )
        if written != fingerprint:
            with store.db:
                store.db.execute("DELETE FROM tasks")
                store.db.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('fingerprint', ?)", (fingerprint,)
                )
        return store

    @classmethod
    def read(cls, out_dir: Path) -> ResultStore:
        path = out_dir / FILE
        if not path.is_file():
            raise InputError(
                str(out_dir),
                [
                    Problem(
                        f"no campaign results ({FILE}) here",
                        fix="give the --out folder of 'mdrisk campaign run'",
                    )
                ],
            )
        return cls(path)

    def meta(self, name: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, name: str, value: str) -> None:
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (name, value))

    def done(self) -> set[str]:
        """Keys of the tasks with a result (not those recorded with an error)."""
        return {r[0] for r in self.db.execute("SELECT key FROM tasks WHERE status = 'ok'")}

    def record(self, task: TaskSpec, result: TaskResult) -> None:
        """One task's row, committed at once."""
        payload = None if result.payload is None else json.dumps(result.payload)
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO tasks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    task.key,
                    task.ordinal,
                    task.class_key,
                    task.attack,
                    ",".join(task.patients),
                    task.first_day,
                    task.days,
                    task.patient_days,
                    "ok" if result.error is None else "error",
                    result.error,
                    result.seconds,
                    payload,
                ),
            )

    def tasks(self) -> Iterator[StoredTask]:
        """Every row, in task order."""
        for row in self.db.execute(
            "SELECT key, ordinal, class, attack, patient_days, status, error, seconds, payload "
            "FROM tasks ORDER BY ordinal"
        ):
            yield StoredTask(
                key=row[0],
                ordinal=row[1],
                class_key=row[2],
                attack=row[3],
                patient_days=row[4],
                status=row[5],
                error=row[6],
                seconds=row[7],
                payload=None if row[8] is None else json.loads(row[8]),
            )

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def store_path_note(out_dir: Path) -> str:
    return f"the results in {out_dir / FILE} were written"
