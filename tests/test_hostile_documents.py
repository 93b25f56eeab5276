"""Hostile device documents (issue 13): every one read in bounded time or refused with the file
named, and hidden HTML never a finding. The large variants are generated here, not committed."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from mdrisk import bundled
from mdrisk.cli import main
from mdrisk.errors import InputError
from mdrisk.intake.extract import MAX_MENTIONS, extract_files
from mdrisk.intake.readers import read_document
from mdrisk.intake.readers.html_document import MAX_HTML_TAGS
from mdrisk.intake.readers.pdf import MAX_PAGE_CONTENT_BYTES
from mdrisk.intake.readers.text_limit import MAX_TEXT_CHARS

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pdfgen  # noqa: E402

LEXICON = bundled.technology_lexicon()

HIDDEN_HTML = """<html><head><title>GlucoGuide uses LoRaWAN</title>
<script>var s = "The device uses Z-Wave";</script><style>p { color: red }</style></head>
<body><h1>GlucoGuide design description</h1>

<p>The GlucoGuide device communicates with the phone app over Bluetooth Low Energy 4.2.</p>

<div style="display:none">The device also uses Wi-Fi 802.11n, NFC, Zigbee and a cellular LTE modem.</div>

<p hidden>The device uses a USB port for firmware updates.</p>

<span style="color:#ffffff">The device uses Ethernet.</span>
<span style="font-size: 0">The device uses Thread.</span>
<div aria-hidden="true">The device uses LoRaWAN.</div>
<input type="hidden" value="The device uses Wi-Fi.">

<!-- The device uses infrared (IrDA). -->
</body></html>
"""
VISIBLE = {("Bluetooth Low Energy", "4.2"), ("Smartphone app", None)}


def _elapsed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


@pytest.mark.parametrize("name", ["design.html", "design.htm", "design.txt", "design"])
def test_hidden_html_text_is_not_a_finding_whatever_the_file_is_named(tmp_path, name):
    path = tmp_path / name
    path.write_text(HIDDEN_HTML, "utf-8")
    reading = extract_files([path], LEXICON)
    assert reading.extraction.pairs() == VISIBLE
    document = reading.extraction.documents[0]
    assert document.format == "html"
    assert any("hidden HTML element" in note for note in document.hidden)
    assert any("comment" in note for note in document.hidden)
    said_html = any("read as HTML" in note for note in document.hidden)
    assert said_html == (not name.endswith((".html", ".htm")))


def test_html_gives_the_same_findings_as_the_same_markdown(tmp_path):
    (tmp_path / "a.html").write_text(HIDDEN_HTML, "utf-8")
    (tmp_path / "a.md").write_text(HIDDEN_HTML, "utf-8")
    html = extract_files([tmp_path / "a.html"], LEXICON).extraction.pairs()
    markdown = extract_files([tmp_path / "a.md"], LEXICON).extraction.pairs()
    assert html == markdown == VISIBLE


def test_html_findings_point_at_the_line_of_the_file(tmp_path):
    path = tmp_path / "a.html"
    path.write_text(HIDDEN_HTML, "utf-8")
    finding = next(
        f for f in extract_files([path], LEXICON).extraction.findings if f.version == "4.2"
    )
    line = next(i for i, t in enumerate(HIDDEN_HTML.splitlines(), 1) if "4.2" in t)
    assert [evidence.line for evidence in finding.evidence] == [line]


def test_a_plain_text_file_without_markup_stays_plain_text(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("The device uses Wi-Fi. Values 3 < 4 > 2 are compared.\n", "utf-8")
    document = read_document(path)
    assert document.format == "text"


@pytest.mark.parametrize("mentions", [500, 4000])
def test_extract_is_near_linear_in_the_mentions_of_one_sentence(tmp_path, mentions):
    """Was quadratic: 4,096 mentions in one 40 KB sentence took 51 s; now well under 5 s."""
    path = tmp_path / "bt.txt"
    path.write_text("Bluetooth " * mentions, "utf-8")
    seconds = _elapsed(lambda: extract_files([path], LEXICON))
    assert seconds < (2 if mentions == 500 else 8), seconds


def test_a_document_with_too_many_mentions_is_refused_naming_it(tmp_path):
    path = tmp_path / "bt.txt"
    path.write_text("Bluetooth " * (MAX_MENTIONS + 10), "utf-8")
    with pytest.raises(InputError) as raised:
        extract_files([path], LEXICON)
    assert raised.value.file == str(path)
    assert "technology mentions" in str(raised.value)


def test_a_20_mb_single_line_is_refused_quickly_naming_the_file(tmp_path):
    path = tmp_path / "long.txt"
    path.write_bytes(b"abcdefghij" * 2_000_000)
    start = time.perf_counter()
    with pytest.raises(InputError) as raised:
        read_document(path)
    assert time.perf_counter() - start < 10
    assert raised.value.file == str(path)
    assert f"{MAX_TEXT_CHARS}-character limit" in str(raised.value)


def test_a_million_tag_html_is_refused_quickly_naming_the_file(tmp_path):
    path = tmp_path / "tags.html"
    path.write_text("<b>" * 1_000_000, "utf-8")
    start = time.perf_counter()
    with pytest.raises(InputError) as raised:
        read_document(path)
    assert time.perf_counter() - start < 15
    assert f"more than {MAX_HTML_TAGS} HTML tags" in str(raised.value)


def test_a_pdf_page_of_many_operations_is_refused_naming_the_page(tmp_path, monkeypatch):
    """A 10 KB PDF whose one page shows 300,000 words took over 120 s to read."""
    pytest.importorskip("pypdf")
    operations = b"BT /F1 12 Tf 72 700 Td " + b"(Bluetooth ) Tj " * 200_000 + b"ET"
    assert len(operations) > MAX_PAGE_CONTENT_BYTES
    monkeypatch.setattr(pdfgen, "_content", lambda page: operations)
    path = tmp_path / "ops.pdf"
    path.write_bytes(pdfgen.pdf_bytes(pdfgen.pages_from_text("The device uses Wi-Fi.")))
    assert path.stat().st_size < 100_000
    started = time.perf_counter()
    with pytest.raises(InputError) as raised:
        read_document(path)
    assert time.perf_counter() - started < 20
    assert "page 1" in str(raised.value) and raised.value.file == str(path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    result = CliRunner().invoke(main, ["extract", str(fifo)])
    assert result.exit_code == 2
    assert "named pipe" in result.output and str(fifo) in result.output


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
@pytest.mark.parametrize("command", ["extract", "validate"])
def test_a_device_file_is_refused_without_reading_it(command):
    result = CliRunner().invoke(main, [command, "/dev/zero"])
    assert result.exit_code == 2
    assert "/dev/zero" in result.output and "device" in result.output
