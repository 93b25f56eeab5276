"""The fields every form of FDA's AI-enabled device list shares, made into an AIDevice."""

from __future__ import annotations

from mdrisk.landscape import fields
from mdrisk.landscape.records import AIDevice
from mdrisk.parsing.shape import Shape


def ai_device(
    values: dict[str, str | None],
    where: str,
    source: str,
    record: str,
    date_formats: tuple[str, ...] = (fields.US_DATE,),
) -> AIDevice:
    """``values`` holds date, submission, device, company, panel, product_code as text."""
    submission = fields.submission(_text(values, "submission", where), f"{where}.submission")
    return AIDevice(
        submission=submission.id,
        link_key=submission.link_key,
        pathway=submission.pathway,
        decision_date=fields.parse_date(
            _text(values, "date", where), f"{where}.date", date_formats
        ),
        device=fields.name(values.get("device"), f"{where}.device"),
        company=fields.name(values.get("company"), f"{where}.company"),
        panel=fields.name(values.get("panel"), f"{where}.panel"),
        product_code=fields.product_code(
            _text(values, "product_code", where), f"{where}.product_code"
        ),
        source=source,
        record=record,
    )


def _text(values: dict[str, str | None], key: str, where: str) -> str:
    value = values.get(key)
    if value is None or not value.strip():
        raise Shape(f"{where}.{key}", "is missing or empty")
    return value


def refuse_repeats(devices: list[AIDevice]) -> None:
    """A submission listed twice is a damaged list, not two devices."""
    seen: dict[str, str] = {}
    for device in devices:
        if device.submission in seen:
            raise Shape(
                device.record,
                f"{device.submission} is listed again (first at {seen[device.submission]})",
                fix="list each submission once",
            )
        seen[device.submission] = device.record
