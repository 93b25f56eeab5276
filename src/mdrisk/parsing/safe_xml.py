"""Stream an XML file through expat, refusing document type declarations.

A DOCTYPE is how hostile XML works ("billion laughs" entity expansion, external entities
reading ``file:///etc/passwd``); no catalogue we import needs one, so any DOCTYPE, entity
declaration or external entity reference is refused before it takes effect. Elements come
out one at a time; the caller decides which subtrees to build, so memory stays bounded.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from xml.parsers import expat

from mdrisk.errors import InputError
from mdrisk.parsing.errors import refuse

CHUNK_BYTES = 1 << 20

Start = Callable[[str, dict[str, str], int], None]  # local name, attributes, line
End = Callable[[str], None]
Text = Callable[[str], None]


def stream_xml(path: Path, start: Start, end: End, text: Text) -> None:
    """Feed every element of ``path`` to the callbacks; tag names lose their namespace,
    which ``start`` receives as the ``{namespace}`` attribute of the root element only."""
    parser = expat.ParserCreate(namespace_separator="}")
    parser.buffer_text = True
    parser.buffer_size = 1 << 16
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    first = [True]

    def hostile(what: str) -> InputError:
        return refuse(
            path,
            f"{what} refused: XML entity declarations enable 'billion laughs' "
            "and external-entity (XXE) attacks, and no catalogue needs them",
            record="document type",
            line=parser.CurrentLineNumber,
            fix="use the catalogue as published by its maker",
        )

    def on_doctype(*_: object) -> None:
        raise hostile("a DOCTYPE declaration")

    def on_entity(*_: object) -> None:
        raise hostile("an ENTITY declaration")

    def on_external(*_: object) -> int:
        raise hostile("an external entity reference")

    def on_start(name: str, attributes: dict[str, str]) -> None:
        namespace, _, local = name.rpartition("}")
        if first[0]:
            attributes = {**attributes, "{namespace}": namespace}
            first[0] = False
        start(local, attributes, parser.CurrentLineNumber)

    def on_end(name: str) -> None:
        end(name.rpartition("}")[2])

    parser.StartDoctypeDeclHandler = on_doctype
    parser.EntityDeclHandler = on_entity
    parser.UnparsedEntityDeclHandler = on_entity
    parser.ExternalEntityRefHandler = on_external
    parser.StartElementHandler = on_start
    parser.EndElementHandler = on_end
    parser.CharacterDataHandler = text
    try:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(CHUNK_BYTES), b""):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise refuse(
            path,
            f"not well-formed XML: {expat.ErrorString(exc.code)} (column {exc.offset + 1})",
            line=exc.lineno,
            fix="the file may be truncated or damaged; download it again",
        ) from None
    except LookupError as exc:
        # The XML declaration names an encoding Python does not know.
        raise refuse(
            path,
            f"the XML declares an unknown encoding ({exc})",
            line=parser.CurrentLineNumber,
            fix="save the file as UTF-8 with a correct XML declaration",
        ) from None
