"""Where an attacker acts when the weakness sits on the ML engine itself.

A weakness of the model (it can be evaded, poisoned, copied, flooded, instructed) is used from
somewhere upstream: an ML input's source, the inference API, the update path, the store that
collects field data. Each ``Entry`` names an FDI point whose path (with an optional upload
link in front) leads the attacker's data to the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from mdrisk.assessment.stpa import FDIPoint
from mdrisk.kb.catalog_ids import natural
from mdrisk.model.schema import Component, DeviceModel, LinkKind
from mdrisk.scenarios.exploits import ExploitKind
from mdrisk.scenarios.reach import FactsBuilder


@dataclass(frozen=True)
class Entry:
    point: FDIPoint
    attacker: str
    # Hops in front of the FDI point's path (an upload link into a training-data store).
    prefix: tuple[str, ...] = ()
    prefix_type: str = "link"
    sources: tuple[str, ...] = ()

    @property
    def element(self) -> str:
        return self.prefix[0] if self.prefix else self.point.element

    @property
    def element_type(self) -> str:
        return self.prefix_type if self.prefix else self.point.element_type


class EntryFinder:
    """Entries for one device: FDI points by engine, input and target, and who reaches them."""

    def __init__(
        self,
        model: DeviceModel,
        fdi_points: list[FDIPoint],
        facts: FactsBuilder,
        attackers_for: Callable[[ExploitKind, str], list[str]],
    ) -> None:
        self._model = model
        self._facts = facts
        self._attackers_for = attackers_for
        self._points: dict[tuple[str, str, str], list[FDIPoint]] = {}
        for point in fdi_points:
            self._points.setdefault((point.ml_engine, point.target, point.ml_input), []).append(
                point
            )

    def _of(self, engine: str, target: str, signal: str) -> list[FDIPoint]:
        return self._points.get((engine, target, signal), [])

    def _updates(self, engine: str) -> list[FDIPoint]:
        return self._of(engine, "model_update", "model")

    def entries(self, engine: Component, kind: ExploitKind) -> Iterator[Entry]:
        assert engine.ml is not None
        if kind.engine_entry == "model_updates":
            for point in self._updates(engine.id):
                for attacker in self._attackers_for(kind, point.element):
                    yield Entry(point, attacker)
        elif kind.engine_entry in ("upstream_inputs", "nearest_inputs"):
            farthest = kind.engine_entry == "upstream_inputs"
            for ml_input in engine.ml.inputs:
                if (
                    kind.input_natures
                    and ml_input.nature is not None
                    and ml_input.nature.value not in kind.input_natures
                ):
                    continue
                points = [
                    p
                    for p in self._of(engine.id, "inference_input", ml_input.signal)
                    if kind.entry_origin == "any" or not self._facts[p.element].is_person
                ]
                yield from self._one_per_attacker(kind, points, farthest)
        elif kind.engine_entry == "training_sources":
            yield from self._training_entries(engine, kind)

    def _one_per_attacker(
        self, kind: ExploitKind, points: list[FDIPoint], farthest: bool
    ) -> Iterator[Entry]:
        """Per attacker, the reachable point farthest from (or nearest to) the engine: crafted
        but genuine-looking data enters as early as the attacker can place it; API use
        enters as close to the model as it gets."""
        reachable: dict[str, list[FDIPoint]] = {}
        for point in points:
            for attacker in self._attackers_for(kind, point.element):
                reachable.setdefault(attacker, []).append(point)
        for attacker, candidates in reachable.items():
            sign = -1 if farthest else 1
            best = min(candidates, key=lambda p: (sign * len(p.path), natural(p.id)))
            yield Entry(best, attacker)

    def _training_entries(self, engine: Component, kind: ExploitKind) -> Iterator[Entry]:
        assert engine.ml is not None
        updates = self._updates(engine.id)
        components = {c.id for c in self._model.components}
        for data in engine.ml.training_data:
            if not data.continuous:
                continue
            if data.source in components:
                points = [p for p in updates if p.element == data.source]
                uploads = [
                    link
                    for link in self._model.links
                    if link.target == data.source
                    and link.kind in (LinkKind.data, LinkKind.feedback)
                ]
            else:
                # Field data collected outside the model reaches the engine as a new model.
                points, uploads = updates, []
            for point in points:
                for attacker in self._attackers_for(kind, point.element):
                    yield Entry(point, attacker, sources=(data.source,))
                for link in uploads:
                    for attacker in self._attackers_for(kind, link.id):
                        yield Entry(point, attacker, prefix=(link.id,), sources=(data.source,))
