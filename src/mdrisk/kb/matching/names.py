"""Vendor and product names reduced to comparable words, and how alike two products are.

In: names as records and analysts write them ("Becton, Dickinson and Company (BD)",
"Alaris™ PC Unit Model 8015 firmware", "IntelliVue MX40", "Innokas YhtymÃ¤ Oy"). Out:
``vendor_key`` (a compact key: case, accents, punctuation and corporate suffixes gone),
``product_tokens`` (words without trademark signs and noise words such as "firmware"),
``product_alternatives`` (the other ways a published product name can be read), and
``similarity`` (weighted token overlap that refuses two different model numbers).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

_CORPORATE = {
    "inc",
    "incorporated",
    "ltd",
    "limited",
    "co",
    "corp",
    "corporation",
    "company",
    "gmbh",
    "ag",
    "nv",
    "bv",
    "sa",
    "spa",
    "se",
    "plc",
    "llc",
    "lp",
    "oy",
    "oyj",
    "ab",
    "asa",
    "kg",
    "kgaa",
    "kk",
    "pty",
    "pvt",
    "srl",
    "sarl",
    "ev",
    "mbh",
    "ulc",
}
_JOINERS = {"and", "the", "of", "&"}
# Words that describe the kind of company rather than name it ("Natus Medical" = "Natus").
DESCRIPTORS = {
    "medical",
    "healthcare",
    "health",
    "technologies",
    "technology",
    "tech",
    "systems",
    "system",
    "solutions",
    "diagnostics",
    "electronics",
    "instruments",
    "instrument",
    "devices",
    "international",
    "holdings",
    "holding",
    "group",
    "industries",
    "labs",
    "laboratories",
    "software",
    "americas",
    "usa",
    "us",
    "global",
    "worldwide",
}
# Words in product names that do not tell products apart.
NOISE = {
    "firmware",
    "software",
    "sw",
    "fw",
    "version",
    "versions",
    "ver",
    "model",
    "models",
    "series",
    "family",
    "the",
    "a",
    "an",
    "of",
    "for",
    "with",
    "and",
    "by",
    "or",
    "all",
    "product",
    "products",
    "line",
    "including",
    "only",
    "number",
    "no",
    "rev",
    "revision",
    "release",
    "system",
    "systems",
    "device",
    "devices",
    "solution",
    "tm",
    "r",
    "c",
    "inc",
    "v",
}
# Two names that each have a word the other lacks are siblings in a product line ("mylife App"
# and "mylife Cloud"), not one product written two ways: their score is scaled down.
SIBLING_FACTOR = 0.6
DESCRIPTIVE_FACTOR = 0.5
_TRADEMARKS = re.compile(r"[™®©℠]|\((?:tm|r|c)\)", re.IGNORECASE)


def repair_text(text: str) -> str:
    """Undo UTF-8 read as Latin-1/CP1252 ("YhtymÃ¤" -> "Yhtymä"), once or twice."""
    for _ in range(2):
        if not any(mark in text for mark in ("Ã", "Â", "â€", "â„")):
            break
        try:
            text = text.encode("cp1252").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            try:
                text = text.encode("latin-1").decode("utf-8")
            except (UnicodeEncodeError, UnicodeDecodeError):
                break
    return text


def fold(text: str) -> str:
    """Lower case, accents and trademark signs gone, "&" as "and", "+" as "plus"."""
    if text.isascii():  # nothing to repair, decompose or drop: the same, sooner
        return _TRADEMARKS.sub(" ", text).casefold().replace("&", " and ").replace("+", " plus ")
    text = _TRADEMARKS.sub(" ", repair_text(text))
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = text.replace("ß", "ss").replace("&", " and ").replace("+", " plus ")
    return text


@lru_cache(maxsize=65536)
def _name_words(text: str) -> tuple[str, ...]:
    text = fold(text)
    text = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", text)
    return tuple(w for w in re.split(r"[^\w.]+|_", text) if w and w != ".")


def name_words(text: str) -> list[str]:
    """Words of a name: punctuation splits words, dots inside numbers stay ("3.0t")."""
    return list(_name_words(text))


def vendor_words(name: str) -> list[str]:
    """Vendor name words without corporate suffixes ("B. Braun Melsungen AG" -> b braun
    melsungen)."""
    words = name_words(name)
    while words and words[0] in ("the",):
        words = words[1:]
    while len(words) > 1 and (words[-1] in _CORPORATE or words[-1] in _JOINERS):
        words = words[:-1]
    return words


@lru_cache(maxsize=65536)
def vendor_key(name: str) -> str:
    """A compact key: "Hill-Rom" and "Hillrom" -> "hillrom"; "B. Braun" -> "bbraun"."""
    return "".join(vendor_words(name))


@lru_cache(maxsize=65536)
def loose_vendor_key(name: str) -> str:
    """The key without descriptor words ("GE Healthcare" -> "ge", "Natus Medical" -> "natus")."""
    words = vendor_words(name)
    kept = [w for w in words if w not in DESCRIPTORS]
    while len(kept) > 1 and kept[-1] in _CORPORATE | _JOINERS:
        kept = kept[:-1]
    return "".join(kept or words)


def _stem(word: str) -> str:
    if (
        len(word) >= 5
        and word.isalpha()
        and word.endswith("s")
        and not word.endswith(("ss", "us", "is"))
    ):
        return word[:-1]
    return word


@lru_cache(maxsize=65536)
def product_tokens(name: str) -> tuple[str, ...]:
    """Product words: folded, noise words dropped, plurals stemmed, and a short letter prefix
    joined to the number after it ("MX 40" -> "mx40", "ELI 250c" -> "eli250c")."""
    words = [_stem(w) for w in name_words(name)]
    joined: list[str] = []
    for word in words:
        if (
            joined
            and word[:1].isdigit()
            and joined[-1].isalpha()
            and len(joined[-1]) <= 4
            and joined[-1] not in NOISE
        ):
            joined[-1] = joined[-1] + word
        else:
            joined.append(word)
    kept = tuple(w for w in joined if w not in NOISE)
    return kept or tuple(joined)


def strip_vendor(
    tokens: tuple[str, ...], vendor_phrases: Iterable[tuple[str, ...]]
) -> tuple[str, ...]:
    """Drop leading vendor names ("BD Pyxis MedStation" -> pyxis medstation; "Hillrom Welch
    Allyn Service Tool" -> service tool) unless nothing would be left."""
    phrases = sorted((p for p in vendor_phrases if p), key=len, reverse=True)
    stripped = True
    while stripped:
        stripped = False
        for phrase in phrases:
            if tokens[: len(phrase)] == phrase and len(tokens) > len(phrase):
                tokens, stripped = tokens[len(phrase) :], True
                break
    return tokens


_CUT = re.compile(r",?\s+(?:not\s+including|excluding|except)\b.*$|\s+-\s+model\b", re.IGNORECASE)


@lru_cache(maxsize=65536)
def product_alternatives(name: str) -> tuple[str, ...]:
    """The readings of a published product name: as written; without parenthesised remarks;
    the parenthesised abbreviation alone ("Patient Information Center iX (PICiX)" -> "PICiX");
    each member of a slash list ("Assurity/Allure" -> "Assurity", "Allure")."""
    name = repair_text(name).strip()
    cut = _CUT.sub("", name).strip()
    # "Vivid products, not including EchoPAC" never names EchoPAC: only the cut name is read
    readings = [name] if cut == name else []
    bare = re.sub(r"\s*\([^()]*\)", " ", cut)
    bare = re.sub(r"\s+", " ", bare).strip()
    for candidate in (cut, bare):
        if candidate and candidate not in readings:
            readings.append(candidate)
    for inner in re.findall(r"\(([^()]*)\)", name):
        inner = inner.strip()
        words = inner.casefold().split()
        if (
            1 <= len(words) <= 2
            and re.search(r"[A-Za-z]", inner)
            and len(inner) >= 3
            and not any(w in NOISE for w in words)
        ):
            readings.append(inner)  # an abbreviation or short name: "PICiX", "Spot 4400"
    # "iOS and iPadOS", "macOS and iPadOS": two short product names joined
    joined = re.split(r"\s+(?:and|&)\s+", bare)
    if len(joined) == 2 and all(len(part.split()) == 1 for part in joined):
        readings += joined
    words = bare.split()
    for index, word in enumerate(words):
        members = [m for m in word.split("/") if m]
        if len(members) > 1 and all(re.fullmatch(r"[\w.+-]+", m) for m in members):
            for member in members[:8]:
                readings.append(" ".join(words[:index] + [member] + words[index + 1 :]))
    return tuple(dict.fromkeys(r for r in readings if r))


@dataclass(frozen=True)
class Similarity:
    score: float  # 0..1
    query_covered: float  # share of the query's weight found in the product
    product_covered: float  # share of the product's weight found in the query
    siblings: bool = False  # each name has a word the other lacks


def _extra(tokens: set[str], weight: Callable[[str], float]) -> float:
    """The weight of words only one name has: a model number counts fully, a descriptive
    word ("patient worn monitor") half."""
    return sum(weight(t) * (1.0 if _has_digit(t) else DESCRIPTIVE_FACTOR) for t in tokens)


_DIGIT = re.compile(r"\d")


@lru_cache(maxsize=65536)
def _has_digit(token: str) -> bool:
    return _DIGIT.search(token) is not None


def _merge_pairs(tokens: tuple[str, ...], other: set[str]) -> tuple[str, ...]:
    """Join neighbours that the other name writes as one word ("pic ix" vs "picix")."""
    if len(tokens) < 2 or not any(a + b in other for a, b in zip(tokens, tokens[1:], strict=False)):
        return tokens
    result: list[str] = []
    index = 0
    while index < len(tokens):
        if (
            index + 1 < len(tokens)
            and tokens[index] + tokens[index + 1] in other
            and tokens[index] not in other
        ):
            result.append(tokens[index] + tokens[index + 1])
            index += 2
        else:
            result.append(tokens[index])
            index += 1
    return tuple(result)


_NOTHING = Similarity(0.0, 0.0, 0.0)


def similarity(
    query: tuple[str, ...], product: tuple[str, ...], weight: Callable[[str], float]
) -> Similarity:
    """Weighted overlap of two token tuples, as the F1 of the two coverages. Two different
    model numbers (each side has a word with digits the other lacks) score 0; two siblings
    (each side has a word the other lacks) are scaled by SIBLING_FACTOR."""
    if not query or not product:
        return _NOTHING
    product_set = set(product)
    query = _merge_pairs(query, product_set)
    query_set = set(query)
    merged = _merge_pairs(product, query_set)
    if merged is not product:
        product_set = set(merged)
    common = query_set & product_set
    if not common:
        return _NOTHING
    query_only = query_set - common
    product_only = product_set - common
    if any(map(_has_digit, query_only)) and any(map(_has_digit, product_only)):
        return _NOTHING
    shared = sum(weight(t) for t in common)
    query_covered = shared / (shared + _extra(query_only, weight))
    product_covered = shared / (shared + _extra(product_only, weight))
    score = 2 * query_covered * product_covered / (query_covered + product_covered)
    siblings = bool(query_only and product_only)
    if siblings:
        score *= SIBLING_FACTOR
    return Similarity(score, query_covered, product_covered, siblings)
