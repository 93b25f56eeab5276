"""The chain of stages, from a loaded device model to an Assessment."""

from __future__ import annotations

import datetime as dt

from mdrisk import __version__
from mdrisk.assessment import Assessment, DeviceSection, Provenance
from mdrisk.model import LoadedModel
from mdrisk.stpa import analyze_stpa


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def assess(loaded: LoadedModel, created: str | None = None) -> Assessment:
    """Run every stage on the model. ``created`` is the only time in the result."""
    model = loaded.model
    stpa = analyze_stpa(model)
    return Assessment(
        device=DeviceSection(info=model.device, components=model.components, links=model.links),
        losses=model.losses,
        hazards=model.hazards,
        control_actions=stpa.control_actions,
        ucas=stpa.ucas,
        fdi_points=stpa.fdi_points,
        loss_scenarios=stpa.loss_scenarios,
        checks=stpa.checks,
        provenance=Provenance(
            tool_version=__version__,
            model_file=loaded.source.file,
            model_sha256=loaded.source.sha256,
            created=created or utc_now(),
        ),
    )
