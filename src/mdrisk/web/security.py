"""The app's own security: who may use it (a token off localhost), CSRF on forms, the Host a
browser may name, the body size, and the headers every response carries.

- Bound to a loopback address, the app answers only requests naming a loopback Host (a page
  elsewhere cannot reach it by DNS rebinding); bound elsewhere, every request needs the token,
  as ``Authorization: Bearer TOKEN`` or the session cookie that ``/login`` sets.
- A form POST carries the CSRF token of its page (double submit: the same random value in a
  SameSite=Strict cookie and in the form). A POST or PUT under ``/api/`` must be JSON (which
  no cross-site form can send) or carry the bearer token.
- Every response has the report's Content-Security-Policy, widened only for what the app
  needs from itself: its own script and style sheets, its own images and event streams,
  forms posting to itself.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from starlette.requests import Request

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}
SESSION_COOKIE = "mdrisk_session"
CSRF_COOKIE = "mdrisk_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
MAX_BODY_BYTES = 12 * 1024 * 1024
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
OPEN_PATHS = ("/login", "/static/")
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # Same-origin: a form POST then carries this page's Origin (no-referrer would send null).
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def is_loopback(host: str) -> bool:
    if host.strip("[]") in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    return secrets.token_urlsafe(24)


@dataclass
class Security:
    """``token``: required on every request when set (it must be, off localhost)."""

    host: str = "127.0.0.1"
    token: str | None = None
    # Extra Host names a loopback-bound app answers (tests name their own).
    allowed_hosts: set[str] = field(default_factory=set)
    _secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    def __post_init__(self) -> None:
        if not is_loopback(self.host) and not self.token:
            raise ValueError(
                f"serving on {self.host} (not this computer only) needs a token: "
                "give --token or let mdrisk generate one"
            )

    @property
    def session_value(self) -> str:
        return hmac.new(self._secret, (self.token or "").encode(), hashlib.sha256).hexdigest()

    def host_allowed(self, request: Request) -> bool:
        if not is_loopback(self.host):
            return True
        name = urlsplit(f"//{request.headers.get('host', '')}").hostname or ""
        return is_loopback(name) or name in self.allowed_hosts

    def bearer(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        return (
            self.token is not None
            and scheme.casefold() == "bearer"
            and hmac.compare_digest(value.strip().encode(), self.token.encode())
        )

    def authenticated(self, request: Request) -> bool:
        if self.token is None or request.url.path.startswith(OPEN_PATHS):
            return True
        cookie = request.cookies.get(SESSION_COOKIE, "")
        return self.bearer(request) or hmac.compare_digest(
            cookie.encode(), self.session_value.encode()
        )

    def token_matches(self, given: str) -> bool:
        return self.token is not None and hmac.compare_digest(
            given.strip().encode(), self.token.encode()
        )

    @staticmethod
    def csrf_of(request: Request) -> str:
        """The page's CSRF token: the cookie's, or a new one the response will set."""
        token = request.cookies.get(CSRF_COOKIE, "")
        if len(token) < 32:
            token = secrets.token_urlsafe(32)
        return token

    def csrf_valid(self, request: Request, given: str) -> bool:
        cookie = request.cookies.get(CSRF_COOKIE, "")
        return len(cookie) >= 32 and hmac.compare_digest(cookie.encode(), given.encode())

    def api_write_allowed(self, request: Request) -> bool:
        """A write under /api/: JSON, a CSRF header matching the cookie, or the bearer."""
        media = request.headers.get("content-type", "").split(";")[0].strip().casefold()
        return (
            media == "application/json"
            or self.bearer(request)
            or self.csrf_valid(request, request.headers.get(CSRF_HEADER, ""))
        )

    @staticmethod
    def same_origin(request: Request) -> bool:
        """A browser's Origin, when it sends one, names this server ("null", from a privacy
        setting or a sandboxed frame, proves nothing either way: the CSRF token and the JSON
        rule still hold)."""
        origin = request.headers.get("origin")
        if origin is None or origin == "null":
            return True
        return urlsplit(origin).netloc == request.headers.get("host", "")
