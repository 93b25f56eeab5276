"""Version ranges of package ecosystems, decided by the ecosystem's own rules (univers).

A range in a package ecosystem ("vers:pypi/>=1.0|<2.0rc1", or a CVE 5 range whose
``versionType`` is "maven", "python", "rpm", ...) is compared by ``univers``, which
implements each registry's ordering (PEP 440 pre- and post-releases, Maven qualifiers, Debian
epochs, RPM, npm semver). Everything else, and every vendor's own version form ("4.0.1 build
120", "R4.1L1", "2023.3 (Build 9342)"), stays with ``versions``/``ranges``, which extend it.
univers is imported only when such a range is met.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

# CVE 5 versionType / vers scheme -> univers scheme
SCHEMES = {
    "python": "pypi",
    "pypi": "pypi",
    "maven": "maven",
    "npm": "npm",
    "rpm": "rpm",
    "deb": "deb",
    "gem": "gem",
    "nuget": "nuget",
    "cargo": "cargo",
    "golang": "golang",
    "composer": "composer",
    "hex": "hex",
    "conan": "conan",
    "alpm": "alpm",
    "apk": "apk",
    "ebuild": "ebuild",
}


def scheme_of(name: str) -> str:
    """The univers scheme for a vers scheme or CVE 5 versionType, else ""."""
    return SCHEMES.get(name.strip().casefold(), "")


@lru_cache(maxsize=4096)
def native_range(vers: str) -> Any | None:
    """univers' reading of a ``vers:`` string of a known ecosystem; None when it has none."""
    scheme = vers[5:].split("/", 1)[0] if vers.startswith("vers:") else ""
    if not scheme_of(scheme):
        return None
    from univers.version_range import VersionRange

    try:
        return VersionRange.from_string(
            vers.replace(f"vers:{scheme}/", f"vers:{scheme_of(scheme)}/")
        )
    except Exception:  # univers raises many kinds on text it does not read: fall back
        return None


def contains(native: Any, version_text: str) -> bool | None:
    """Whether the ecosystem's range holds the version; None when the version is not one of
    that ecosystem's (then the generic reading decides)."""
    try:
        return native.version_class(version_text.strip()) in native
    except Exception:  # an invalid version for the scheme
        return None


def vers_of(
    scheme: str, lower: str, lower_inclusive: bool, upper: str, upper_inclusive: bool
) -> str:
    """A vers string for one interval (an empty bound is open)."""
    pieces = []
    if lower:
        pieces.append(f"{'>=' if lower_inclusive else '>'}{lower}")
    if upper:
        pieces.append(f"{'<=' if upper_inclusive else '<'}{upper}")
    return f"vers:{scheme}/" + ("|".join(pieces) or "*")
