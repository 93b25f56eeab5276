"""Attack specs and the false-data injection families, as an analyst writes and expects them.

No simulation here: each family is applied to a synthetic signal through the same tap the
simulator uses, once per 3-minute control period.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mdrisk.errors import InputError
from mdrisk.impact.attacks import (
    ATTACKS,
    AttackPlan,
    AttackTap,
    SpecError,
    load_attack_file,
    parse_attack,
    parse_plan,
    plans_from_texts,
)
from mdrisk.impact.fdi_signals import ALL_SIGNALS
from mdrisk.impact.search import SearchBudget, parse_budget

PERIOD = 3
TIMES = np.arange(0, 1440, PERIOD, dtype=float)


def run_signal(spec: str, signal: str, honest, rows: int = 1) -> np.ndarray:
    """The signal after the attack, one column per control period, ``rows`` identical rows."""
    plan = parse_plan(spec)
    tap = AttackTap(plan.build(), PERIOD)
    tap.reset(rows)
    out = []
    for t in TIMES:
        value = np.full(rows, float(honest(t)))
        out.append(tap.apply(signal, float(t), value))
    return np.array(out).T


def at(clock: str) -> int:
    hours, minutes = clock.split(":")
    return (int(hours) * 60 + int(minutes)) // PERIOD


# -- the grammar ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "bias:+60@cgm,08:00-14:00",
        "scale:1.5@bolus,12:00-13:00",
        "replay:30min@cgm,02:00-06:00",
        "freeze@cgm,22:00-23:59",
        "spoof:60@carbs,07:30",
        "ramp:+60/30min@cgm,06:00-10:00",
        "drift:+1.5/min@cgm,06:00-08:00",
        "noise:25@cgm",
        "drop:50%@cgm,10:00-12:00",
        "drop@carbs",
        "tamper:x3@pump_bolus",
        "tamper:=0@pump_basal,02:00-08:00",
        "tamper:+5U@pump_bolus,03:00",
        "bias:-40@forecast,22:00-02:00",
    ],
)
def test_the_canonical_spec_reads_back_as_written(text: str) -> None:
    plan = parse_plan(text)
    assert plan.text == text
    assert parse_plan(plan.text) == plan


def test_units_spaces_and_aliases_are_accepted_and_normalised() -> None:
    assert parse_plan("bias: +60mg/dL @ cgm , 08:00 - 14:00").text == "bias:+60@cgm,08:00-14:00"
    assert parse_attack("spoof:60g@carbs,07:30").text == "spoof:60@carbs,07:30"
    assert parse_attack("scale:150%@bolus").text == "scale:1.5@bolus"
    assert parse_attack("drift:+60/h@cgm,06:00-08:00").text == "drift:+1/min@cgm,06:00-08:00"


def test_several_attacks_joined_by_semicolons_make_one_attacked_run() -> None:
    plan = parse_plan("bias:+60@cgm,08:00-14:00;spoof:60g@carbs,07:30")
    assert [a.family for a in plan.attacks] == ["bias", "spoof"]
    assert plan.signals == ("cgm", "carbs")


@pytest.mark.parametrize(
    "text, column, words",
    [
        ("bais:+60@cgm", 1, "did you mean 'bias'"),
        ("bias:+6O@cgm,08:00-14:00", 6, "'+6O' is not a number"),
        ("bias:+60@cgn", 10, "did you mean 'cgm'"),
        ("bias:+60", 9, "no '@signal'"),
        ("freeze@carbs,08:00-09:00", 8, "freeze cannot target carbs"),
        ("bias:+60@cgm,25:00-26:00", 14, "not a time of day"),
        ("bias:+60@cgm,08:61-09:00", 17, "minutes above 59"),
        ("spoof:60g@carbs", 16, "needs the time it happens"),
        ("bias@cgm", 5, "bias needs a parameter"),
        ("bias:+60@cgm,08:00", 14, "single time suits only a one-off event"),
        ("ramp:+60@cgm,08:00-10:00", 9, "needs its peak and its ramp time"),
        ("bias:+60@cgm,08:00-08:00", 14, "is empty"),
        ("drop:150%@cgm", 6, "must be in (0, 100%]"),
        ("tamper:y3@bolus", 8, "is not a tampering"),
        ("bias:+60@cgm;", 14, "empty attack"),
        ("", 1, "empty attack spec"),
    ],
)
def test_a_malformed_spec_is_refused_with_its_column_and_reason(text, column, words) -> None:
    with pytest.raises(SpecError) as caught:
        parse_plan(text)
    error = caught.value
    assert error.position + 1 == column
    assert words in error.message
    assert f"column {column}:" in error.render()
    assert error.render().splitlines()[-1].index("^") == 4 + column - 1  # caret under it


def test_command_line_specs_become_one_input_error_listing_every_bad_one() -> None:
    with pytest.raises(InputError) as caught:
        plans_from_texts(["bias:+60@cgm,08:00-14:00", "bais:+1@cgm", "scale:x@bolus"])
    text = str(caught.value)
    assert caught.value.file == "--attack"
    assert len(caught.value.problems) == 2
    assert "attack 2" in text and "attack 3" in text


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("biasclefrozmpdy:+-=@,;.%/0123456789xUgh ")), max_size=40)
)
def test_any_text_either_parses_or_fails_with_a_located_spec_error(text: str) -> None:
    try:
        plan = parse_plan(text)
    except SpecError as error:
        assert 0 <= error.position <= len(text)
        assert error.message
    else:
        assert parse_plan(plan.text) == plan


@settings(max_examples=150, deadline=None)
@given(
    family=st.sampled_from(["bias", "scale", "ramp", "drift", "noise"]),
    value=st.floats(min_value=0.5, max_value=300, allow_nan=False).map(lambda v: round(v, 2)),
    start=st.integers(0, 1439),
    length=st.integers(1, 1439),
)
def test_generated_specs_round_trip(family: str, value: float, start: int, length: int) -> None:
    param = {
        "bias": f"+{value:g}",
        "scale": f"{value:g}",
        "ramp": f"+{value:g}/30min",
        "drift": f"+{value:g}/min",
        "noise": f"{value:g}",
    }[family]
    end = (start + length) % 1440
    text = f"{family}:{param}@cgm,{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"
    plan = parse_plan(text)
    assert parse_plan(plan.text) == plan


def test_every_family_is_registered_and_targets_known_signals() -> None:
    assert set(ATTACKS) == {
        "bias",
        "scale",
        "ramp",
        "drift",
        "replay",
        "freeze",
        "noise",
        "spoof",
        "drop",
        "tamper",
    }
    for cls in ATTACKS.values():
        assert set(cls.targets) <= set(ALL_SIGNALS)
        assert cls.summary


# -- attack files -----------------------------------------------------------------------------
def test_an_attack_file_lists_specs_and_named_groups(tmp_path) -> None:
    path = tmp_path / "attacks.yaml"
    path.write_text(
        "- bias:+60@cgm,08:00-14:00\n"
        "- name: fake breakfast\n  attack:\n    - spoof:60g@carbs,07:30\n"
        "    - tamper:x2@pump_bolus\n"
    )
    plans = load_attack_file(path)
    assert [p.label for p in plans] == ["bias:+60@cgm,08:00-14:00", "fake breakfast"]
    assert len(plans[1].attacks) == 2


def test_a_bad_attack_file_names_the_line_of_each_bad_item(tmp_path) -> None:
    path = tmp_path / "attacks.yaml"
    path.write_text(
        "attacks:\n  - bias:+60@cgm,08:00-14:00\n  - bais:+60@cgm\n"
        "  - {name: x, attak: bias:+1@cgm}\n"
    )
    with pytest.raises(InputError) as caught:
        load_attack_file(path)
    lines = [p.line for p in caught.value.problems]
    assert lines == [3, 4]
    assert "did you mean 'bias'" in str(caught.value)


def test_an_empty_or_non_list_attack_file_is_refused(tmp_path) -> None:
    path = tmp_path / "attacks.yaml"
    path.write_text("bias: 60\n")
    with pytest.raises(InputError, match="non-empty list"):
        load_attack_file(path)


# -- what each family does to a signal --------------------------------------------------------
def rising(t: float) -> float:
    return 100.0 + t / 10.0


def test_bias_adds_its_offset_inside_the_window_only() -> None:
    out = run_signal("bias:+60@cgm,08:00-14:00", "cgm", rising)[0]
    honest = np.array([rising(t) for t in TIMES])
    inside = (TIMES >= 480) & (TIMES < 840)
    np.testing.assert_allclose(out[inside], honest[inside] + 60)
    np.testing.assert_allclose(out[~inside], honest[~inside])


def test_a_window_across_midnight_wraps() -> None:
    out = run_signal("bias:+10@cgm,22:00-02:00", "cgm", lambda t: 100.0)[0]
    assert out[at("23:00")] == 110 and out[at("01:00")] == 110 and out[at("03:00")] == 100


def test_scale_multiplies_doses() -> None:
    out = run_signal("scale:1.5@bolus,12:00-13:00", "bolus", lambda t: 2.0)[0]
    assert out[at("12:30")] == 3.0 and out[at("13:00")] == 2.0


def test_a_ramp_rises_holds_and_falls_without_ever_jumping_more_than_its_rate() -> None:
    out = run_signal("ramp:+60/30min@cgm,06:00-10:00", "cgm", lambda t: 120.0)[0]
    offset = out - 120.0
    assert offset[at("06:00")] == 0.0
    assert offset[at("06:15")] == pytest.approx(30.0)
    assert offset[at("07:00")] == pytest.approx(60.0)
    assert offset[at("09:45")] == pytest.approx(30.0)
    assert offset[at("10:00")] == 0.0
    assert np.abs(np.diff(offset)).max() <= 60.0 / 30.0 * PERIOD + 1e-9


def test_drift_grows_at_its_rate_then_releases() -> None:
    offset = run_signal("drift:+1.5/min@cgm,06:00-08:00", "cgm", lambda t: 100.0)[0] - 100
    assert offset[at("07:00")] == pytest.approx(90.0)
    assert offset[at("08:00")] == 0.0


def test_replay_delivers_the_values_of_the_given_delay_earlier() -> None:
    out = run_signal("replay:30min@cgm,02:00-06:00", "cgm", rising)[0]
    assert out[at("03:00")] == pytest.approx(rising(150.0))
    assert out[at("07:00")] == pytest.approx(rising(420.0))


def test_freeze_holds_the_value_of_the_window_opening_every_day() -> None:
    out = run_signal("freeze@cgm,22:00-23:59", "cgm", rising)[0]
    assert np.all(out[at("22:00") : at("23:57") + 1] == rising(1320.0))
    assert out[at("21:57")] == pytest.approx(rising(1317.0))


def test_noise_is_seeded_and_has_the_asked_spread() -> None:
    first = run_signal("noise:20@cgm", "cgm", lambda t: 200.0, rows=4)
    again = run_signal("noise:20@cgm", "cgm", lambda t: 200.0, rows=4)
    np.testing.assert_array_equal(first, again)
    assert np.std(first - 200.0) == pytest.approx(20.0, rel=0.1)


def test_a_spoofed_carb_entry_appears_once_at_its_time() -> None:
    out = run_signal("spoof:60g@carbs,07:30", "carbs", lambda t: 0.0)[0]
    assert out.sum() == 60.0 and out[at("07:30")] == 60.0


def test_a_spoofed_level_replaces_the_value_for_the_window() -> None:
    out = run_signal("spoof:250@cgm,02:00-03:00", "cgm", lambda t: 90.0)[0]
    assert out[at("02:30")] == 250.0 and out[at("03:00")] == 90.0


def test_dropped_readings_leave_the_last_value_and_dropped_entries_vanish() -> None:
    readings = run_signal("drop@cgm,10:00-12:00", "cgm", rising)[0]
    assert np.all(readings[at("10:00") : at("11:57") + 1] == rising(597.0))
    entries = run_signal("drop@carbs", "carbs", lambda t: 50.0 if t == 420 else 0.0)[0]
    assert entries.sum() == 0.0
    half = run_signal("drop:50%@cgm", "cgm", rising)[0]
    lost = np.mean(np.diff(half) == 0)
    assert 0.35 < lost < 0.65


def test_command_tampering_scales_replaces_or_adds_insulin() -> None:
    tripled = run_signal("tamper:x3@pump_bolus", "pump_bolus", lambda t: 1.0)[0]
    assert np.all(tripled == 3.0)
    suspended = run_signal("tamper:=0@pump_basal,02:00-08:00", "pump_basal", lambda t: 0.02)[0]
    assert suspended[at("03:00")] == 0.0 and suspended[at("09:00")] == 0.02
    extra = run_signal("tamper:+6U@pump_bolus,03:00", "pump_bolus", lambda t: 0.0)[0]
    assert extra.sum() * PERIOD == pytest.approx(6.0)


def test_an_attack_acts_on_its_own_rows_only() -> None:
    plan = parse_plan("bias:+60@cgm")
    tap = AttackTap(plan.build(), PERIOD, rows=[np.array([False, True, False])])
    tap.reset(3)
    out = tap.apply("cgm", 0.0, np.full(3, 100.0))
    np.testing.assert_array_equal(out, [100.0, 160.0, 100.0])


def test_a_plan_is_a_value() -> None:
    assert isinstance(parse_plan("bias:+1@cgm"), AttackPlan)
    assert parse_plan("bias:+1@cgm") == parse_plan("bias:1@cgm")


# -- the budget -------------------------------------------------------------------------------
def test_a_budget_reads_its_settings_and_keeps_defaults() -> None:
    budget = parse_budget("max=80, duration=3h, grid=30min, from=06:00, to=20:00")
    assert (budget.max_offset, budget.max_duration_min, budget.grid_min) == (80.0, 180, 30)
    assert (budget.earliest_min, budget.latest_min) == (360, 1200)
    assert budget.signal == "cgm" and budget.objective == "below54"
    assert parse_budget("default") == SearchBudget()
    assert parse_budget(budget.text) == budget


@pytest.mark.parametrize(
    "text, words",
    [
        ("max=-5", "not a positive number"),
        ("duration=soon", "not a duration"),
        ("signal=cgn", "unknown signal"),
        ("objective=pain", "unknown objective"),
        ("from=10:00,to=09:00", "later than"),
        ("colour=red", "not a budget setting"),
        ("max=60,max=70", "given twice"),
        ("from=25:00", "not a time of day"),
    ],
)
def test_a_bad_budget_is_refused_with_the_reason(text: str, words: str) -> None:
    with pytest.raises(SpecError, match=words):
        parse_budget(text)


def test_offsets_and_noise_are_for_levels_not_for_entries_or_doses() -> None:
    with pytest.raises(SpecError, match="bias cannot target carbs") as caught:
        parse_plan("bias:+10@carbs")
    assert "events" in caught.value.fix


def test_a_replayed_entry_arrives_late_and_only_once() -> None:
    entries = run_signal("replay:60min@carbs", "carbs", lambda t: 50.0 if t in (0, 420) else 0)
    assert entries.sum() == 100.0
    assert entries[0][at("08:00")] == 50.0 and entries[0][at("01:00")] == 50.0
