"""Names the vendor itself gives to one release, read as the version they stand for.

In: a product name and a version as an analyst writes them ("Windows 10" "21H2", "Windows 10
21H2", "iPhone OS" "17.4", "Zephyr RTOS" "v3.2.0"). Out: a ``Release`` naming the product
the way the records do, the version the records compare, and a note saying what was read.

The tables are data (the vendors' public release information), kept here as literals
because a stage reads no file:
- Windows feature updates and their OS build numbers, from Microsoft's "Windows 10 release
  information" and "Windows 11 release information" pages: a record's "Windows 10 Version
  21H2" covers builds 10.0.19044.x and no other;
- other names of one product (Apple's "iPhone OS" is iOS, NVD's ``iphone_os``; GDCM is
  Grassroots DICOM; Gecko SDK is GSDK; macOS marketing names).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# (major, feature update) -> OS build (the third part of 10.0.<build>.<revision>)
WINDOWS_BUILDS: dict[tuple[str, str], int] = {
    ("10", "1507"): 10240,
    ("10", "1511"): 10586,
    ("10", "1607"): 14393,
    ("10", "1703"): 15063,
    ("10", "1709"): 16299,
    ("10", "1803"): 17134,
    ("10", "1809"): 17763,
    ("10", "1903"): 18362,
    ("10", "1909"): 18363,
    ("10", "2004"): 19041,
    ("10", "20h2"): 19042,
    ("10", "21h1"): 19043,
    ("10", "21h2"): 19044,
    ("10", "22h2"): 19045,
    ("11", "21h2"): 22000,
    ("11", "22h2"): 22621,
    ("11", "22h3"): 22631,  # written so in some records; the build is 23H2's
    ("11", "23h2"): 22631,
    ("11", "24h2"): 26100,
    ("server 2016", ""): 14393,
    ("server 2019", ""): 17763,
    ("server 2022", ""): 20348,
}
_FEATURE_NAME = {
    (major, build): feature.upper()
    for (major, feature), build in WINDOWS_BUILDS.items()
    if feature and feature != "22h3"
}

# another name of the product (folded words) -> the name records use
PRODUCT_SYNONYMS: dict[str, str] = {
    "iphone os": "iOS",
    "iphoneos": "iOS",
    "apple ios": "iOS",
    "gdcm": "Grassroots DICOM",
    "grassroots dicom gdcm": "Grassroots DICOM",
    "gecko sdk": "GSDK",
    "silicon labs gecko sdk": "GSDK",
    "zephyr rtos": "Zephyr",
    "riot os": "RIOT",
    "mynewt nimble": "NimBLE",
    "apache mynewt nimble": "NimBLE",
    "macos sonoma": "macOS",
    "macos ventura": "macOS",
    "macos monterey": "macOS",
    "macos sequoia": "macOS",
    "mac os x": "macOS",
    "os x": "macOS",
}

# platforms whose maker an analyst leaves out ("iOS 17.4", "Android 13")
PLATFORM_VENDORS: dict[str, str] = {
    "ios": "Apple",
    "ipados": "Apple",
    "macos": "Apple",
    "watchos": "Apple",
    "tvos": "Apple",
    "android": "Google",
    "harmonyos": "Huawei",
    "emui": "Huawei",
    "windows": "Microsoft",
}
# platforms whose versions are bare numbers ("Android 13", "iOS 17"): in free text the
# number after the name is the version
BARE_NUMBER_PLATFORMS = frozenset({"android", "ios", "ipados", "watchos", "tvos", "macos"})

# long-term servicing channels: the feature update each is built on
WINDOWS_LTSC = {
    ("10", "2015"): "1507",
    ("10", "2016"): "1607",
    ("10", "2019"): "1809",
    ("10", "2021"): "21h2",
    ("11", "2024"): "24h2",
}
WINDOWS_SERVER_FEATURE = {"server 2016": "1607", "server 2019": "1809", "server 2022": "21h2"}

_WINDOWS = re.compile(
    r"^(?:microsoft\s+)?windows[\s_]+(?P<major>10|11|server[\s_]+20(?:16|19|22))"
    r"(?P<edition>(?:[\s_]+(?:home|pro|enterprise|education|iot|for|workstations?|n"
    r"|multi-session|core|datacenter|standard|ltsc|ltsb))*)"
    r"(?:[\s_]+(?P<year>20(?:15|16|19|21|24)))?"
    r"(?:[\s_]+(?:version[\s_]+)?(?P<feature>\d{2}h\d|\d{4}))?$"
)
_WINDOWS_VERSION = re.compile(r"^(?:10\.0\.)?(?P<build>\d{5})(?:\.(?P<revision>\d+))?$")
_FEATURE = re.compile(r"^(?:version\s+)?(?P<feature>\d{2}h\d|\d{4})$")


@dataclass(frozen=True)
class Release:
    product: str
    version: str | None
    build_line: int | None = None  # Windows: the OS build every version must carry
    note: str = ""


def _fold(text: str) -> str:
    return re.sub(r"[\s_]+", " ", re.sub(r"[®™()]", " ", text).casefold()).strip()


def windows_line(product: str) -> int | None:
    """The OS build of a Windows product name that names one feature update
    ("Windows 10 Version 21H2" -> 19044), else None."""
    found = _WINDOWS.match(re.sub(r"\s*server core installation", "", _fold(product)))
    if not found:
        return None
    major = re.sub(r"\s+", " ", found.group("major"))
    return WINDOWS_BUILDS.get((major, (found.group("feature") or "").casefold()))


def read_release(product: str, version: str | None) -> Release:
    """The product and version in the records' terms (unchanged when no table applies)."""
    folded = _fold(product)
    synonym = PRODUCT_SYNONYMS.get(folded)
    if synonym is not None:
        return Release(synonym, version, note=f"'{product}' is {synonym} (another name)")
    windows = _WINDOWS.match(folded)
    if windows:
        return _windows(product, windows, version)
    return Release(product, version)


def _windows(product: str, found: re.Match[str], version: str | None) -> Release:
    major = re.sub(r"\s+", " ", found.group("major"))
    feature = (found.group("feature") or "").casefold()
    edition = found.group("edition") or ""
    if found.group("year"):
        if not re.search(r"lts[bc]", edition):
            return Release(product, version)
        feature = feature or WINDOWS_LTSC.get((major, found.group("year")), "")
    text = (version or "").strip().casefold()
    named = _FEATURE.match(text)
    if named:
        said = named.group("feature")
        expected = WINDOWS_SERVER_FEATURE.get(major, feature)
        if expected and said != expected:
            return Release(product, version)  # two releases named: read as written
        feature, text = feature or said, ""
    if major in WINDOWS_SERVER_FEATURE:
        feature = ""  # the server's name is its release
    build = WINDOWS_BUILDS.get((major, feature))
    revision = ""
    numbered = _WINDOWS_VERSION.match(text)
    if numbered:
        number = int(numbered.group("build"))
        if build is not None and number != build:
            return Release(
                product,
                version,
                note=f"{feature.upper()} is build {build}, not {number}: read as written",
            )
        build, revision = number, numbered.group("revision") or ""
        feature = feature or _FEATURE_NAME.get((major, build), "").casefold()
    if build is None or (text and not numbered):
        return Release(product, version)
    name = f"Windows {major.title()}" + (f" Version {feature.upper()}" if feature else "")
    windows_version = f"10.0.{build}" + (f".{revision}" if revision else "")
    note = (
        f"{feature.upper()} is build 10.0.{build} (Microsoft release information)"
        if feature
        else f"{name} is build 10.0.{build} (Microsoft release information)"
    )
    if edition.strip() or found.group("year"):
        note = f"'{product}' is {name}; " + note
    if not revision:
        note += "; patch level not given: affected unless updated past the fix"
    return Release(name, windows_version, build, note.strip("; "))


def build_of(version: str | None) -> int | None:
    """The OS build of a Windows version text ("10.0.19044.2364" -> 19044)."""
    found = _WINDOWS_VERSION.match((version or "").strip())
    return int(found.group("build")) if found else None


def platform_vendor(product: str) -> str:
    """The maker of a platform named without one ("iOS" -> "Apple"), else ""."""
    words = _fold(product).split()
    return PLATFORM_VENDORS.get(words[0], "") if words else ""
