"""A layered drawing of a control structure: controllers above what they control.

STPA draws control actions going down and feedback going up, so each link says which of its
ends sits higher: a control action or update puts its source above its target, feedback and
data put their target above their source. Where the model's links disagree (loops), control
actions win over feedback, feedback over updates, updates over data, earlier links over later
ones. Every element is then put on a layer by its longest path down to the bottom (so every
controlled process and sensor ends up low), links that skip layers get a bend point on each
layer they cross, each layer is ordered to reduce crossings, and x positions come from an
isotonic regression that pulls every box toward its neighbours while keeping the order and
the gaps. Everything is deterministic: no randomness, ties broken by the model's order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from mdrisk.model.schema import LinkKind

_PRIORITY = {LinkKind.control_action: 0, LinkKind.feedback: 1, LinkKind.update: 2, LinkKind.data: 3}
NODE_GAP = 36.0  # between boxes of one layer
BEND_WIDTH = 18.0  # the room one passing link takes in a layer
ORDER_SWEEPS = 12
PLACE_SWEEPS = 16


@dataclass(frozen=True)
class Box:
    id: str
    width: float
    height: float


@dataclass(frozen=True)
class Edge:
    id: str
    source: str
    target: str
    kind: LinkKind


@dataclass
class Slot:
    """A box or a bend point of a link on one layer."""

    key: str
    width: float
    height: float
    layer: int
    is_bend: bool = False
    x: float = 0.0  # centre

    @property
    def left(self) -> float:
        return self.x - self.width / 2


@dataclass
class Placement:
    slots: dict[str, Slot]
    layers: list[list[str]]
    chains: dict[str, list[str]]  # link id -> slot keys from its source to its target
    ranks: dict[str, int] = field(default_factory=dict)


def _upper_lower(edge: Edge) -> tuple[str, str]:
    if edge.kind in (LinkKind.control_action, LinkKind.update):
        return edge.source, edge.target
    return edge.target, edge.source


def _reaches(children: dict[str, list[str]], start: str, goal: str) -> bool:
    seen, stack = {start}, [start]
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        for child in children[node]:
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return False


def ranks(boxes: Sequence[Box], edges: Sequence[Edge]) -> dict[str, int]:
    """Layer of every box, 0 at the top."""
    children: dict[str, list[str]] = {box.id: [] for box in boxes}
    ordered = sorted(enumerate(edges), key=lambda item: (_PRIORITY[item[1].kind], item[0]))
    for _, edge in ordered:
        upper, lower = _upper_lower(edge)
        if upper == lower or lower in children[upper]:
            continue
        if not _reaches(children, lower, upper):
            children[upper].append(lower)
    height: dict[str, int] = {}

    def height_of(node: str) -> int:
        if node not in height:
            height[node] = 1 + max((height_of(c) for c in children[node]), default=-1)
        return height[node]

    for box in boxes:
        height_of(box.id)
    top = max(height.values(), default=0)
    return {box.id: top - height[box.id] for box in boxes}


def _crossings(layers: list[list[str]], neighbours_below: dict[str, list[str]]) -> int:
    """Edge crossings between neighbouring layers: pairs of edges whose ends are in opposite
    order above and below. Counted as inversions with a Fenwick tree, O(E log E) per layer
    pair, so a dense model (thousands of links) is laid out in bounded time."""
    total = 0
    for upper, lower in zip(layers, layers[1:], strict=False):
        position = {key: index for index, key in enumerate(lower)}
        pairs = sorted(
            (i, position[n]) for i, key in enumerate(upper) for n in neighbours_below[key]
        )
        seen = [0] * (len(lower) + 1)  # Fenwick tree over positions below, 1-based
        for count, (_, below) in enumerate(pairs):
            index, not_greater = below + 1, 0
            while index > 0:
                not_greater += seen[index]
                index -= index & -index
            total += count - not_greater  # earlier edges ending further right: crossings
            index = below + 1
            while index <= len(lower):
                seen[index] += 1
                index += index & -index
    return total


def _by_barycentre(
    layer: list[str], reference: list[str], neighbours: dict[str, list[str]]
) -> list[str]:
    """The layer sorted by the mean position of each slot's neighbours in ``reference``;
    a slot without any keeps its place."""
    position = {key: i for i, key in enumerate(reference)}
    keyed = []
    for current, key in enumerate(layer):
        linked = [position[n] for n in neighbours[key] if n in position]
        keyed.append((sum(linked) / len(linked) if linked else current, current, key))
    return [key for _, _, key in sorted(keyed)]


def _order(
    layers: list[list[str]], above: dict[str, list[str]], below: dict[str, list[str]]
) -> list[list[str]]:
    best, best_crossings = [list(layer) for layer in layers], _crossings(layers, below)
    for sweep in range(ORDER_SWEEPS):
        downward = sweep % 2 == 0
        if downward:
            for index in range(1, len(layers)):
                layers[index] = _by_barycentre(layers[index], layers[index - 1], above)
        else:
            for index in range(len(layers) - 2, -1, -1):
                layers[index] = _by_barycentre(layers[index], layers[index + 1], below)
        crossings = _crossings(layers, below)
        if crossings < best_crossings:
            best, best_crossings = [list(layer) for layer in layers], crossings
    return best


def _isotonic(targets: list[float], weights: list[float]) -> list[float]:
    """Non-decreasing values closest to ``targets`` (weighted least squares; pool adjacent
    violators)."""
    blocks: list[list[float]] = []  # [mean, weight, count]
    for target, weight in zip(targets, weights, strict=True):
        blocks.append([target, weight, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            mean2, weight2, count2 = blocks.pop()
            mean1, weight1, count1 = blocks.pop()
            total = weight1 + weight2
            blocks.append([(mean1 * weight1 + mean2 * weight2) / total, total, count1 + count2])
    values: list[float] = []
    for mean, _, count in blocks:
        values += [mean] * int(count)
    return values


def _place_layer(slots: list[Slot], desired: list[float]) -> None:
    """Move the slots of one layer as close as possible to ``desired``, keeping order and gaps."""
    offsets, offset = [], 0.0
    for index, slot in enumerate(slots):
        if index:
            previous = slots[index - 1]
            gap = NODE_GAP / 2 if slot.is_bend or previous.is_bend else NODE_GAP
            offset += previous.width / 2 + gap + slot.width / 2
        offsets.append(offset)
    weights = [0.5 if slot.is_bend else 1.0 for slot in slots]
    shifted = _isotonic([d - o for d, o in zip(desired, offsets, strict=True)], weights)
    for slot, value, offset in zip(slots, shifted, offsets, strict=True):
        slot.x = value + offset


def place(boxes: Sequence[Box], edges: Sequence[Edge]) -> Placement:
    """Layers, order and x centres of every box and bend point."""
    rank = ranks(boxes, edges)
    slots = {box.id: Slot(box.id, box.width, box.height, rank[box.id]) for box in boxes}
    chains: dict[str, list[str]] = {}
    above: dict[str, list[str]] = {key: [] for key in slots}
    below: dict[str, list[str]] = {key: [] for key in slots}
    for edge in edges:
        start, end = rank[edge.source], rank[edge.target]
        step = 1 if end >= start else -1
        chain = [edge.source]
        for bend_layer in range(start + step, end, step):
            key = f"{edge.id}\x00{bend_layer}"
            slots[key] = Slot(key, BEND_WIDTH, 0.0, bend_layer, is_bend=True)
            above[key], below[key] = [], []
            chain.append(key)
        chain.append(edge.target)
        chains[edge.id] = chain
        for a, b in zip(chain, chain[1:], strict=False):
            if slots[a].layer == slots[b].layer:
                continue
            upper, lower = (a, b) if slots[a].layer < slots[b].layer else (b, a)
            below[upper].append(lower)
            above[lower].append(upper)
    count = max((slot.layer for slot in slots.values()), default=-1) + 1
    layers: list[list[str]] = [[] for _ in range(count)]
    for key, slot in slots.items():  # boxes in model order, then bends in link order
        layers[slot.layer].append(key)
    layers = _order(layers, above, below)
    for layer in layers:
        _place_layer([slots[k] for k in layer], [0.0] * len(layer))
    for sweep in range(PLACE_SWEEPS):
        downward = sweep % 2 == 0
        sequence = layers if downward else list(reversed(layers))
        for layer in sequence:
            desired = []
            for key in layer:
                linked = above[key] if downward else below[key]
                if sweep >= PLACE_SWEEPS - 2:
                    linked = above[key] + below[key]
                xs = [slots[n].x for n in linked]
                desired.append(sum(xs) / len(xs) if xs else slots[key].x)
            _place_layer([slots[k] for k in layer], desired)
    left = min((slot.left for slot in slots.values()), default=0.0)
    for slot in slots.values():
        slot.x -= left
    return Placement(slots, layers, chains, rank)
