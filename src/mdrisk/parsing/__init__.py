"""Safe readers every importer and loader shares; they know nothing of the domain.

``source``: YAML or JSON with the line of every value (no aliases, bounded nesting and size);
``safe_yaml``: plain YAML data (same refusals, libyaml when present); ``strict_json``: UTF-8
JSON without NaN/Infinity; ``safe_xml``: streamed XML without DOCTYPE or entities; ``shape``:
typed access to parsed data with located errors; ``validation``: pydantic errors as located
problems. Every refusal is an ``InputError`` naming the file, line and field.
"""

from mdrisk.parsing.errors import refuse
from mdrisk.parsing.source import SourceDocument, parse_document, read_text

__all__ = ["SourceDocument", "parse_document", "read_text", "refuse"]
