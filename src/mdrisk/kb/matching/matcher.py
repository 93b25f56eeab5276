"""Which known vulnerabilities apply to a component, each with a confidence and the reason.

``Matcher.from_store(store)`` reads the names of every affected entry once into an in-memory
index (by company, by product word, by CPE vendor:product and by purl); ``match(query)`` then
answers one ``ComponentQuery`` — vendor/product/version, a CPE, a purl or free text — with
``VulnMatch``es sorted by confidence then id, one per vulnerability (the best reason kept).
The entries of a candidate product (their versions) are read from the store when a query
first needs them and kept for the next ones (``rows.ProductRows``), so a store of NVD's size
is not read whole; their versions come as the readings the store computed at import
(``plain``: release bounds as keys), not as text to parse again. The store must stay open
while the matcher is used.

Confidence = vendor agreement x product-name similarity x version evidence:
- vendor: same company (alias table) 1.0, related company (owner or acquisition) 0.9, equal CPE
  vendor:product or purl 1.0, no vendor given but a distinctive product name 0.85;
- product: the weighted word-overlap score (0.6..1), 1.0 for equal CPE/purl names;
- version: inside a published range 1.0, "all versions" 0.95, not listed but the record's
  default is affected 0.8, no version given 0.6, a version that cannot be interpreted (or
  that the record says nothing about) 0.45 — below the default threshold of 0.5.
A version known to be fixed or not affected never matches.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from mdrisk.errors import InputError, Problem
from mdrisk.kb.matching import status as verdicts
from mdrisk.kb.matching.aliases import RELATED, SAME, AliasTable, VendorLink
from mdrisk.kb.matching.cpe import Cpe, CpeError, parse_cpe
from mdrisk.kb.matching.names import (
    SIBLING_FACTOR,
    Similarity,
    name_words,
    product_alternatives,
    product_tokens,
    similarity,
    strip_vendor,
    vendor_key,
)
from mdrisk.kb.matching.purl import Purl, PurlError, parse_purl
from mdrisk.kb.matching.query import ComponentQuery, VulnMatch
from mdrisk.kb.matching.releases import (
    BARE_NUMBER_PLATFORMS,
    build_of,
    platform_vendor,
    read_release,
    windows_line,
)
from mdrisk.kb.matching.rows import ProductRows, Row, VersionsKey, VersionsRead
from mdrisk.kb.matching.versions import looks_like_version, parse_version
from mdrisk.kb.records import REL_ADVISORY, AffectedEntry, AffectedName, Relation

VERSION_FACTOR = {
    verdicts.BY_RANGE: 1.0,
    verdicts.BY_ALL: 0.95,
    verdicts.BY_DEFAULT: 0.8,
    verdicts.NO_VERSION: 0.6,
    verdicts.UNREADABLE_ENTRY: 0.45,
    verdicts.UNREADABLE_QUERY: 0.45,
    verdicts.UNSTATED: 0.45,
}
VENDOR_FACTOR = {SAME: 1.0, RELATED: 0.9, "cpe": 1.0, "purl": 1.0, "none": 0.85}
MIN_PRODUCT_SCORE = 0.6
VENDOR_ONLY_FACTOR = 0.3  # the vendor matches and no product was named
DISTINCTIVE_MAX_PRODUCTS = 3  # a word in at most this many products names one product line
DISTINCTIVE_MIN_SCORE = 0.8
# Products whose entries stay read between queries, counted in entries (about 1 KB each).
KEPT_ROWS = 200_000
_SUFFIX = re.compile(
    r"(?i)(?:build|bld|sp|sr|mr|service pack|update|hotfix|patch|p|r|u)"
    r"\s*\d*|(?:sp|sr|r|p|u)\d+|\d+"
)
_VERSION_WORDS = {
    "version",
    "ver",
    "v",
    "firmware",
    "fw",
    "release",
    "rel",
    "rev",
    "revision",
    "software",
    "sw",
}


@dataclass
class _Product:
    """One distinct (vendor, product) name of the store, with the rows that use it."""

    vendor: str
    product: str
    vendor_ids: frozenset[str]
    readings: tuple[tuple[str, ...], ...]
    build_line: int | None = None  # "Windows 10 Version 21H2": only builds 10.0.19044.x


@dataclass(frozen=True)
class _Ask:
    """A query in the matcher's terms."""

    vendor_text: str
    vendor_ids: frozenset[str]
    product_text: str
    tokens: tuple[str, ...]
    readings: tuple[tuple[str, ...], ...]  # tokens of each reading of the product name
    version: str | None
    cpe: Cpe | None
    purl: Purl | None
    free_text: bool
    release_note: str = ""  # how a release name was read ("21H2 is build 10.0.19044")


@dataclass(frozen=True)
class _Candidate:
    product: int
    vendor_kind: str  # SAME, RELATED, "cpe", "purl", "none"
    vendor_note: str
    product_score: float
    product_note: str


class _AffectedSource(Protocol):
    """What :meth:`Matcher.from_store` reads of a ``kb.store.Store``."""

    def relations(
        self, src: str | None = None, rel: str | None = None, dst: str | None = None
    ) -> list[Relation]: ...

    def affected(self, vuln_id: str | None = None) -> Iterable[AffectedEntry]: ...

    def indexes_names(self) -> bool: ...

    def affected_names(self, versions_mentioning: str = "") -> Iterable[AffectedName]: ...

    def affected_keys_of(self, vendor: str, product: str) -> Iterable[Row]: ...

    def stored_readings(self, reading_ids: Iterable[int]) -> dict[int, str]: ...

    def versions_of_reading(self, reading_id: int, vendor: str, product: str) -> str: ...

    def decode_versions(self, text: str, vuln_id: str, product: str) -> tuple[dict, ...]: ...


class _VersionsSource(Protocol):
    """Where a product's entries and their versions are read from."""

    def rows(self, vendor: str, product: str) -> Iterable[Row]: ...

    def decode(
        self, key: VersionsKey, vuln_id: str, vendor: str, product: str
    ) -> tuple[dict, ...]: ...

    def readings(self, reading_ids: list[int]) -> dict[int, str]: ...


@dataclass
class _HeldVersions:
    """Entries given in memory, by name; versions by their JSON text."""

    held: dict[tuple[str, str], list[Row]]
    texts: dict[str, tuple[dict, ...]]

    def rows(self, vendor: str, product: str) -> Iterable[Row]:
        return self.held.get((vendor, product), ())

    def decode(self, key: VersionsKey, vuln_id: str, vendor: str, product: str) -> tuple[dict, ...]:
        return self.texts[str(key)]

    def readings(self, reading_ids: list[int]) -> dict[int, str]:
        return {}


@dataclass
class _StoredVersions:
    """Entries read from the store, with the readings of their versions kept at import."""

    store: _AffectedSource

    def rows(self, vendor: str, product: str) -> Iterable[Row]:
        return self.store.affected_keys_of(vendor, product)

    def decode(self, key: VersionsKey, vuln_id: str, vendor: str, product: str) -> tuple[dict, ...]:
        text = key if isinstance(key, str) else self.store.versions_of_reading(key, vendor, product)
        return self.store.decode_versions(text, vuln_id, product)

    def readings(self, reading_ids: list[int]) -> dict[int, str]:
        return self.store.stored_readings(reading_ids)


class Matcher:
    def __init__(
        self,
        entries: Iterable[AffectedEntry],
        aliases: AliasTable,
        advisories: dict[str, list[str]] | None = None,
    ) -> None:
        """Index ``entries``, all kept in memory."""
        held: dict[tuple[str, str], list[Row]] = defaultdict(list)
        texts: dict[str, tuple[dict, ...]] = {}

        def names() -> Iterable[AffectedName]:
            for entry in entries:
                # as the store keeps it; only a key here (the versions are kept as they are)
                text = json.dumps(list(entry.versions), sort_keys=True, default=str)
                texts.setdefault(text, entry.versions)
                held[(entry.vendor, entry.product)].append(
                    (entry.vuln_id, entry.default_status, text)
                )
                yield AffectedName(
                    entry.vendor, entry.product, entry.cpe, entry.purl, entry.versions
                )

        self._build(names(), _HeldVersions(held, texts), aliases)
        self.advisories = advisories or {}

    def _build(
        self,
        names: Iterable[AffectedName],
        versions: _VersionsSource,
        aliases: AliasTable,
    ) -> None:
        self.aliases = aliases
        self._versions = versions
        self._kept: OrderedDict[int, ProductRows] = OrderedDict()
        self._kept_rows = 0
        self._versions_read = VersionsRead()
        self.products: list[_Product] = []
        self._by_name: dict[tuple[str, str], int] = {}
        self._by_vendor: dict[str, list[int]] = defaultdict(list)
        self._by_token: dict[str, set[int]] = defaultdict(set)
        # readings added from model numbers, by their words joined (``_by_token`` holds the
        # joined words of the other readings)
        self._by_model_join: dict[str, set[int]] = defaultdict(set)
        self._by_cpe: dict[tuple[str, str], set[int]] = defaultdict(set)
        self._by_purl: dict[tuple[str, str, str], set[int]] = defaultdict(set)
        self._vendor_names: dict[str, frozenset[str]] = {}
        self._phrase_cache: dict[frozenset[str], list[tuple[str, ...]]] = {}
        self._similarity: dict[tuple[tuple[str, ...], tuple[str, ...]], Similarity] = {}
        for name in names:
            self._add(name)
        self._weights = self._token_weights()
        self._vendor_keys = set(self.aliases.names()) | set(self._vendor_names)

    @classmethod
    def from_store(cls, store: _AffectedSource, aliases: AliasTable) -> Matcher:
        """Index the names of every affected entry of ``store`` (a ``kb.store.Store``, kept
        open while the matcher is used); entries are read per product when first needed. A
        store written before its name index existed is read whole, as it used to be."""
        advisories: dict[str, list[str]] = defaultdict(list)
        for relation in store.relations(rel=REL_ADVISORY):
            advisories[relation.src].append(relation.dst)
        if not store.indexes_names():
            return cls(store.affected(), aliases, dict(advisories))
        matcher = cls.__new__(cls)
        matcher._build(
            store.affected_names(versions_mentioning="model"), _StoredVersions(store), aliases
        )
        matcher.advisories = dict(advisories)
        return matcher

    # --- building the index ---------------------------------------------------------------

    def _add(self, entry: AffectedName) -> None:
        key = (entry.vendor, entry.product)
        index = self._by_name.get(key)
        if index is None:
            index = len(self.products)
            self._by_name[key] = index
            vendor_ids = self.aliases.resolve(entry.vendor) or self._vendor_of_name(entry.product)
            phrases = self._phrases(vendor_ids)
            # each reading with and without a leading vendor name ("BD Pyxis ...")
            readings = tuple(
                dict.fromkeys(
                    tokens
                    for reading in product_alternatives(entry.product)
                    if product_tokens(reading)
                    for tokens in (
                        strip_vendor(product_tokens(reading), phrases),
                        product_tokens(reading),
                    )
                )
            )
            self.products.append(
                _Product(
                    entry.vendor,
                    entry.product,
                    vendor_ids,
                    readings,
                    build_line=windows_line(entry.product),
                )
            )
            for vendor_id in vendor_ids:
                self._by_vendor[vendor_id].append(index)
            for reading in readings:
                for token in reading:
                    self._by_token[token].add(index)
                self._by_token["".join(reading)].add(index)
            for name in (entry.vendor, *(self.aliases.display(v) for v in vendor_ids)):
                if vendor_key(name):
                    self._vendor_names.setdefault(vendor_key(name), vendor_ids)
        product = self.products[index]
        for model in _models_in(entry.versions):
            reading = strip_vendor(
                product_tokens(f"{entry.product} {model}"), self._phrases(product.vendor_ids)
            )
            if reading not in product.readings:
                product.readings += (reading,)
                for token in reading:
                    self._by_token[token].add(index)
                self._by_model_join["".join(reading)].add(index)
        if entry.cpe:
            try:
                cpe = parse_cpe(entry.cpe)
            except CpeError:
                cpe = None
            if cpe is not None and cpe.vendor not in ("*", "-"):
                self._by_cpe[(cpe.vendor, cpe.product)].add(index)
        if entry.purl:
            try:
                self._by_purl[parse_purl(entry.purl).key].add(index)
            except PurlError:
                pass

    def _vendor_of_name(self, product: str) -> frozenset[str]:
        """A record without a vendor ("n/a") whose product name starts with a known one
        ("Intel(R) Wireless Bluetooth(R) products for Windows")."""
        words = name_words(product)
        known = self.aliases.names()
        for length in range(min(3, len(words) - 1), 0, -1):
            found = known.get("".join(words[:length]))
            if found:
                return frozenset({found})
        return frozenset()

    def _phrases(self, vendor_ids: frozenset[str]) -> list[tuple[str, ...]]:
        known = self._phrase_cache.get(vendor_ids)
        if known is None:
            known = self._phrase_cache[vendor_ids] = self._phrases_uncached(vendor_ids)
        return known

    def _phrases_uncached(self, vendor_ids: frozenset[str]) -> list[tuple[str, ...]]:
        phrases: set[tuple[str, ...]] = set()
        for vendor_id in vendor_ids:
            for linked in (vendor_id, *self.aliases.related_ids(vendor_id)):
                phrases.update(
                    tuple(product_tokens(" ".join(p))) for p in self.aliases.phrases(linked)
                )
        return [p for p in phrases if p]

    def _token_weights(self) -> dict[str, float]:
        counts: Counter[str] = Counter()
        for product in self.products:
            counts.update({t for reading in product.readings for t in reading})
        total = max(len(self.products), 1)
        self._unseen_weight = math.log(1 + total)
        return {token: math.log(1 + total / count) for token, count in counts.items()}

    def _weight(self, token: str) -> float:
        return self._weights.get(token, self._unseen_weight)

    def _rows(self, index: int) -> ProductRows:
        """The entries of product ``index``, read at its first query and kept while the
        products read since hold fewer than ``KEPT_ROWS`` entries."""
        rows = self._kept.get(index)
        if rows is not None:
            self._kept.move_to_end(index)
            return rows
        product = self.products[index]

        # kept by readings prepared when first needed: no reference to the matcher
        source, vendor, name = self._versions, product.vendor, product.product

        def decode(key: VersionsKey, vuln_id: str) -> tuple[dict, ...]:
            return source.decode(key, vuln_id, vendor, name)

        rows = ProductRows(
            self._versions.rows(product.vendor, product.product),
            self._versions_read,
            decode,
            self._versions.readings,
        )
        self._kept[index] = rows
        self._kept_rows += rows.size
        while self._kept_rows > KEPT_ROWS and len(self._kept) > 1:
            _, dropped = self._kept.popitem(last=False)
            self._kept_rows -= dropped.size
        return rows

    # --- understanding the query ----------------------------------------------------------

    def _ask(self, query: ComponentQuery) -> _Ask:
        cpe = purl = None
        if query.cpe:
            try:
                cpe = parse_cpe(query.cpe)
            except CpeError as error:
                raise InputError(
                    "query",
                    [
                        Problem(
                            str(error),
                            field="cpe",
                            fix="write cpe:2.3:part:vendor:product:version:...",
                        )
                    ],
                ) from None
        if query.purl:
            try:
                purl = parse_purl(query.purl)
            except PurlError as error:
                raise InputError(
                    "query",
                    [
                        Problem(
                            str(error), field="purl", fix="write pkg:type/namespace/name@version"
                        )
                    ],
                ) from None
        vendor = (
            query.vendor or (cpe.vendor_name if cpe else "") or (purl.vendor_hint if purl else "")
        ).strip()
        product = (
            query.product or (cpe.product_name if cpe else "") or (purl.name if purl else "")
        ).strip()
        version = (
            query.version
            or (cpe.version_text if cpe else "")
            or (purl.version if purl else "")
            or ""
        ).strip() or None
        free_text = False
        names = [product]
        if query.text and not product:
            vendor_found, product, version_found, whole = self._read_text(query.text)
            vendor = vendor or vendor_found
            version = version or version_found
            free_text = True
            # "BlueZ 5.66", "Zephyr RTOS 3.2.0": the vendor's name is the product's too
            names = [product, whole] if product else [whole]
        vendor_ids = self.aliases.resolve(vendor) if vendor else frozenset()
        if not vendor and product:
            found, rest = self._leading_vendor(product)
            if found:
                vendor, vendor_ids, product = found, self._known_ids(found), rest
                names[0] = product
        release = read_release(names[0], version)
        for name in names[1:]:
            if release.note:
                break
            release = read_release(name, version)
        if release.note:
            names = [release.product]
            version = release.version
        if not vendor and names[0] and platform_vendor(names[0]):
            vendor = platform_vendor(names[0])
            vendor_ids = self._known_ids(vendor)
        phrases = self._phrases(vendor_ids)
        readings = tuple(
            dict.fromkeys(
                strip_vendor(product_tokens(reading), phrases)
                for name in names
                if name
                for reading in product_alternatives(name)
                if product_tokens(reading)
            )
        )
        tokens = readings[0] if readings else ()
        return _Ask(
            vendor,
            vendor_ids,
            names[0] or product,
            tokens,
            readings,
            version,
            cpe,
            purl,
            free_text,
            release.note,
        )

    def _known_ids(self, name: str) -> frozenset[str]:
        return self._vendor_names.get(vendor_key(name)) or self.aliases.resolve(name)

    def _vendor_in(self, words: list[str]) -> tuple[int, int] | None:
        """The longest run of words naming a known vendor: (start, end) or None."""
        for length in range(min(5, len(words)), 0, -1):
            for start in range(0, len(words) - length + 1):
                key = "".join(words[start : start + length])
                if len(key) >= 2 and key in self._vendor_keys:
                    return start, start + length
        return None

    def _leading_vendor(self, product: str) -> tuple[str, str]:
        """ "Philips IntelliVue MX40" -> ("philips", "intellivue mx40") when the product name
        starts with a vendor the index or the alias table knows."""
        words = name_words(product)
        for length in range(min(5, len(words) - 1), 0, -1):
            key = "".join(words[:length])
            if len(key) >= 2 and key in self._vendor_keys:
                return " ".join(words[:length]), " ".join(words[length:])
        return "", product

    def _read_text(self, text: str) -> tuple[str, str, str | None, str]:
        """(vendor, product words, version, every word but the version) in free text such as
        "Dana Diabecare RS firmware 2.9" or "BD Alaris Gateway Workstation 1.3.1 Build 13"."""
        raw_words = [w.strip(",;:()[]") for w in text.split()]
        version = None
        start: int | None = None
        end = 0  # read only once start is set
        dotted = [i for i, word in enumerate(raw_words) if looks_like_version(word)]
        named = [
            i
            for i, word in enumerate(raw_words)
            if i
            and raw_words[i - 1].casefold() in _VERSION_WORDS
            and any(c.isdigit() for c in word)
            and parse_version(word) is not None
        ] + [
            i
            for i, word in enumerate(raw_words)
            if i
            and raw_words[i - 1].casefold() in BARE_NUMBER_PLATFORMS
            and re.fullmatch(r"\d{1,2}[a-z]?", word.casefold())
        ]
        if dotted or named:
            # "firmware 10.0.1" says which it is; else the last one ("Xeleris 1.0 ... 10.0.1")
            start = (named or dotted)[-1] if named else dotted[-1]
            end = start + 1
        if start is not None:
            # "1.3.1 Build 13", "1.8.4 Service Pack 01", "4.20 SR1": the suffix belongs to it
            while end < len(raw_words) and _SUFFIX.fullmatch(" ".join(raw_words[end : end + 2])):
                end += 2
            while end < len(raw_words) and _SUFFIX.fullmatch(raw_words[end]):
                end += 1
            version = " ".join(raw_words[start:end])
            if start and raw_words[start - 1].casefold() in ("version", "ver", "v"):
                start -= 1  # "Windows 10 version 20H2": the word is not the product's
            raw_words[start:end] = []
        rest = " ".join(w for w in raw_words if w)
        words = name_words(rest)
        whole = " ".join(words)
        found = self._vendor_in(words)
        vendor = ""
        if found is not None:
            vendor = " ".join(words[found[0] : found[1]])
            words = words[: found[0]] + words[found[1] :]
        return vendor, " ".join(words), version, whole

    # --- finding candidates ---------------------------------------------------------------

    def _product_score(self, ask: _Ask, product: _Product) -> tuple[float, tuple[str, ...]]:
        best = 0.0
        best_reading: tuple[str, ...] = ()
        for asked in ask.readings:
            for reading in product.readings:
                found = self._similarity.get((asked, reading))
                if found is None:
                    found = similarity(asked, reading, self._weight)
                    if len(self._similarity) < 200_000:
                        self._similarity[(asked, reading)] = found
                score = found.score
                if ask.free_text:
                    # free text holds other words too: what counts is the product's coverage
                    score = found.product_covered * (0.7 + 0.3 * found.query_covered)
                    score *= SIBLING_FACTOR if found.siblings else 1.0
                if score > best:
                    best, best_reading = score, reading
        return best, best_reading

    def _distinctive(self, ask: _Ask, reading: tuple[str, ...]) -> bool:
        """Without a vendor, the name must be nearly all of a product's name ("PC Unit" is
        not "Alaris PC Unit") and hold a word few products use."""
        common = {t for asked in ask.readings for t in asked} & set(reading)
        total = sum(self._weight(t) for t in set(reading))
        if not total or sum(self._weight(t) for t in common) / total < DISTINCTIVE_MIN_SCORE:
            return "".join(ask.tokens) == "".join(reading)  # "PIC iX" for "PICiX"
        if "".join(ask.tokens) == "".join(reading) and len("".join(reading)) >= 4:
            common.add("".join(reading))
        return any(
            len(self._by_token.get(t, ())) <= DISTINCTIVE_MAX_PRODUCTS and len(t) >= 3
            for t in common
        )

    def _may_be_distinctive(self, ask: _Ask) -> set[int]:
        """Every product for which ``_distinctive`` may hold: a reading whose words joined
        are the query's, or a word of the query used by few products."""
        joined = "".join(ask.tokens)
        found = set(self._by_token.get(joined, ())) | self._by_model_join.get(joined, set())
        for token in {t for asked in ask.readings for t in asked}:
            if len(token) >= 3:
                products = self._by_token.get(token)
                if products is not None and len(products) <= DISTINCTIVE_MAX_PRODUCTS:
                    found |= products
        return found

    def _candidates(self, ask: _Ask) -> list[_Candidate]:
        found: dict[int, _Candidate] = {}

        def offer(candidate: _Candidate) -> None:
            known = found.get(candidate.product)
            if known is None or _strength(candidate) > _strength(known):
                found[candidate.product] = candidate

        if ask.cpe is not None and ask.cpe.vendor not in ("*", "-"):
            for index in self._by_cpe.get((ask.cpe.vendor, ask.cpe.product), ()):
                offer(
                    _Candidate(
                        index,
                        "cpe",
                        f"CPE {ask.cpe.vendor}:{ask.cpe.product}",
                        1.0,
                        "CPE vendor:product equal",
                    )
                )
        if ask.purl is not None:
            for index in self._by_purl.get(ask.purl.key, ()):
                offer(
                    _Candidate(
                        index, "purl", f"purl {'/'.join(ask.purl.key)}", 1.0, "package URL equal"
                    )
                )
        if ask.vendor_ids:
            for index, link in self._vendor_products(ask):
                product = self.products[index]
                if not ask.tokens:
                    score, note = VENDOR_ONLY_FACTOR, "no product named; only the vendor matches"
                else:
                    score, _ = self._product_score(ask, product)
                    if score < MIN_PRODUCT_SCORE:
                        continue
                    note = _product_note(ask.product_text, product.product, score)
                offer(
                    _Candidate(
                        index,
                        link.kind,
                        self._vendor_note(ask.vendor_text, product, link),
                        score,
                        note,
                    )
                )
        elif ask.tokens:
            distinctive = self._may_be_distinctive(ask)
            for index in set().union(*(self._token_products(r) for r in ask.readings)):
                if index not in distinctive:
                    continue  # _distinctive would say no: not worth scoring
                product = self.products[index]
                score, reading = self._product_score(ask, product)
                if score >= DISTINCTIVE_MIN_SCORE and self._distinctive(ask, reading):
                    offer(
                        _Candidate(
                            index,
                            "none",
                            "no vendor given",
                            score,
                            _product_note(ask.product_text, product.product, score)
                            + " (a distinctive name)",
                        )
                    )
        return list(found.values())

    def _vendor_products(self, ask: _Ask) -> Iterable[tuple[int, VendorLink]]:
        seen: set[int] = set()
        token_hits = (
            set().union(*(self._token_products(r) for r in ask.readings)) if ask.tokens else None
        )
        for vendor_id in sorted(ask.vendor_ids):
            for entry_vendor in (vendor_id, *sorted(self.aliases.related_ids(vendor_id))):
                for index in self._by_vendor.get(entry_vendor, ()):
                    if index in seen or (token_hits is not None and index not in token_hits):
                        continue
                    seen.add(index)
                    product = self.products[index]
                    link = self.aliases.link(ask.vendor_ids, product.vendor_ids)
                    if link is None:
                        continue
                    yield index, link

    def _vendor_note(self, asked: str, product: _Product, link: VendorLink) -> str:
        if link.kind == SAME:
            if vendor_key(asked) == vendor_key(product.vendor):
                return f"vendor '{product.vendor}'"
            return f"vendor '{asked}' = '{product.vendor}' (alias)"
        return (
            f"vendor '{asked}' related to '{product.vendor}' "
            f"({self.aliases.display(link.query_id)} / "
            f"{self.aliases.display(link.entry_id)})"
        )

    def _token_products(self, tokens: tuple[str, ...]) -> set[int]:
        hits: set[int] = set()
        for token in tokens:
            hits |= self._by_token.get(token, set())
        for first, second in zip(tokens, tokens[1:], strict=False):
            hits |= self._by_token.get(first + second, set())
        hits |= self._by_token.get("".join(tokens), set())
        return hits

    # --- answering ------------------------------------------------------------------------

    def match(self, query: ComponentQuery) -> list[VulnMatch]:
        """Every vulnerability that may apply, best first; InputError for a bad CPE or purl."""
        ask = self._ask(query)
        best: dict[str, VulnMatch] = {}
        asked_build = build_of(ask.version)
        for candidate in self._candidates(ask):
            product = self.products[candidate.product]
            if product.build_line and asked_build and product.build_line != asked_build:
                continue  # another Windows feature update: its builds are not this one's
            rows = self._rows(candidate.product)
            offer = _Offers(best, candidate, product, ask, self.advisories).offer
            version = ask.version
            for group in rows.concerning(version):
                verdict = group.versions.verdict(version)
                if verdict.status != verdicts.UNAFFECTED:
                    offer(verdict, group.vuln_ids)
            # a record with commit ranges and release versions for the same product: the
            # release versions decide ("Linux": git ranges and semver ranges side by side)
            judged = [
                (vuln_id, versions.verdict(ask.version)) for vuln_id, versions in rows.repeated
            ]
            decided = {vuln_id for vuln_id, verdict in judged if verdict.status != verdicts.UNKNOWN}
            for vuln_id, verdict in judged:
                if verdict.status == verdicts.UNAFFECTED:
                    continue
                if verdict.status == verdicts.UNKNOWN and vuln_id in decided:
                    continue
                offer(verdict, (vuln_id,))
        return sorted(best.values(), key=lambda m: (-m.confidence, m.id))

    def holds(self, query: ComponentQuery) -> tuple[bool, str]:
        """Whether the index holds records of the queried product (or its CPE or purl), and
        what it holds: where it does not, no match means "not covered", not "none"."""
        ask = self._ask(query)
        found = self._candidates(ask)
        if found:
            names = sorted({self.products[c.product].product for c in found})
            shown = ", ".join(f"'{n}'" for n in names[:3]) + (" ..." if len(names) > 3 else "")
            return True, f"the knowledge base holds records of {shown}"
        if ask.vendor_ids and any(self._by_vendor.get(v) for v in ask.vendor_ids):
            count = len({i for v in ask.vendor_ids for i in self._by_vendor.get(v, ())})
            return False, (
                f"the knowledge base holds {count} product(s) of '{ask.vendor_text}' "
                f"but none named like '{ask.product_text}'"
            )
        named = ask.vendor_text or ask.product_text or (query.cpe or query.purl or "")
        return False, f"no record in the knowledge base names '{named}'"

    def match_all(self, queries: Iterable[ComponentQuery]) -> list[list[VulnMatch]]:
        return [self.match(query) for query in queries]


class _Offers:
    """One candidate's verdicts as matches: each vulnerability as judged, kept where it
    beats what ``best`` holds for it (higher confidence, then the shorter reason; the first
    on a tie)."""

    __slots__ = ("advisories", "base", "best", "prefix", "product", "vendor")

    def __init__(
        self,
        best: dict[str, VulnMatch],
        candidate: _Candidate,
        product: _Product,
        ask: _Ask,
        advisories: dict[str, list[str]],
    ) -> None:
        self.best = best
        self.base = VENDOR_FACTOR[candidate.vendor_kind] * candidate.product_score
        parts = (candidate.vendor_note, candidate.product_note, ask.release_note)
        self.prefix = "; ".join(part for part in parts if part)
        self.vendor = product.vendor
        self.product = product.product
        self.advisories = advisories

    def offer(self, verdict: verdicts.Verdict, vuln_ids: Iterable[str]) -> None:
        basis = verdict.basis
        confidence = self.base * VERSION_FACTOR.get(basis, 0.45)
        if verdict.status == verdicts.UNKNOWN:
            confidence = min(confidence, VERSION_FACTOR[basis])
        confidence = round(min(confidence, 1.0), 4)
        note = _version_note(verdict)
        reason = f"{self.prefix}; {note}" if self.prefix and note else (self.prefix or note)
        best, advisories = self.best, self.advisories
        for vuln_id in vuln_ids:
            known = best.get(vuln_id)
            if known is not None and known.confidence > confidence:
                continue
            advised = advisories.get(vuln_id)
            source = ", ".join(sorted(advised)) if advised else ""
            said = f"{reason} ({source})" if source else reason
            if known is None or (confidence, -len(said)) > (known.confidence, -len(known.reason)):
                best[vuln_id] = VulnMatch(
                    vuln_id, confidence, said, self.vendor, self.product, source
                )


_MODEL = re.compile(r"\bmodel\s+(?:number\s+)?([A-Za-z0-9][A-Za-z0-9-]{3,})", re.IGNORECASE)


def _models_in(constraints: Iterable[dict]) -> list[str]:
    """Model numbers written into published version text ("8.x model 35700BAX2")."""
    found: list[str] = []
    for constraint in constraints:
        for key in ("expression", "version", "raw"):
            value = constraint.get(key) if isinstance(constraint, dict) else None
            if isinstance(value, str):
                found += _MODEL.findall(value)
    return list(dict.fromkeys(found))


def _strength(candidate: _Candidate) -> float:
    return VENDOR_FACTOR[candidate.vendor_kind] * candidate.product_score


def _product_note(asked: str, published: str, score: float) -> str:
    if re.sub(r"\W+", "", asked.casefold()) == re.sub(r"\W+", "", published.casefold()):
        return f"product '{published}'"
    return f"product '{asked}' matches '{published}' ({score:.2f})"


def _version_note(verdict: verdicts.Verdict) -> str:
    if verdict.basis == verdicts.BY_RANGE:
        return f"version {verdict.why}"
    return verdict.why
