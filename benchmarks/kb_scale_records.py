"""Synthetic CVE JSON 5 records shaped like the shared real ones, for the scale benchmark.

There is no full NVD feed on this machine, so records are derived from the real CVE JSON 5
records in ``<data>/cve-records-vulnrichment/records``: each synthetic record is a copy of a
real one (its JSON shape kept exactly) with

- a new id ``CVE-9YYY-NNNNNN`` (year 9000 and later: never a real CVE id), written wherever
  the real id appeared in the record;
- each affected item's vendor and product drawn from the real records' vocabulary or from
  generated names (and its CPEs rewritten to name them);
- the first number of every dotted version in an affected item shifted by one offset per
  item (ranges keep their order), git commit ids replaced by other hex of the same length;
- each CVSS object replaced by a real CVSS object of the same version from another record.
"""

from __future__ import annotations

import copy
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SYNTHETIC_YEAR_FLOOR = 9000
_SYLLABLES = (
    "ka ro mi ta le no vu sa di pe xo lu ne ri zo fa ge hu bi tor lin med cor vex "
    "dyn ax qua tri syn neo gen tek lab bio car pul scan"
).split()
_DOTTED = re.compile(r"^(\d+)((?:\.\d+)*.*)$")
_HEX = re.compile(r"^[0-9a-f]{7,40}$")
_CVSS_KEYS = ("cvssV2_0", "cvssV3_0", "cvssV3_1", "cvssV4_0")


def synthetic_id(number: int) -> str:
    """The ``number``-th synthetic id: CVE-9000-000000, CVE-9000-000001, ..."""
    return f"CVE-{SYNTHETIC_YEAR_FLOOR + number // 1_000_000}-{number % 1_000_000:06d}"


def generated_name(number: int, salt: int) -> str:
    """A pronounceable made-up name ("Kamita Vexlin"), one per (number, salt)."""
    picker = random.Random(number * 7919 + salt)
    words = [
        "".join(picker.choice(_SYLLABLES) for _ in range(picker.randint(2, 3)))
        for _ in range(picker.randint(1, 2))
    ]
    return " ".join(word.capitalize() for word in words) + f" {number % 97}"


def read_real_records(data: Path) -> list[dict[str, Any]]:
    folder = data / "cve-records-vulnrichment" / "records"
    return [json.loads(path.read_text()) for path in sorted(folder.glob("CVE-*.json"))]


def _containers(record: dict[str, Any]) -> list[dict[str, Any]]:
    containers = record["containers"]
    return [containers["cna"], *containers.get("adp", [])]


@dataclass
class Vocabulary:
    """What the real records hold: (vendor, product) pairs and CVSS objects by version."""

    products: list[tuple[str, str]]
    cvss: dict[str, list[dict[str, Any]]]

    @classmethod
    def of(cls, records: list[dict[str, Any]]) -> Vocabulary:
        products: dict[tuple[str, str], None] = {}
        cvss: dict[str, list[dict[str, Any]]] = {key: [] for key in _CVSS_KEYS}
        for record in records:
            for container in _containers(record):
                for item in container.get("affected", []):
                    if item.get("vendor") and item.get("product"):
                        products[(item["vendor"], item["product"])] = None
                for metric in container.get("metrics", []):
                    for key in _CVSS_KEYS:
                        if key in metric:
                            cvss[key].append(metric[key])
        return cls(list(products), cvss)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "x"


def _shift_version(value: str, offset: int, picker: random.Random) -> str:
    if _HEX.match(value) and not value.isdigit():
        return "".join(picker.choice("0123456789abcdef") for _ in value)
    found = _DOTTED.match(value)
    if not found or value == "0":
        return value
    return f"{int(found.group(1)) + offset}{found.group(2)}"


def _vary_item(item: dict[str, Any], vendor: str, product: str, picker: random.Random) -> None:
    if "vendor" in item:
        item["vendor"] = vendor
    if "product" in item:
        item["product"] = product
    if "cpes" in item:
        item["cpes"] = [
            ":".join([*parts[:3], _slug(vendor), _slug(product), *parts[5:]])
            for parts in (cpe.split(":") for cpe in item["cpes"])
        ]
    offset = picker.randint(0, 4)
    for entry in item.get("versions", []):
        for key in ("version", "lessThan", "lessThanOrEqual"):
            if isinstance(entry.get(key), str):
                entry[key] = _shift_version(entry[key], offset, picker)


class RecordMaker:
    """Makes synthetic record number 0, 1, 2, ... from the real records, reproducibly.

    Names: about a quarter of affected items keep a real (vendor, product) pair; the rest get
    one of ``len(records) // 8`` generated vendors and ``len(records) // 2`` generated
    products (NVD's ratio of products to CVEs is of that order).
    """

    def __init__(self, real: list[dict[str, Any]], total: int, seed: int = 13) -> None:
        self.real = real
        self.vocabulary = Vocabulary.of(real)
        self.vendor_count = max(20, total // 8)
        self.product_count = max(50, total // 2)
        self.seed = seed

    def names(self, picker: random.Random) -> tuple[str, str]:
        if picker.random() < 0.25:
            return picker.choice(self.vocabulary.products)
        product = picker.randrange(self.product_count)
        # a product belongs to one vendor, as in NVD
        return generated_name(product % self.vendor_count, 1), generated_name(product, 2)

    def make(self, number: int) -> dict[str, Any]:
        picker = random.Random(self.seed * 1_000_003 + number)
        template = self.real[number % len(self.real)]
        real_id = template["cveMetadata"]["cveId"]
        record: dict[str, Any] = json.loads(
            re.sub(re.escape(real_id) + r"(?!\d)", synthetic_id(number), json.dumps(template))
        )
        for container in _containers(record):
            for item in container.get("affected", []):
                vendor, product = self.names(picker)
                _vary_item(item, vendor, product, picker)
            for metric in container.get("metrics", []):
                for key in _CVSS_KEYS:
                    pool = self.vocabulary.cvss[key]
                    if key in metric and pool:
                        metric[key] = copy.deepcopy(picker.choice(pool))
        return record

    def batches(self, count: int, size: int) -> Iterator[list[dict[str, Any]]]:
        for start in range(0, count, size):
            yield [self.make(number) for number in range(start, min(count, start + size))]
