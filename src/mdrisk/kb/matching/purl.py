"""Package URLs: "pkg:type/namespace/name@version?qualifiers#subpath" read into parts.

The checks below give located messages; packageurl-python (the purl specification's Python
implementation) then reads the parts: each type's normalisation, percent-decoding,
qualifiers. In: a purl string such as "pkg:nuget/Newtonsoft.Json@9.0.1" or
"pkg:github/wolfssl/wolfssl@v4.8.1". Out: a ``Purl``; ``PurlError`` (a ValueError) says what is
wrong. Names are compared case-insensitively for the types whose registries are (see the
purl spec: github, bitbucket, pypi, npm names are lower-cased; pypi "_" is "-").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from packageurl import PackageURL

_MAX_PURL_CHARS = 2048
_CASE_INSENSITIVE = {"github", "bitbucket", "pypi", "npm", "nuget", "golang", "hex", "composer"}


class PurlError(ValueError):
    """Text that is not a package URL."""


@dataclass(frozen=True)
class Purl:
    type: str
    namespace: str
    name: str
    version: str
    qualifiers: tuple[tuple[str, str], ...] = ()
    subpath: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        """(type, namespace, name) as compared: case-folded where the registry ignores case."""
        namespace, name = self.namespace, self.name
        if self.type in _CASE_INSENSITIVE:
            namespace, name = namespace.casefold(), name.casefold()
        if self.type == "pypi":
            name = re.sub(r"[-_.]+", "-", name)
        return self.type, namespace, name

    @property
    def vendor_hint(self) -> str:
        """A vendor guess from the namespace: "pkg:github/wolfssl/wolfssl" -> "wolfssl",
        maven "org.apache.logging.log4j" -> "apache", npm "@angular" -> "angular"."""
        if not self.namespace:
            return ""
        parts = [p for p in re.split(r"[/.]", self.namespace.lstrip("@")) if p]
        if self.type == "maven" and len(parts) >= 2 and parts[0] in ("org", "com", "io", "net"):
            return parts[1]
        return parts[0] if parts else ""


def parse_purl(text: str) -> Purl:
    """A ``Purl``; ``PurlError`` names the part that is wrong."""
    if not isinstance(text, str):
        raise PurlError("a package URL must be text")
    text = text.strip()
    if len(text) > _MAX_PURL_CHARS:
        raise PurlError(f"a package URL of {len(text)} characters is too long")
    if not text.casefold().startswith("pkg:"):
        raise PurlError(f"'{text}' does not start with 'pkg:'")
    rest = text[4:].lstrip("/")
    rest, _, subpath = rest.partition("#")
    rest, _, query = rest.partition("?")
    kind, slash, path = rest.partition("/")
    if not slash or not re.fullmatch(r"[A-Za-z][A-Za-z0-9.+-]*", kind):
        raise PurlError(f"'{text}': the type must come first, e.g. 'pkg:npm/name'")
    if "@" in path:
        path = path.rpartition("@")[0]
    segments = [unquote(s) for s in path.strip("/").split("/") if s]
    if not segments:
        raise PurlError(f"'{text}': no package name after the type")
    for pair in filter(None, query.split("&")):
        key, equals, _ = pair.partition("=")
        if not equals or not key:
            raise PurlError(f"'{text}': qualifier '{pair}' must be key=value")
    try:
        parsed = PackageURL.from_string(text)
    except ValueError as error:
        raise PurlError(f"'{text}': {error}") from None
    return Purl(
        parsed.type.casefold(),
        parsed.namespace or "",
        parsed.name,
        parsed.version or "",
        tuple(sorted((k.casefold(), str(v)) for k, v in (parsed.qualifiers or {}).items())),
        (parsed.subpath or "").strip("/"),
    )
