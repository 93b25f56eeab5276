"""Where each element of a device model stands in its file, by model path.

In: the source document a model was loaded from. Out: ``{"components[cgm]": 31,
"components[cgm].technologies[0]": 37, "links[cgm_to_app].channel": 210, ...}``, the line of
every component, link, loss, hazard, technology, channel, carried signal and ML input, with
list items named by their id (as :meth:`SourceDocument.render_path` names them).

The map travels inside the assessment, so a SARIF result can point at the line of the finding
without the report writer reading the model file again (which may have moved or changed
since the analysis: the assessment records its SHA-256, not its content).
"""

from __future__ import annotations

from typing import Any

from mdrisk.parsing.source import PathKey, SourceDocument


def _items(data: Any, key: str) -> list[tuple[int, dict]]:
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, list):
        return []
    return [(index, item) for index, item in enumerate(value) if isinstance(item, dict)]


def element_lines(source: SourceDocument) -> dict[str, int]:
    """Line of every addressable element of the model, keyed by its rendered model path."""
    found: dict[str, int] = {}

    def keep(path: PathKey) -> None:
        line = source.lines.get(path)
        if line is not None:
            found[source.render_path(path)] = line

    data = source.data
    keep(("device",))
    for section in ("components", "links", "losses", "hazards"):
        for index, item in _items(data, section):
            path: PathKey = (section, index)
            keep(path)
            for sub_index, _ in _items(item, "technologies"):
                keep(path + ("technologies", sub_index))
            carries = item.get("carries")
            for sub_index in range(len(carries) if isinstance(carries, list) else 0):
                keep(path + ("carries", sub_index))
            channel = item.get("channel")
            if isinstance(channel, dict):
                keep(path + ("channel",))
                for key in ("technology", "protections"):
                    if key in channel:
                        keep(path + ("channel", key))
            ml = item.get("ml")
            if isinstance(ml, dict):
                keep(path + ("ml",))
                for sub_index, _ in _items(ml, "inputs"):
                    keep(path + ("ml", "inputs", sub_index))
                if "update_path" in ml:
                    keep(path + ("ml", "update_path"))
    return found
