"""``mdrisk campaign``: a campaign resumes where it stopped with the same results, loses
nothing when a worker dies, gives the same aggregates on 1 and 2 workers and in process, and
refuses a malformed campaign file with a located message."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mdrisk import bundled
from mdrisk.campaign import batch as batch_module
from mdrisk.campaign.executors import DaskExecutor, InProcessExecutor
from mdrisk.campaign.outputs import summary_of
from mdrisk.campaign.plan import expand
from mdrisk.campaign.runner import Progress, run_campaign
from mdrisk.campaign.spec import Campaign, load_campaign
from mdrisk.campaign.store import ResultStore
from mdrisk.cli import main
from mdrisk.errors import InputError

pytestmark = pytest.mark.usefixtures("simglucose_tables", "isolated_model_cache")

SMALL = """\
campaign: small
model: bgms
classes: ["cgm_glucose raise", "carb_entry spoof"]
patients: adult#001-002
days: 2
seed: 3
detectors: [cgm_rate]
controls: [cgm_physiology_cusum]
batch_patient_days: 2
"""


@pytest.fixture(scope="module")
def warm_forecaster() -> None:
    """The forecaster trained once, so worker processes (which share the cache folder)
    load it instead of each training their own."""
    from mdrisk.impact.forecasting.cache import default_forecaster

    default_forecaster()


def _campaign(folder: Path, text: str = SMALL) -> Campaign:
    path = folder / "campaign.yaml"
    path.write_text(text)
    return load_campaign(path, bundled.glucose_impact())


def _summary(out: Path) -> dict[str, Any]:
    with ResultStore.read(out) as store:
        return summary_of(store)


@pytest.fixture(scope="module")
def uninterrupted_folder(tmp_path_factory, warm_forecaster) -> tuple[Campaign, Path]:
    folder = tmp_path_factory.mktemp("uninterrupted")
    campaign = _campaign(folder)
    report = run_campaign(campaign, folder / "out", InProcessExecutor())
    assert report.failed == 0 and report.ran == len(expand(campaign)) == 4
    return campaign, folder / "out"


@pytest.fixture(scope="module")
def uninterrupted(uninterrupted_folder) -> tuple[Campaign, dict[str, Any]]:
    campaign, out = uninterrupted_folder
    return campaign, _summary(out)


class _Stop(Exception):
    pass


def test_expansion_is_the_same_every_time_and_keys_name_their_work(tmp_path) -> None:
    first, second = expand(_campaign(tmp_path)), expand(_campaign(tmp_path))
    assert first == second
    assert [t.key for t in first][:2] == [
        "cgm_glucose raise | bias:+60@cgm,08:00-14:00 | adult#001..adult#001 | days 0-1",
        "cgm_glucose raise | bias:+60@cgm,08:00-14:00 | adult#002..adult#002 | days 0-1",
    ]


def test_a_stopped_campaign_resumes_with_the_results_of_an_uninterrupted_run(
    tmp_path, uninterrupted
) -> None:
    campaign, expected = uninterrupted
    out = tmp_path / "out"

    def stop_after_two(state: Progress) -> None:
        if state.done >= 4:  # two tasks of 2 patient-days
            raise _Stop

    with pytest.raises(_Stop):
        run_campaign(campaign, out, InProcessExecutor(), on_progress=stop_after_two)
    with ResultStore.read(out) as store:
        assert len(store.done()) == 2  # what finished was kept
    report = run_campaign(campaign, out, InProcessExecutor())
    assert (report.skipped, report.ran) == (2, 2)
    assert _summary(out) == expected


def test_the_tasks_results_do_not_depend_on_how_the_work_is_batched(
    tmp_path, uninterrupted
) -> None:
    _, expected = uninterrupted
    campaign = _campaign(tmp_path, SMALL.replace("batch_patient_days: 2", "batch_patient_days: 4"))
    assert len(expand(campaign)) == 2
    run_campaign(campaign, tmp_path / "out", InProcessExecutor())
    assert _summary(tmp_path / "out")["results"] == expected["results"]


def test_a_changed_campaign_is_refused_unless_restarted(tmp_path, uninterrupted) -> None:
    campaign, _ = uninterrupted
    out = tmp_path / "out"
    run_campaign(campaign, out, InProcessExecutor())
    changed = _campaign(tmp_path, SMALL.replace("seed: 3", "seed: 4"))
    with pytest.raises(InputError) as refused:
        run_campaign(changed, out, InProcessExecutor())
    assert "another definition" in str(refused.value) and "--restart" in str(refused.value)
    report = run_campaign(changed, out, InProcessExecutor(), restart=True)
    assert report.skipped == 0 and report.ran == 4


def test_a_task_that_raises_is_recorded_and_the_campaign_goes_on(
    tmp_path, uninterrupted, monkeypatch
) -> None:
    campaign, _ = uninterrupted
    real = batch_module.simulate_task

    def failing(task: batch_module.TaskSpec) -> dict[str, Any]:
        if task.ordinal == 1:
            raise RuntimeError("simulated failure")
        return real(task)

    monkeypatch.setattr(batch_module, "simulate_task", failing)
    report = run_campaign(campaign, tmp_path / "out", InProcessExecutor())
    assert (report.ran, report.failed) == (4, 1)
    summary = _summary(tmp_path / "out")
    assert len(summary["failed_tasks"]) == 1
    assert "RuntimeError: simulated failure" in summary["failed_tasks"][0]["error"]
    assert summary["patient_days_measured"] == 6
    monkeypatch.setattr(batch_module, "simulate_task", real)
    report = run_campaign(campaign, tmp_path / "out", InProcessExecutor())
    assert (report.skipped, report.ran, report.failed) == (3, 1, 0)  # the failed one again


@pytest.mark.parametrize("workers", [1, 2])
def test_dask_workers_give_the_in_process_aggregates(tmp_path, uninterrupted, workers) -> None:
    campaign, expected = uninterrupted
    with DaskExecutor(workers=workers) as executor:
        assert executor.workers == workers
        report = run_campaign(campaign, tmp_path / "out", executor)
    assert report.failed == 0
    assert _summary(tmp_path / "out") == expected


def _worker_pids(executor: DaskExecutor) -> Iterator[tuple[str, int]]:
    assert executor.client is not None
    yield from executor.client.run(os.getpid).items()


def test_a_worker_killed_mid_campaign_loses_nothing(tmp_path, uninterrupted) -> None:
    campaign, expected = uninterrupted
    killed: list[int] = []
    with DaskExecutor(workers=2) as executor:
        assert executor.client is not None
        client = executor.client

        def kill_a_busy_worker(state: Progress) -> None:
            if killed or state.done == 0:
                return
            busy = {address for address, keys in client.processing().items() if keys}
            for address, pid in _worker_pids(executor):
                if address in busy:
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                    return

        report = run_campaign(campaign, tmp_path / "out", executor, on_progress=kill_a_busy_worker)
    assert killed, "no worker was busy after the first result"
    assert report.failed == 0 and report.ran == 4
    assert _summary(tmp_path / "out") == expected


def _run_cli(*args: str):
    return CliRunner().invoke(main, ["campaign", *args])


def test_campaign_run_writes_the_summary_and_plots(tmp_path, warm_forecaster) -> None:
    (tmp_path / "c.yaml").write_text(SMALL)
    result = _run_cli(
        "run", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "out"), "--executor", "inprocess"
    )
    assert result.exit_code == 0, result.output
    assert "cgm_glucose raise" in result.output and "cgm_physiology_cusum" in result.output
    for name in (
        "summary.json",
        "summary.md",
        "summary.csv",
        "plots/severity-shares.png",
        "plots/below54.svg",
        "results.sqlite",
    ):
        assert (tmp_path / "out" / name).is_file(), name
    again = _run_cli("summary", str(tmp_path / "out"))
    assert again.exit_code == 0, again.output
    assert "4 of 8 patient-days" not in again.output and "8 of 8 patient-days" in again.output


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (("\ndays: 2", "\ndays: 0"), ":5: days: Input should be greater than or equal to 1"),
        (("seed: 3", "seeds: 3"), ":6: seeds: unknown field 'seeds'"),
        (('"carb_entry spoof"', '"carb_entry nonsense"'), ":3: classes[1]: 'carb_entry nonsense'"),
        (("controls: [cgm_physiology_cusum]", "controls: [cgm_rate]"), ":8: controls[0]: cgm_rate"),
        (("controls: [cgm_physiology_cusum]", "controls: [nope]"), ":8: controls[0]: the model"),
        (
            (
                "batch_patient_days: 2",
                'attacks:\n  carb_entry spoof: {template: "spoof:{g}@carbz", values: {g: [1]}}',
            ),
            ":10: attacks.carb_entry spoof.template: 'spoof:1@carbz'",
        ),
        (("patients: adult#001-002", "patients: adult#900"), ":4: patients:"),
        (("model: bgms", "model: missing.yaml"), ":2: model: no model file"),
    ],
)
def test_a_malformed_campaign_exits_2_naming_file_line_and_field(tmp_path, change, where) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(SMALL.replace(*change))
    result = _run_cli("run", str(path), "--out", str(tmp_path / "out"), "--executor", "inprocess")
    assert result.exit_code == 2, result.output
    assert f"{path}{where}" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_the_risk_register_can_take_a_campaigns_measured_harm(uninterrupted) -> None:
    from mdrisk.campaign.measured import impact_findings, measured_harm
    from mdrisk.cli.common import example_path
    from mdrisk.pipeline import rate_risks, run

    campaign, summary = uninterrupted
    harm = measured_harm(summary)
    covered = {ls for c in campaign.classes for ls in c.loss_scenarios}
    assert set(harm) == covered
    findings = impact_findings(summary)
    assert [f.status for f in findings] == ["simulated", "simulated"]
    assessment, _ = run(example_path("bgms"), created="2026-01-01T00:00:00Z")
    rated = rate_risks(assessment.model_copy(update={"impact": findings}), bundled.risk_inputs())
    measured = [r for r in rated.risks if r.severity.source == "measured"]
    assert measured, "no risk took the campaign's measured severity"


def test_campaign_run_on_an_existing_scheduler(tmp_path, uninterrupted) -> None:
    import json
    import logging

    from distributed import LocalCluster

    _, expected = uninterrupted
    (tmp_path / "c.yaml").write_text(SMALL)
    with LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    ) as cluster:
        result = _run_cli(
            "run",
            str(tmp_path / "c.yaml"),
            "--out",
            str(tmp_path / "out"),
            "--scheduler",
            cluster.scheduler_address,
        )
        assert result.exit_code == 0, result.output
        # the cluster the campaign connected to is left running for its owner
        assert cluster.scheduler_info["workers"]
    written = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert written["results"] == expected["results"]


def test_risk_with_a_campaign_rates_the_classes_it_covers_by_their_measured_harm(
    uninterrupted_folder, tmp_path
) -> None:
    import json

    campaign, out = uninterrupted_folder
    covered = {ls for c in campaign.classes for ls in c.loss_scenarios}
    result = CliRunner().invoke(main, ["risk", "bgms", "--campaign", str(out), "--json"])
    assert result.exit_code == 0, result.output
    risks = json.loads(result.output[result.output.index("[") :])
    measured = [r for r in risks if r["severity"]["source"] == "measured"]
    assert measured and all(set(r["loss_scenarios"]) & covered for r in measured)
    # A campaign run on another version of the model is refused, naming the field and fix.
    from conftest import EXAMPLES

    edited = tmp_path / "bgms.yaml"
    edited.write_text(
        (EXAMPLES / "bgms.yaml").read_text(encoding="utf-8") + "# edited\n", encoding="utf-8"
    )
    refused = CliRunner().invoke(main, ["risk", str(edited), "--campaign", str(out)])
    assert refused.exit_code == 2
    assert "another version of the device model" in refused.output
    assert "model_sha256" in refused.output and "--restart" in refused.output
