"""What a match is asked and what it answers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ComponentQuery:
    """A component as the analyst knows it: any of these may be missing.

    ``text`` is a free-text technology name ("Dana Diabecare RS firmware 2.9") used when no
    structured name is known.
    """

    vendor: str | None = None
    product: str | None = None
    version: str | None = None
    cpe: str | None = None
    purl: str | None = None
    text: str | None = None


@dataclass(frozen=True)
class VulnMatch:
    """A vulnerability that applies to the queried component, and why we think so."""

    id: str
    confidence: float  # 0..1
    reason: str
    vendor: str = ""
    product: str = ""
    source: str = ""

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "confidence": round(self.confidence, 3),
            "reason": self.reason,
            "vendor": self.vendor,
            "product": self.product,
            "source": self.source,
        }
