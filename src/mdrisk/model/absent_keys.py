"""Records whose newer fields leave the file when they hold nothing.

A field added after files were written (an engine's model file, a component's SBOM, the
attacks run on a model) is dropped from the serialized record while it is absent or empty,
so the assessments and models written before read and compare exactly as they were.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, SerializerFunctionWrapHandler, model_serializer


class OmitsAbsent(BaseModel):
    """Declare ``absent_keys``: the fields left out while None or empty."""

    absent_keys: ClassVar[tuple[str, ...]] = ()

    @model_serializer(mode="wrap")
    def _without_absent(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for key in self.absent_keys:
            value = getattr(self, key)
            if value is None or (isinstance(value, list | dict) and not value):
                data.pop(key, None)
        return data
