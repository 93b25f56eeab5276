"""The device model: schema, loading with located errors, structural rules."""

from mdrisk.model.loader import LoadedModel, load_model, load_model_text
from mdrisk.model.schema import DeviceModel

__all__ = ["DeviceModel", "LoadedModel", "load_model", "load_model_text"]
