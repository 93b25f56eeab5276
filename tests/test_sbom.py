"""SBOMs in: CycloneDX JSON and XML, SPDX JSON and tag-value fill a component's technologies
(``sbom:``) and draft a model (``mdrisk model from-sbom``); hostile SBOMs are refused with the
file and field named, in bounded time."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import EXAMPLES

from mdrisk.cli import main
from mdrisk.errors import InputError
from mdrisk.model import load_model, load_model_text
from mdrisk.model.sbom import sbom_technologies
from mdrisk.pipeline import assess
from mdrisk.report.canonical_json import canonical_json
from mdrisk.sbom import MAX_SBOM_BYTES, read_sbom

WOLFSSL_CPE = "cpe:2.3:a:wolfssl:wolfssl:4.8.1:*:*:*:*:*:*:*"
WOLFSSL_PURL = "pkg:github/wolfssl/wolfssl@4.8.1"

CYCLONEDX_JSON = {
    "bomFormat": "CycloneDX",
    "specVersion": "1.5",
    "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
    "metadata": {"component": {"type": "device", "name": "Patch firmware", "version": "2.0"}},
    "components": [
        {
            "type": "firmware",
            "bom-ref": "rtos",
            "name": "Zephyr",
            "version": "3.2.0",
            "supplier": {"name": "Zephyr Project"},
            "purl": "pkg:github/zephyrproject-rtos/zephyr@v3.2.0",
            "components": [
                {
                    "type": "library",
                    "bom-ref": "tls",
                    "name": "WolfSSL",
                    "version": "4.8.1",
                    "publisher": "wolfSSL",
                    "cpe": WOLFSSL_CPE,
                    "purl": WOLFSSL_PURL,
                }
            ],
        },
        {
            "type": "library",
            "name": "requests",
            "version": "2.31.0",
            "purl": "pkg:pypi/requests@2.31.0",
        },
    ],
}

CYCLONEDX_XML = f"""<?xml version="1.0" encoding="UTF-8"?>
<bom xmlns="http://cyclonedx.org/schema/bom/1.6" serialNumber="urn:uuid:1" version="1">
  <metadata><component type="device"><name>Patch firmware</name></component></metadata>
  <components>
    <component type="firmware" bom-ref="rtos">
      <supplier><name>Zephyr Project</name></supplier>
      <name>Zephyr</name>
      <version>3.2.0</version>
      <purl>pkg:github/zephyrproject-rtos/zephyr@v3.2.0</purl>
      <components>
        <component type="library" bom-ref="tls">
          <publisher>wolfSSL</publisher>
          <name>WolfSSL</name>
          <version>4.8.1</version>
          <cpe>{WOLFSSL_CPE}</cpe>
          <purl>{WOLFSSL_PURL}</purl>
          <licenses><license><id>GPL-2.0-or-later</id></license></licenses>
          <properties><property name="Level of Support">Actively maintained</property></properties>
        </component>
      </components>
    </component>
  </components>
</bom>
"""

SPDX_JSON = {
    "spdxVersion": "SPDX-2.3",
    "SPDXID": "SPDXRef-DOCUMENT",
    "name": "patch",
    "documentNamespace": "https://example.com/patch",
    "packages": [
        {"SPDXID": "SPDXRef-fw", "name": "Patch firmware", "versionInfo": "2.0"},
        {
            "SPDXID": "SPDXRef-tls",
            "name": "WolfSSL",
            "versionInfo": "4.8.1",
            "supplier": "Organization: wolfSSL Inc.",
            "externalRefs": [
                {
                    "referenceCategory": "SECURITY",
                    "referenceType": "cpe23Type",
                    "referenceLocator": WOLFSSL_CPE,
                },
                {
                    "referenceCategory": "PACKAGE-MANAGER",
                    "referenceType": "purl",
                    "referenceLocator": WOLFSSL_PURL,
                },
            ],
        },
    ],
    "relationships": [
        {
            "spdxElementId": "SPDXRef-DOCUMENT",
            "relationshipType": "DESCRIBES",
            "relatedSpdxElement": "SPDXRef-fw",
        },
        {
            "spdxElementId": "SPDXRef-fw",
            "relationshipType": "CONTAINS",
            "relatedSpdxElement": "SPDXRef-tls",
        },
    ],
}

SPDX_TAG_VALUE = f"""SPDXVersion: SPDX-2.3
DataLicense: CC0-1.0
SPDXID: SPDXRef-DOCUMENT
DocumentName: patch
DocumentNamespace: https://example.com/patch

PackageName: Patch firmware
SPDXID: SPDXRef-fw
PackageVersion: 2.0

PackageName: WolfSSL
SPDXID: SPDXRef-tls
PackageVersion: 4.8.1
PackageSupplier: Organization: wolfSSL Inc.
PackageDescription: <text>Embedded TLS
library</text>
ExternalRef: SECURITY cpe23Type {WOLFSSL_CPE}
ExternalRef: PACKAGE-MANAGER purl {WOLFSSL_PURL}

Relationship: SPDXRef-DOCUMENT DESCRIBES SPDXRef-fw
Relationship: SPDXRef-fw CONTAINS SPDXRef-tls
"""

FORMATS = {
    "patch.cdx.json": (json.dumps(CYCLONEDX_JSON), "CycloneDX JSON"),
    "patch.cdx.xml": (CYCLONEDX_XML, "CycloneDX XML"),
    "patch.spdx.json": (json.dumps(SPDX_JSON), "SPDX JSON"),
    "patch.spdx": (SPDX_TAG_VALUE, "SPDX tag-value"),
}


def _cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_every_format_gives_wolfssl_with_its_cpe_purl_and_parent(tmp_path, name):
    text, expected_format = FORMATS[name]
    sbom = read_sbom(_write(tmp_path, name, text))
    assert sbom.format == expected_format
    wolfssl = next(c for c in sbom.components if c.name == "WolfSSL")
    assert (wolfssl.version, wolfssl.cpe, wolfssl.purl) == ("4.8.1", WOLFSSL_CPE, WOLFSSL_PURL)
    assert wolfssl.vendor.startswith("wolfSSL")
    parent = next(c for c in sbom.components if c.ref == wolfssl.parent)
    assert parent.name in ("Zephyr", "Patch firmware")


def test_the_tag_value_description_spans_its_lines(tmp_path):
    sbom = read_sbom(_write(tmp_path, "patch.spdx", SPDX_TAG_VALUE))
    wolfssl = next(c for c in sbom.components if c.name == "WolfSSL")
    assert wolfssl.description == "Embedded TLS\nlibrary"


def _bgms_with_sbom(folder: Path, sbom_name: str) -> Path:
    text = (EXAMPLES / "bgms.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "  - id: cgm_sensor\n", f"  - id: cgm_sensor\n    sbom: sboms/{sbom_name}\n", 1
    )
    assert f"sbom: sboms/{sbom_name}" in text
    return _write(folder, "model.yaml", text)


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_sbom_on_a_component_adds_its_technologies_relative_to_the_model(tmp_path, name):
    (tmp_path / "sboms").mkdir()
    _write(tmp_path / "sboms", name, FORMATS[name][0])
    model = load_model(_bgms_with_sbom(tmp_path, name)).model
    sensor = next(c for c in model.components if c.id == "cgm_sensor")
    written = next(
        c for c in load_model(EXAMPLES / "bgms.yaml").model.components if c.id == "cgm_sensor"
    )
    assert sensor.technologies[: len(written.technologies)] == written.technologies
    wolfssl = next(t for t in sensor.technologies if t.name == "WolfSSL")
    assert (wolfssl.version, wolfssl.cpe, wolfssl.purl) == ("4.8.1", WOLFSSL_CPE, WOLFSSL_PURL)


def test_the_sbom_path_is_kept_and_models_without_one_write_no_sbom_key(tmp_path):
    (tmp_path / "sboms").mkdir()
    _write(tmp_path / "sboms", "patch.cdx.json", FORMATS["patch.cdx.json"][0])
    with_sbom = canonical_json(
        assess(load_model(_bgms_with_sbom(tmp_path, "patch.cdx.json")), "2026-01-01T00:00:00Z")
    )
    without = canonical_json(assess(load_model(EXAMPLES / "bgms.yaml"), "2026-01-01T00:00:00Z"))
    assert '"sbom": "sboms/patch.cdx.json"' in with_sbom
    assert '"sbom"' not in without.replace('"sbom_component"', "")
    assert WOLFSSL_PURL in with_sbom


def test_a_missing_or_broken_sbom_names_the_sbom_field_and_the_model_line(tmp_path):
    model_path = _bgms_with_sbom(tmp_path, "patch.cdx.json")
    result = _cli("validate", str(model_path))
    assert result.exit_code == 2
    assert "patch.cdx.json" in result.output and "cgm_sensor" in result.output
    (tmp_path / "sboms").mkdir()
    broken = dict(CYCLONEDX_JSON, components=[{"name": "x", "version": 3}])
    _write(tmp_path / "sboms", "patch.cdx.json", json.dumps(broken))
    result = _cli("validate", str(model_path))
    assert result.exit_code == 2
    assert "components[0].version: expected a string, found a number" in result.output
    assert f"{model_path}:" in result.output


def test_from_sbom_drafts_a_valid_model_marked_draft(tmp_path):
    sbom = _write(tmp_path, "patch.cdx.json", FORMATS["patch.cdx.json"][0])
    out = tmp_path / "draft.yaml"
    result = _cli("model", "from-sbom", str(sbom), "--out", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# DRAFT") and "DRAFT" in load_model(out).model.device.description
    components = {c.name: c for c in load_model(out).model.components}
    # Zephyr holds the library nested in it; requests stands alone, grouped by ecosystem.
    assert [t.name for t in components["Zephyr"].technologies] == ["Zephyr", "WolfSSL"]
    assert [t.purl for t in components["pypi libraries"].technologies] == [
        "pkg:pypi/requests@2.31.0"
    ]


def test_from_sbom_on_the_real_case_study_sboms(tmp_path, shared_data):
    for path in sorted((shared_data / "medical-device-sboms").glob("*.cdx.json")):
        out = tmp_path / f"{path.stem}.yaml"
        assert _cli("model", "from-sbom", str(path), "--out", str(out)).exit_code == 0
        model = load_model(out).model
        technologies = [t for c in model.components for t in c.technologies]
        assert len(technologies) == len(read_sbom(path).components)
        assert any(t.cpe == WOLFSSL_CPE.replace("4.8.1", "4.8.1") for t in technologies)
        assert {c.name for c in model.components} >= {
            "nuget libraries",
            "firmware and operating system",
        }


def test_extract_says_an_sbom_is_one_and_points_to_from_sbom(tmp_path):
    for name, (text, kind) in FORMATS.items():
        result = _cli("extract", str(_write(tmp_path, name, text)))
        assert result.exit_code == 2
        assert f"is an SBOM ({kind})" in result.output and "model from-sbom" in result.output
        assert "warning" not in result.output


HOSTILE = {
    "bad json": ('{"bomFormat": "CycloneDX", "components": [', "patch.cdx.json", "truncated"),
    "wrong type": (
        json.dumps({"bomFormat": "CycloneDX", "components": {"name": "x"}}),
        "patch.cdx.json",
        "bom.components: expected an array, found an object",
    ),
    "nan": (
        '{"bomFormat": "CycloneDX", "components": [{"name": "x", "version": NaN}]}',
        "patch.cdx.json",
        "NaN",
    ),
    "bad purl": (
        json.dumps({"bomFormat": "CycloneDX", "components": [{"name": "x", "purl": "npm:x"}]}),
        "patch.cdx.json",
        "components[0].purl",
    ),
    "repeated bom-ref": (
        json.dumps(
            {
                "bomFormat": "CycloneDX",
                "components": [{"name": "a", "bom-ref": "r"}, {"name": "b", "bom-ref": "r"}],
            }
        ),
        "patch.cdx.json",
        "components[1].bom-ref",
    ),
    "deep nesting": (
        '{"bomFormat": "CycloneDX", "components": '
        + '[{"name": "x", "components": ' * 100
        + "[]"
        + "}]" * 100
        + "}",
        "patch.cdx.json",
        "nested deeper",
    ),
    "billion laughs": (
        '<?xml version="1.0"?><!DOCTYPE bom [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        '<bom xmlns="http://cyclonedx.org/schema/bom/1.5"><components><component>'
        "<name>&b;</name></component></components></bom>",
        "patch.cdx.xml",
        "DOCTYPE",
    ),
    "xxe": (
        '<?xml version="1.0"?><!DOCTYPE bom [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<bom xmlns="http://cyclonedx.org/schema/bom/1.5"><components><component>'
        "<name>&x;</name></component></components></bom>",
        "patch.cdx.xml",
        "DOCTYPE",
    ),
    "xinclude": (
        '<bom xmlns="http://cyclonedx.org/schema/bom/1.5" '
        'xmlns:xi="http://www.w3.org/2001/XInclude"><components>'
        '<xi:include href="file:///etc/passwd" parse="text"/></components></bom>',
        "patch.cdx.xml",
        "XInclude",
    ),
    "spdx without packages' ids": (
        json.dumps({"spdxVersion": "SPDX-2.3", "packages": [{"name": "x"}]}),
        "patch.spdx.json",
        "packages[0]: 'SPDXID' is missing",
    ),
    "spdx 3": (
        json.dumps({"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": []}),
        "patch.spdx.json",
        "SPDX 3",
    ),
    "tag-value junk": ("SPDXVersion: SPDX-2.3\nthis is not a tag\n", "patch.spdx", "line 2"),
    "not utf-8": ("", "patch.cdx.json", "not UTF-8"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_sboms_are_refused_naming_file_and_field(tmp_path, case):
    text, name, expected = HOSTILE[case]
    path = _write(tmp_path, name, text)
    if case == "not utf-8":
        path.write_bytes(b'{"bomFormat": "CycloneDX", "components": [{"name": "\xff"}]}')
    with pytest.raises(InputError) as refused:
        sbom_technologies(read_sbom(path), str(path))
    assert refused.value.file == str(path)
    assert expected in str(refused.value)
    result = _cli("model", "from-sbom", str(path), "--out", str(tmp_path / "m.yaml"))
    assert result.exit_code == 2 and str(path) in result.output


def test_an_sbom_over_the_size_limit_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "huge.cdx.json"
    with path.open("wb") as handle:  # sparse: no disk, no time
        handle.truncate(MAX_SBOM_BYTES + 1)
    with pytest.raises(InputError, match="over the 64 MB limit"):
        read_sbom(path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_device_or_pipe_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "sbom.fifo"
    os.mkfifo(fifo)  # no writer: reading it would block forever
    for path in (fifo, Path("/dev/zero")):
        with pytest.raises(InputError, match="not a regular file"):
            read_sbom(path)


def test_the_kb_importer_and_the_model_read_the_bom_alike(tmp_path, shared_data):
    from mdrisk.kb.importers.cyclonedx import CycloneDxImporter

    path = sorted((shared_data / "medical-device-sboms").glob("*.cdx.json"))[0]
    copy = tmp_path / path.name
    shutil.copy(path, copy)
    (batch,) = CycloneDxImporter().read(copy)
    sbom = read_sbom(copy)
    assert [r.id for r in batch.records] == [c.ref for c in sbom.components]
    assert [(r.data["name"], r.data["purl"], r.data["cpe"]) for r in batch.records] == [
        (c.name, c.purl, c.cpe) for c in sbom.components
    ]


def test_a_model_text_resolves_its_sbom_from_the_folder_given(tmp_path):
    (tmp_path / "sboms").mkdir()
    _write(tmp_path / "sboms", "patch.spdx", SPDX_TAG_VALUE)
    text = _bgms_with_sbom(tmp_path, "patch.spdx").read_text(encoding="utf-8")
    model = load_model_text(text, "model.yaml", base=tmp_path).model
    sensor = next(c for c in model.components if c.id == "cgm_sensor")
    assert any(t.purl == WOLFSSL_PURL for t in sensor.technologies)


def test_more_components_than_any_device_has_are_refused_early(tmp_path):
    import time

    from mdrisk.sbom import MAX_SBOM_COMPONENTS

    many = [{"name": f"c{i}"} for i in range(MAX_SBOM_COMPONENTS + 1)]
    as_json = _write(
        tmp_path, "many.cdx.json", json.dumps({"bomFormat": "CycloneDX", "components": many})
    )
    as_xml = _write(
        tmp_path,
        "many.cdx.xml",
        '<bom xmlns="http://cyclonedx.org/schema/bom/1.5"><components>'
        + "<component><name>c</name></component>" * (MAX_SBOM_COMPONENTS + 2)
        + "</components></bom>",
    )
    for path in (as_json, as_xml):
        started = time.monotonic()
        with pytest.raises(InputError, match=f"more than {MAX_SBOM_COMPONENTS} components"):
            read_sbom(path)
        assert time.monotonic() - started < 10
