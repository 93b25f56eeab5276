"""The one interface every online source implements, and the shared single-file download.

A ``Source`` has a ``name``, a ``description`` and ``fetch(client, dest_dir, state,
progress)``, which downloads into ``dest_dir`` and returns the paths it wrote. ``plan(state)``
says what ``fetch`` would request, without the network (``kb sync --dry-run``). Each source's
base URL can be replaced (``SyncOptions.base_urls`` or ``$MDRISK_SYNC_<NAME>_URL``), which is
how tests point a source at a server on 127.0.0.1.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

from mdrisk.atomic import write_bytes_atomic
from mdrisk.kb.sync.archives import DEFAULT_MAX_UNPACKED
from mdrisk.kb.sync.client import DEFAULT_MAX_BYTES, HttpClient, Response
from mdrisk.kb.sync.errors import UnexpectedContent
from mdrisk.kb.sync.state import SyncState

Progress = Callable[[str, int, "int | None"], None]  # (what is happening, done, total)


def no_progress(_what: str, _done: int, _total: int | None) -> None:
    return None


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class SyncOptions:
    since: dt.datetime | None = None  # NVD lastModified and CSAF changes from this time on
    nvd_api_key: str | None = None
    base_urls: Mapping[str, str] = field(default_factory=dict)  # source name -> base URL
    max_download_bytes: int = DEFAULT_MAX_BYTES
    max_unpacked_bytes: int = DEFAULT_MAX_UNPACKED
    now: Callable[[], dt.datetime] = utc_now

    def __post_init__(self) -> None:
        if self.since is not None and self.since.tzinfo is None:
            # A date on the command line means that day in UTC, as NVD and CSAF count time.
            object.__setattr__(self, "since", self.since.replace(tzinfo=dt.UTC))


class Source(ABC):
    name: ClassVar[str]
    description: ClassVar[str]
    default_base_url: ClassVar[str]

    def __init__(self, options: SyncOptions | None = None) -> None:
        self.options = options or SyncOptions()

    @classmethod
    def env_var(cls) -> str:
        return f"MDRISK_SYNC_{cls.name.upper()}_URL"

    @property
    def base_url(self) -> str:
        override = self.options.base_urls.get(self.name) or os.environ.get(self.env_var())
        return (override or self.default_base_url).rstrip("/")

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    @abstractmethod
    def plan(self, state: SyncState) -> list[str]:
        """What ``fetch`` would request now, one line each; never touches the network."""

    @abstractmethod
    def fetch(
        self, client: HttpClient, dest_dir: Path, state: SyncState, progress: Progress = no_progress
    ) -> list[Path]:
        """Download into ``dest_dir``; returns the files written, each also recorded in
        ``state`` as waiting for import. Raises ``SyncError`` with a message for the analyst.
        """

    def save(self, dest_dir: Path, name: str, content: bytes, state: SyncState) -> Path:
        """Write one downloaded file atomically and remember it until it is imported."""
        target = dest_dir / name
        write_bytes_atomic(target, content)
        state.record_download(target)
        return target


class FileSource(Source):
    """A source published as a few whole files at fixed paths under the base URL.

    Downloads are conditional (ETag / Last-Modified) when the earlier copy is still in the
    cache, so an unchanged file is not downloaded again.
    """

    paths: ClassVar[tuple[str, ...]]

    def plan(self, state: SyncState) -> list[str]:
        return [f"GET {self.url(path)}" for path in self.paths]

    def unpack(self, path: str, response: Response) -> list[tuple[str, bytes]]:
        """(local file name, content) for what ``path`` brought; checks the format."""
        self.check(path, response.body)
        return [(PurePosixPath(path).name, response.body)]

    def check(self, path: str, body: bytes) -> None:
        """Raise ``UnexpectedContent`` unless ``body`` looks like what ``path`` publishes."""

    def fetch(
        self, client: HttpClient, dest_dir: Path, state: SyncState, progress: Progress = no_progress
    ) -> list[Path]:
        saved: list[Path] = []
        validators: dict[str, Any] = state.get("validators", {})
        for done, path in enumerate(self.paths):
            progress(f"{self.name}: {PurePosixPath(path).name}", done, len(self.paths))
            known = validators.get(path, {})
            headers = {}
            if known and all((dest_dir / n).is_file() for n in known.get("files", [])):
                if known.get("etag"):
                    headers["If-None-Match"] = known["etag"]
                if known.get("last_modified"):
                    headers["If-Modified-Since"] = known["last_modified"]
            response = client.get(
                self.url(path), headers=headers, max_bytes=self.options.max_download_bytes
            )
            if response.not_modified:
                continue
            files = self.unpack(path, response)
            names = []
            for name, content in files:
                saved.append(self.save(dest_dir, name, content, state))
                names.append(name)
            validators[path] = {
                "etag": response.headers.get("etag", ""),
                "last_modified": response.headers.get("last-modified", ""),
                "files": names,
            }
            state.set("validators", validators)
        progress(f"{self.name}: done", len(self.paths), len(self.paths))
        return saved


def parse_json(body: bytes, where: str, what: str) -> Any:
    """The JSON document in ``body``, or ``UnexpectedContent`` naming what was expected."""
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UnexpectedContent(
            f"{where}: expected {what}, got something that is not JSON "
            f"({error}; it starts {preview(body)})"
        ) from None


def preview(body: bytes, length: int = 60) -> str:
    text = body[:length].decode("utf-8", errors="replace")
    return repr(text + ("…" if len(body) > length else ""))


def check_stix_bundle(body: bytes, where: str) -> None:
    document = parse_json(body, where, "a STIX bundle")
    if (
        not isinstance(document, dict)
        or document.get("type") != "bundle"
        or not isinstance(document.get("objects"), list)
    ):
        raise UnexpectedContent(
            f"{where}: expected a STIX bundle (type 'bundle' with "
            "'objects'), got another JSON document"
        )
