"""Queries and ground truth for matching, written from the raw CSAF product trees.

Independent of mdrisk's importer and matcher on purpose: this module reads the CSAF JSON
itself, walks the product trees itself and decides "is version v inside this published version
text" with its own deliberately small rules (plain dotted numbers, "x" wildcards, comparators,
"and below", exact text). When those rules cannot decide, the answer is "cannot tell" and the
CVEs concerned are neither required nor counted as wrong.

For every product leaf (vendor / product_name / product_version[_range]) it writes queries an
analyst would type: the vendor as published, its abbreviation, the name the ICS Advisory Project
table gives the same advisory, a case change; the product as published, upper/lower case,
hyphenated model numbers, a trademark sign, "firmware" appended, the vendor prefixed or
removed, parenthesised remarks and "Model N" phrases dropped, a model number from the version
text added; versions inside the published range (each listed version, the bound itself, a lower
one) and versions past it (the fixed version of "< X", X bumped for "<= X", the next release
after a list). Leaves whose version text is not a plain version are asked with their exact text
(model numbers such as "MMT-1710") or with no version (shipping dates, descriptions).

Truth for one query: the CVEs of every leaf, in any advisory, whose product is the same (same
words once the vendor's own words, case and punctuation are set aside) and whose version text
contains the queried version. "Acceptable" CVEs — neither required nor wrong — come from leaves
of the same product whose version text cannot be decided, and from leaves of a related product
of the same vendor (one name's words contain the other's: "Alaris PC Unit" and "Alaris PC Unit
Model 8015") whose version text contains the version or cannot be decided.
"""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

_STOP = {
    "model",
    "models",
    "the",
    "and",
    "of",
    "for",
    "with",
    "series",
    "system",
    "systems",
    "product",
    "products",
    "software",
    "firmware",
    "version",
    "inc",
    "a",
    "an",
}
_CORPORATE = {
    "inc",
    "ltd",
    "co",
    "corp",
    "corporation",
    "company",
    "gmbh",
    "ag",
    "nv",
    "llc",
    "oy",
    "plc",
}


@dataclass(frozen=True)
class Leaf:
    advisory: str
    vendor: str
    product: str
    version_text: str
    is_range: bool
    cves: frozenset[str]


@dataclass(frozen=True)
class Query:
    vendor: str | None
    product: str
    version: str | None
    leaf: Leaf
    kind: str  # "affected", "fixed" or "no-version"
    expected: frozenset[str]
    acceptable: frozenset[str]
    form: str = "fields"  # "fields", "text" (one free-text string) or "cpe"
    text: str | None = None
    cpe: str | None = None


@dataclass
class Truth:
    leaves: list[Leaf]
    table: dict[str, str] = field(default_factory=dict)
    by_identity: dict[tuple[str, tuple[str, ...]], list[Leaf]] = field(default_factory=dict)
    by_vendor: dict[str, list[Leaf]] = field(default_factory=dict)
    keys: dict[int, tuple[str, tuple[str, ...]]] = field(default_factory=dict)

    def key(self, leaf: Leaf) -> tuple[str, tuple[str, ...]]:
        """One key per product: leaves with the same words or the same spelling share it."""
        return self.keys.get(id(leaf)) or (vendor_identity(leaf, self.table), identity(leaf))


# --- reading the advisories ------------------------------------------------------------------


def read_leaves(folder: Path) -> list[Leaf]:
    leaves: list[Leaf] = []
    for path in sorted(folder.rglob("*.json")):
        document = json.loads(path.read_text("utf-8"))
        advisory = document["document"]["tracking"]["id"]
        found: dict[str, tuple[str, str, str, bool]] = {}
        for branch in document.get("product_tree", {}).get("branches", []):
            _walk(branch, "", "", found)
        cves: dict[str, set[str]] = defaultdict(set)
        for vulnerability in document.get("vulnerabilities", []):
            if not vulnerability.get("cve"):
                continue
            for product_id in vulnerability.get("product_status", {}).get("known_affected", []):
                cves[product_id].add(vulnerability["cve"])
        for product_id, (vendor, product, version, is_range) in found.items():
            if cves.get(product_id):
                leaves.append(
                    Leaf(advisory, vendor, product, version, is_range, frozenset(cves[product_id]))
                )
    return leaves


def _walk(
    branch: dict, vendor: str, product: str, found: dict[str, tuple[str, str, str, bool]]
) -> None:
    """Every product under ``branch``: product_id -> (vendor, product, version text, range?)."""
    category, name = branch.get("category"), branch.get("name", "")
    if category == "vendor":
        vendor = name
    elif category == "product_name":
        product = name
    version = name if category in ("product_version", "product_version_range") else ""
    if "product" in branch:
        found[branch["product"]["product_id"]] = (
            vendor,
            product or branch["product"]["name"],
            version,
            category == "product_version_range",
        )
    for child in branch.get("branches", []):
        _walk(child, vendor, product, found)


def table_vendors(csv_path: Path) -> dict[str, str]:
    """ICSMA id -> the vendor name the ICS Advisory Project table gives it."""
    if not csv_path.is_file():
        return {}
    with csv_path.open(encoding="utf-8-sig", newline="") as handle:
        return {
            row["ICS-CERT_Number"].strip().upper(): row["Vendor"].strip()
            for row in csv.DictReader(handle)
            if row.get("Vendor")
        }


# --- identity of products ----------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^0-9a-z]+", text.casefold()) if w]


def _vendor_words(vendor: str) -> set[str]:
    return {w for w in _words(vendor) if w not in _CORPORATE}


def _product_words(leaf: Leaf) -> list[str]:
    vendor = _vendor_words(leaf.vendor)
    product = re.sub(
        r"\([^()]*\)|,?\s+not\s+including\b.*$", " ", leaf.product, flags=re.IGNORECASE
    )
    product = re.sub(r"(?<=[0-9A-Za-z])-(?=[0-9A-Za-z])", "", product)  # Wi-Fi = WiFi
    words = [w for w in _words(product) if w not in _STOP and w not in vendor]
    return words or _words(leaf.product)


def identity(leaf: Leaf) -> tuple[str, ...]:
    """The product's words without the vendor's own words, remarks ("(WLAN only)", ", not
    including ..."), case, punctuation, order and a few filler words."""
    return tuple(sorted(set(_product_words(leaf))))


def spelling(leaf: Leaf) -> str:
    """The same words in order with no spaces: "NM 750b" and "NM750b" are one spelling."""
    return "".join(_product_words(leaf))


def vendor_identity(leaf: Leaf, table: dict[str, str]) -> str:
    """The first word of the vendor as the ICS Advisory Project table names the advisory's
    vendor (a third party's cleaned name), else as the CSAF document does."""
    words = _words(table.get(leaf.advisory.upper(), "") or leaf.vendor)
    return words[0] if words else ""


def related(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    left, right = set(a), set(b)
    return bool(left and right) and (left <= right or right <= left)


# --- the deliberately small version rules ---------------------------------------------------------

_NUMBER = re.compile(r"^v?(\d+(?:\.\d+)*)$")
_WILD = re.compile(r"^v?(\d+(?:\.\d+)*)((?:\.[x*])+)$")
_COMPARE = re.compile(r"^(<=|<|>=|>)\s*v?(\d+(?:\.\d+)*)((?:\.[x*])*)$")


def _numbers(text: str) -> tuple[int, ...] | None:
    found = _NUMBER.match(text.strip().casefold())
    return tuple(int(p) for p in found.group(1).split(".")) if found else None


def _cmp(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    size = max(len(a), len(b))
    a, b = a + (0,) * (size - len(a)), b + (0,) * (size - len(b))
    return (a > b) - (a < b)


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().casefold())


def contains(version_text: str, version: str | None) -> bool | None:
    """Is ``version`` inside the published ``version_text``? None: these rules cannot tell."""
    spec = _clean(version_text)
    if spec == "vers:all/*" or spec.startswith("* ") or spec == "*":
        return True
    if version is None:
        return None
    if _clean(version) == spec:
        return True
    asked = _numbers(version)
    spec = re.sub(r"^(.*?)\s+and\s+below$", r"<= \1", spec)
    parts = [p.strip() for p in spec.split("|")]
    terms = []
    for part in parts:
        exact, wild, compare = _NUMBER.match(part), _WILD.match(part), _COMPARE.match(part)
        if exact:
            terms.append(("=", _numbers(part), False))
        elif wild:
            terms.append(("=", tuple(int(p) for p in wild.group(1).split(".")), True))
        elif compare:
            terms.append(
                (
                    compare.group(1),
                    tuple(int(p) for p in compare.group(2).split(".")),
                    bool(compare.group(3)),
                )
            )
        else:
            return None
    if asked is None:
        return None

    def holds(operator: str, bound: tuple[int, ...], prefix: bool) -> bool:
        value = asked[: len(bound)] + (0,) * max(0, len(bound) - len(asked)) if prefix else asked
        side = _cmp(value, bound)
        return {"=": side == 0, "<": side < 0, "<=": side <= 0, ">": side > 0, ">=": side >= 0}[
            operator
        ]

    operators = [t[0] for t in terms]
    if len(terms) == 2 and operators[0] in (">", ">=") and operators[1] in ("<", "<="):
        return holds(*terms[0]) and holds(*terms[1])
    return any(holds(*term) for term in terms)


# --- versions to ask -----------------------------------------------------------------------------


def _text(numbers: tuple[int, ...]) -> str:
    return ".".join(str(n) for n in numbers)


def _lower(numbers: tuple[int, ...]) -> tuple[int, ...] | None:
    for index in range(len(numbers) - 1, -1, -1):
        if numbers[index] > 0:
            return numbers[:index] + (numbers[index] - 1,) + numbers[index + 1 :]
    return None


def _bump(numbers: tuple[int, ...]) -> tuple[int, ...]:
    return numbers[:-1] + (numbers[-1] + 1,)


def versions_to_ask(leaf: Leaf) -> tuple[list[str], list[str]]:
    """(versions inside, versions past) the leaf's version text, by the rules above."""
    spec = _clean(leaf.version_text)
    spec = re.sub(r"^(.*?)\s+and\s+below$", r"<= \1", spec)
    if spec == "vers:all/*":
        return ["2.1", "10.0.1"], []
    inside: list[str] = []
    past: list[str] = []
    parts = [p.strip() for p in spec.split("|")]
    if all(_NUMBER.match(p) for p in parts):
        listed = [_numbers(p) for p in parts]
        inside += [_text(n) for n in listed]
        inside += ["v" + _text(listed[0])]
        past.append(
            _text(_bump(max(listed))) if len(max(listed)) > 1 else _text(max(listed) + (1,))
        )
        return inside, past
    if len(parts) == 1 and _WILD.match(parts[0]):
        base = tuple(int(p) for p in _WILD.match(parts[0]).group(1).split("."))
        inside += [_text(base + (4,)), _text(base + (0, 2))]
        past.append(_text(_bump(base) + (0,)))
        return inside, past
    compares = [_COMPARE.match(p) for p in parts]
    if all(compares) and not any(c.group(3) for c in compares):
        terms = [(c.group(1), tuple(int(p) for p in c.group(2).split("."))) for c in compares]
        if len(terms) == 1 and terms[0][0] == "<=":
            bound = terms[0][1]
            inside += [_text(bound), "v" + _text(bound)]
            if _lower(bound):
                inside.append(_text(_lower(bound)))
            past += [_text(_bump(bound)), _text((bound[0] + 1, 0))]
        elif len(terms) == 1 and terms[0][0] == "<":
            bound = terms[0][1]
            if _lower(bound):
                inside.append(_text(_lower(bound)))
            past += [_text(bound), _text(_bump(bound))]
        elif len(terms) == 2 and terms[0][0] in (">", ">=") and terms[1][0] in ("<", "<="):
            low, high = terms[0][1], terms[1][1]
            if terms[0][0] == ">=":
                inside.append(_text(low))
            if terms[1][0] == "<=":
                inside.append(_text(high))
            past.append(_text(_bump(high)) if terms[1][0] == "<=" else _text(high))
            if _lower(low) and terms[0][0] == ">=":
                past.append(_text(_lower(low)))
        elif len(terms) == 1 and terms[0][0] in (">=", ">"):
            inside.append(_text(_bump(terms[0][1])))
            if _lower(terms[0][1]):
                past.append(_text(_lower(terms[0][1])))
        return inside, past
    return [], []


# --- names to ask ---------------------------------------------------------------------------------


def vendor_variants(leaf: Leaf, table: dict[str, str]) -> list[str]:
    vendor = leaf.vendor.strip()
    variants = [vendor]
    abbreviation = re.search(r"\(([^()]+)\)\s*$", vendor)
    if abbreviation:
        variants.append(abbreviation.group(1).strip())
    listed = table.get(leaf.advisory.upper())
    if listed:
        variants.append(listed)
    plain = re.sub(r"\s*\([^()]*\)", "", vendor).strip(" ,")
    plain = re.sub(r",?\s+(inc|ltd|co|corp|ag|gmbh|n\.?v)\.?$", "", plain, flags=re.I)
    variants.append(plain.upper() if len(plain) <= 12 else plain + " Inc.")
    return list(dict.fromkeys(v for v in variants if v))


def product_variants(leaf: Leaf, short_vendor: str) -> list[str]:
    product = leaf.product.strip()
    variants = [product, product.upper(), product.lower()]
    hyphened = re.sub(r"\b([A-Za-z]{2,4})(\d{2,})\b", r"\1-\2", product)
    variants.append(hyphened)
    words = product.split()
    if len(words) > 1:
        variants.append(words[0] + "\u2122 " + " ".join(words[1:]))
    variants.append(product + " firmware")
    bare = re.sub(r"\s*\([^()]*\)", "", product).strip()
    variants.append(bare)
    variants.append(re.sub(r",?\s*-?\s*\bModel( number)?\s+\S+\s*$", "", bare, flags=re.I))
    abbreviation = re.search(r"\(([A-Za-z][A-Za-z0-9]{2,8})\)", product)
    if abbreviation:
        variants.append(abbreviation.group(1))  # "Connex Spot Monitor (CSM)" -> "CSM"
    model = re.search(r"\bmodel\s+([0-9A-Z]{4,})", leaf.version_text, flags=re.I)
    if model:
        variants.append(f"{product} {model.group(1)}")
    vendor_first = short_vendor.split()[0] if short_vendor else ""
    if vendor_first and product.casefold().startswith(vendor_first.casefold() + " "):
        variants.append(product[len(vendor_first) + 1 :])
    elif short_vendor:
        variants.append(f"{short_vendor} {product}")
    return list(dict.fromkeys(v.strip() for v in variants if v.strip()))


# --- truth ---------------------------------------------------------------------------------------


def build_truth(leaves: list[Leaf], table: dict[str, str]) -> Truth:
    truth = Truth(leaves, table)
    # leaves sharing words or spelling (under one vendor) are one product: first key wins
    first: dict[tuple[str, object], tuple[str, tuple[str, ...]]] = {}
    for leaf in leaves:
        vendor = vendor_identity(leaf, table)
        own = (vendor, identity(leaf))
        key = first.get((vendor, identity(leaf))) or first.get((vendor, spelling(leaf))) or own
        first.setdefault((vendor, identity(leaf)), key)
        first.setdefault((vendor, spelling(leaf)), key)
        truth.keys[id(leaf)] = key
    by_identity: dict[tuple[str, tuple[str, ...]], list[Leaf]] = defaultdict(list)
    by_vendor: dict[str, list[Leaf]] = defaultdict(list)
    for leaf in leaves:
        by_identity[truth.key(leaf)].append(leaf)
        by_vendor[vendor_identity(leaf, table)].append(leaf)
    truth.by_identity, truth.by_vendor = dict(by_identity), dict(by_vendor)
    return truth


def judge(truth: Truth, leaf: Leaf, version: str | None) -> tuple[frozenset[str], frozenset[str]]:
    """(expected CVEs, acceptable CVEs) for asking about ``leaf``'s product at ``version``."""
    expected: set[str] = set()
    acceptable: set[str] = set()
    own = identity(leaf)
    for other in truth.by_identity.get(truth.key(leaf), []):
        inside = contains(other.version_text, version)
        if inside is True:
            expected |= other.cves
        elif inside is None:
            acceptable |= other.cves
    if version is None:
        expected |= leaf.cves
    for other in truth.by_vendor.get(vendor_identity(leaf, truth.table), []):
        if truth.key(other) != truth.key(leaf) and related(identity(other), own):
            if contains(other.version_text, version) is not False:
                acceptable |= other.cves
    return frozenset(expected), frozenset(acceptable - expected)


def queries_for(truth: Truth, leaf: Leaf, table: dict[str, str]) -> list[Query]:
    vendors = vendor_variants(leaf, table)
    # a vendor an analyst would put before a product name: one short name, not a joint list
    short = [v for v in vendors if len(v.split()) <= 2 and not re.search(r"[,&]| and ", v)]
    short_vendor = short[0] if short else ""
    products = product_variants(leaf, short_vendor)
    inside, past = versions_to_ask(leaf)
    if not inside and not past:
        plain = parse_exact(leaf.version_text)
        inside = [plain] if plain else []
    names = [(vendors[i % len(vendors)], products[i]) for i in range(len(products))]
    asked: list[tuple[str | None, str]] = [(v, "affected") for v in inside]
    asked += [(v, "fixed") for v in past]
    if not asked:
        asked = [(None, "no-version")]
    queries = []
    for number, (vendor, product) in enumerate(names):
        for version, kind in asked:
            if kind == "fixed" and number % 2:
                continue  # half the name variants are enough to test fixed versions
            expected, acceptable = judge(truth, leaf, version)
            queries.append(Query(vendor, product, version, leaf, kind, expected, acceptable))
    # the same component written as free text and as a CPE an analyst would build
    for version, kind in asked:
        expected, acceptable = judge(truth, leaf, version)
        words = [short_vendor, leaf.product, "firmware", version or ""]
        text = " ".join(w for w in words if w)
        queries.append(Query(None, "", None, leaf, kind, expected, acceptable, "text", text))
        if short_vendor:
            cpe = "cpe:2.3:h:{}:{}:{}:*:*:*:*:*:*:*".format(
                _slug(short_vendor),
                _slug(re.sub(r"\([^()]*\)", "", leaf.product)),
                _slug(version) if version else "*",
            )
            queries.append(Query(None, "", None, leaf, kind, expected, acceptable, "cpe", cpe=cpe))
        plain = _numbers(version) if version else None
        if plain is not None and len(plain) >= 2:
            trailing = version + ".0"  # "9.19" written "9.19.0"
            queries.append(
                Query(vendors[0], leaf.product, trailing, leaf, kind, expected, acceptable)
            )
    return queries


def _slug(text: str) -> str:
    """A CPE attribute: lower case, spaces as "_", CPE special characters escaped."""
    text = re.sub(r"\s+", "_", text.strip().casefold())
    return re.sub(r"([^0-9a-z_.\-])", r"\\\1", text)


def parse_exact(version_text: str) -> str | None:
    """A single exact version text worth asking verbatim ("MMT-1710", "BT03", "B.02")."""
    text = version_text.strip()
    if "|" in text or any(c in text for c in "<>*") or len(text) > 24:
        return None
    if not re.search(r"\d", text) or len(text.split()) > 3:
        return None
    return text


def all_queries(data_dir: Path, select=None) -> tuple[list[Query], Truth]:
    leaves = read_leaves(data_dir / "cisa-csaf-icsma")
    table = table_vendors(data_dir / "ics-advisory-project" / "CISA_ICS_ADV_Master.csv")
    truth = build_truth(leaves, table)
    queries: list[Query] = []
    for leaf in leaves:
        if select is None or select(leaf):
            queries += queries_for(truth, leaf, table)
    return queries, truth


def held_out(leaf: Leaf) -> bool:
    """Half the advisories, chosen by id, kept out of any tuning."""
    return sum(map(ord, leaf.advisory)) % 2 == 1


@dataclass
class Score:
    returned: int = 0
    correct: int = 0
    acceptable: int = 0
    expected: int = 0
    found: int = 0
    wrong: list[tuple[Query, str]] = field(default_factory=list)
    missed: list[tuple[Query, str]] = field(default_factory=list)

    @property
    def precision(self) -> float:
        judged = self.returned - self.acceptable
        return self.correct / judged if judged else 1.0

    @property
    def strict_precision(self) -> float:
        return self.correct / self.returned if self.returned else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.expected if self.expected else 1.0


def score(queries: list[Query], answers: list[set[str]]) -> Score:
    result = Score()
    for query, answer in zip(queries, answers, strict=True):
        result.returned += len(answer)
        result.correct += len(answer & query.expected)
        result.acceptable += len(answer & query.acceptable)
        result.expected += len(query.expected)
        result.found += len(answer & query.expected)
        for cve in sorted(answer - query.expected - query.acceptable):
            result.wrong.append((query, cve))
        for cve in sorted(query.expected - answer):
            result.missed.append((query, cve))
    return result
