"""What a source remembers between runs, in ``<downloads>/<source>/.sync-state.json``.

Two things: the source's own progress (NVD's next page, ETags, CSAF timestamps), and the files
downloaded but not yet imported. Every change is saved atomically at once, so a run killed at
any point leaves a state the next run can continue from. The file name starts with a dot so a
``kb import`` of the downloads folder skips it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mdrisk.atomic import write_text_atomic

STATE_FILE = ".sync-state.json"
STATE_VERSION = 1


class SyncState:
    def __init__(self, path: Path, data: dict[str, Any] | None = None, warning: str = "") -> None:
        self.path = path
        self.data: dict[str, Any] = data if data is not None else {}
        self.data.setdefault("version", STATE_VERSION)
        self.data.setdefault("pending_import", [])
        self.warning = warning  # set when an unreadable state file was replaced by a new one

    @classmethod
    def load(cls, folder: Path) -> SyncState:
        """The state kept in ``folder``; a missing or unreadable file gives a fresh state."""
        path = folder / STATE_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(path)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            return cls(path, warning=f"{path}: unreadable sync state ({error}); starting afresh")
        if (
            not isinstance(data, dict)
            or data.get("version") != STATE_VERSION
            or not isinstance(data.get("pending_import", []), list)
        ):
            return cls(path, warning=f"{path}: sync state of another version; starting afresh")
        return cls(path, data)

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.data[key] = value
        self.save()

    def save(self) -> None:
        text = json.dumps(self.data, indent=1, sort_keys=True, ensure_ascii=False)
        write_text_atomic(self.path, text + "\n")

    # --- files waiting to be imported ------------------------------------------------------

    def record_download(self, path: Path) -> None:
        """Remember ``path`` (inside this source's folder) until an import has taken it."""
        name = path.relative_to(self.path.parent).as_posix()
        pending = self.data["pending_import"]
        if name not in pending:
            pending.append(name)
        self.save()

    def pending_files(self) -> list[Path]:
        """Downloaded files not yet imported that are still on disk, in download order."""
        folder = self.path.parent
        found = []
        for name in self.data["pending_import"]:
            if not isinstance(name, str) or Path(name).is_absolute() or ".." in Path(name).parts:
                continue
            if (folder / name).is_file():
                found.append(folder / name)
        return found

    def mark_imported(self, paths: list[Path]) -> None:
        folder = self.path.parent
        done = {p.relative_to(folder).as_posix() for p in paths if p.is_relative_to(folder)}
        self.data["pending_import"] = [n for n in self.data["pending_import"] if n not in done]
        self.save()
