"""Why a sync of one source could not finish: each error says which host and what to do."""

from __future__ import annotations

OFFLINE_HINT = "kb sync needs the network; everything else works offline"


class SyncError(Exception):
    """A source could not be fetched. The message is for the analyst, never a traceback."""


class Unreachable(SyncError):
    """The host could not be reached at all (no network, DNS failure, connection refused)."""

    def __init__(self, host: str, reason: object) -> None:
        super().__init__(f"cannot reach {host}: {reason}; {OFFLINE_HINT}")
        self.host = host


class ConnectionLost(SyncError):
    """The connection broke or timed out on every attempt."""

    def __init__(self, host: str, reason: object, attempts: int) -> None:
        super().__init__(
            f"connection to {host} lost ({reason}) on {attempts} attempt(s); "
            "run 'mdrisk kb sync' again later: it resumes where it stopped"
        )
        self.host = host
        self.reason = reason

    def after(self, attempts: int) -> ConnectionLost:
        return ConnectionLost(self.host, self.reason, attempts)


class HttpStatusError(SyncError):
    """The server answered with an error status we do not retry, or kept failing."""

    def __init__(
        self, host: str, status: int, url: str, detail: str = "", attempts: int = 1
    ) -> None:
        text = f"{host} answered HTTP {status} for {url}"
        if detail:
            text += f" ({detail})"
        if attempts > 1:
            text += f" after {attempts} attempts"
        super().__init__(text)
        self.host = host
        self.status = status
        self.url = url
        self.detail = detail

    def after(self, attempts: int) -> HttpStatusError:
        return HttpStatusError(self.host, self.status, self.url, self.detail, attempts)


class UnexpectedContent(SyncError):
    """The server sent something that is not the format the source publishes."""


class UnsafeArchive(SyncError):
    """A downloaded archive was refused: too large unpacked, or a path escaping its folder."""
