"""A CSAF 2.0 product tree as a map product_id -> (vendor, product, version as published).

Branches nest to any depth (vendor / product_family / product_name / product_version /
product_version_range, plus service_pack, patch_level and descriptive categories); products
are also defined by ``full_product_names`` and by ``relationships`` (a component installed on
or part of another product, which we attribute to the component).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from mdrisk.kb.importers._cpe import parse_cpe
from mdrisk.parsing.shape import (
    MAX_DEPTH,
    Shape,
    obj,
    opt_arr,
    opt_obj,
    opt_text,
    required,
    required_text,
    text,
)

BRANCH_CATEGORIES = (
    "architecture",
    "host_name",
    "language",
    "legacy",
    "patch_level",
    "product_family",
    "product_name",
    "product_version",
    "product_version_range",
    "service_pack",
    "specification",
    "vendor",
)
# A product_version written like a range ("vers:all/*", "* (end-of-life 2011)", "2.3.6 and
# below") or a list ("1.1 | 1.2") is kept as the vendor wrote it, but as an expression for
# the matcher to read, not as one exact version.
_EXPRESSION_LIKE = re.compile(
    r"^\s*(vers:|[<>=*])|\||\b(and|or)\s+(below|earlier|prior|lower"
    r"|older|later|newer|above|higher)\b",
    re.I,
)


@dataclass(frozen=True)
class Product:
    product_id: str
    vendor: str
    product: str
    version: str | None  # as published
    is_range: bool  # version is a product_version_range (or written like one)
    name: str  # the full product name
    family: str = ""
    cpe: str | None = None
    purl: str | None = None

    def constraint(self, status: str) -> dict[str, Any] | None:
        """The normalised version constraint, or None when every version is meant."""
        if self.version is None:
            return None
        key = "expression" if self.is_range else "version"
        return {"status": status, key: self.version, "raw": self.version}

    def label(self) -> str:
        return " ".join(part for part in (self.vendor, self.product, self.version or "") if part)


@dataclass(frozen=True)
class _Path:
    vendor: str = ""
    family: str = ""
    product: str = ""
    version: str | None = None
    is_range: bool = False


def product_map(
    tree: dict[str, Any], where: str = "product_tree"
) -> tuple[dict[str, Product], dict[str, list[str]]]:
    """({product_id: Product}, {group_id: [product_id]}) of a product tree."""
    products: dict[str, Product] = {}
    stack = [
        (branch, f"{where}.branches[{index}]", _Path(), 1)
        for index, branch in enumerate(opt_arr(tree, "branches", where))
    ]
    stack.reverse()
    while stack:
        item, at, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise Shape(at, f"branches nested deeper than {MAX_DEPTH} levels")
        branch = obj(item, at)
        category = required_text(branch, "category", at)
        if category not in BRANCH_CATEGORIES:
            raise Shape(f"{at}.category", f"'{category[:40]}' is not a CSAF branch category")
        path = _extend(path, category, required_text(branch, "name", at))
        if branch.get("product") is not None:
            _define(
                products, _from_branch(branch["product"], f"{at}.product", path), f"{at}.product"
            )
        children = opt_arr(branch, "branches", at)
        stack += reversed(
            [
                (child, f"{at}.branches[{index}]", path, depth + 1)
                for index, child in enumerate(children)
            ]
        )
    for index, item in enumerate(opt_arr(tree, "full_product_names", where)):
        at = f"{where}.full_product_names[{index}]"
        _define(products, _from_branch(item, at, _Path()), at)
    for index, item in enumerate(opt_arr(tree, "relationships", where)):
        at = f"{where}.relationships[{index}]"
        relationship = obj(item, at)
        component = defined(
            products, required(relationship, "product_reference", at), f"{at}.product_reference"
        )
        defined(
            products,
            required(relationship, "relates_to_product_reference", at),
            f"{at}.relates_to_product_reference",
        )
        full = obj(required(relationship, "full_product_name", at), f"{at}.full_product_name")
        product_id = required_text(full, "product_id", f"{at}.full_product_name")
        name = required_text(full, "name", f"{at}.full_product_name")
        _define(
            products,
            replace(component, product_id=product_id, name=name),
            f"{at}.full_product_name",
        )
    groups: dict[str, list[str]] = {}
    for index, item in enumerate(opt_arr(tree, "product_groups", where)):
        at = f"{where}.product_groups[{index}]"
        group = obj(item, at)
        members = opt_arr(group, "product_ids", at)
        groups[required_text(group, "group_id", at)] = [
            defined(products, member, f"{at}.product_ids[{number}]").product_id
            for number, member in enumerate(members)
        ]
    return products, groups


def defined(products: dict[str, Product], product_id: Any, where: str) -> Product:
    """The product a reference names; Shape when the tree does not define it."""
    key = text(product_id, where)
    if key not in products:
        raise Shape(
            where,
            f"product '{key[:60]}' is not defined in the product_tree",
            fix="define the product in product_tree or correct the reference",
        )
    return products[key]


def _extend(path: _Path, category: str, name: str) -> _Path:
    if category == "vendor":
        return replace(path, vendor=name)
    if category == "product_family":
        return replace(path, family=name)
    if category == "product_name":
        return replace(path, product=name)
    if category in ("product_version", "product_version_range"):
        return replace(
            path,
            version=name,
            is_range=category == "product_version_range"
            or _EXPRESSION_LIKE.search(name) is not None,
        )
    if category in ("service_pack", "patch_level") and path.version is not None:
        return replace(path, version=f"{path.version} {name}")
    return path


def _from_branch(item: Any, where: str, path: _Path) -> Product:
    """A full_product_name object placed at ``path`` in the tree."""
    product = obj(item, where)
    product_id = required_text(product, "product_id", where)
    name = required_text(product, "name", where)
    helper = opt_obj(product, "product_identification_helper", where)
    cpe = opt_text(helper, "cpe", f"{where}.product_identification_helper")
    purl = opt_text(helper, "purl", f"{where}.product_identification_helper")
    vendor, product_name, version, is_range = (
        path.vendor,
        path.product or path.family,
        path.version,
        path.is_range,
    )
    named = parse_cpe(cpe) if cpe else None
    if named is not None:
        vendor = vendor or named.vendor
        product_name = product_name or named.product
        if version is None and named.version not in ("*", "-"):
            version = named.version
    return Product(
        product_id, vendor, product_name or name, version, is_range, name, path.family, cpe, purl
    )


def _define(products: dict[str, Product], product: Product, where: str) -> None:
    if product.product_id in products:
        raise Shape(
            where,
            f"product id '{product.product_id[:60]}' is defined twice",
            fix="give every product its own product_id",
        )
    products[product.product_id] = product
