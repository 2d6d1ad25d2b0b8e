"""Baseline files and drift formulas, on models whose probabilities are set by hand."""

import json
import os
import re

import numpy as np
import pytest

from pytest_featureprobe.baseline import (
    Baseline,
    BaselineError,
    band_distances,
    check_band,
    check_compatible,
    check_flips,
    check_interaction_drift,
    check_probability_drift,
    check_rank_agreement,
    probe_tolerances,
    rank_correlation,
    read_baseline,
    write_baseline,
)
from pytest_featureprobe.features import FeatureSpace
from pytest_featureprobe.models import from_callable

SPACE = FeatureSpace.from_names(["a", "b", "c"])


def linear_model(weights, bias=(0.0, 0.0)):
    """Two classes; P(second) = sigmoid(bias + x . weights): exact, hand-computable outputs."""
    weights, bias = np.asarray(weights, float), np.asarray(bias, float)

    def predict(x):
        logit = bias[1] - bias[0] + x @ weights
        p = 1 / (1 + np.exp(-logit))
        return np.stack([1 - p, p], axis=1)

    return from_callable(predict, SPACE, ["no", "yes"])


def sweep_of(weights, bias=(0.0, 0.0), order=2):
    return linear_model(weights, bias).sweep(order=order)


def test_file_is_reviewable_and_round_trips(tmp_path):
    baseline = Baseline.from_sweep(sweep_of([1.0, -1.0, 0.5]), model={"seed": 0})
    path = tmp_path / "b.json"
    write_baseline(path, baseline)
    text = path.read_text()
    lines = text.splitlines()
    probe_lines = [line for line in lines if '"probe":' in line]
    assert len(probe_lines) == 1 + 3 + 3  # one probe per line
    assert probe_lines[0].strip().startswith('{"p": [0.5, 0.5], "probe": "zero"}')
    header_keys = [line.split('"')[1] for line in lines[1:8]]
    assert header_keys == sorted(header_keys)
    loaded = read_baseline(path)
    assert loaded.probes == baseline.probes
    np.testing.assert_allclose(loaded.probabilities, baseline.probabilities, atol=1e-6)
    assert loaded.space.features == ("a", "b", "c")


def test_interrupted_write_leaves_old_baseline(tmp_path, monkeypatch):
    path = tmp_path / "b.json"
    write_baseline(path, Baseline.from_sweep(sweep_of([1.0, 0.0, 0.0])))
    before = path.read_text()

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        write_baseline(path, Baseline.from_sweep(sweep_of([-3.0, 0.0, 0.0])))
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["b.json"]  # no temporary left behind


# --- only baselines are replaced -----------------------------------------------------------------

FOREIGN = {
    "package.json": '{"name": "web", "scripts": {"format": "prettier ."}, "probes": []}\n',
    "schema.json": '{"type": "object", "properties": {"mail": {"format": "email"}}}\n',
    "format-string.json": '{\n  "format": "1",\n  "probes": [],\n  "classes": [],\n'
    '  "space": {}\n}\n',
    "nested.json": '{"data": {"format": 1, "probes": [], "classes": [], "space": {}}}\n',
    "README.md": '# Project\n\nThe "format" of "probes" is described here.\n',
    "array.json": "[1, 2, 3]\n",
}


@pytest.mark.parametrize("name", sorted(FOREIGN))
def test_a_file_that_is_not_a_baseline_is_not_replaced_and_the_message_says_what_it_holds(
    tmp_path, name
):
    path = tmp_path / name
    path.write_text(FOREIGN[name])
    before = path.read_bytes()
    with pytest.raises(BaselineError) as info:
        write_baseline(path, Baseline.from_sweep(sweep_of([1.0, 0.0, 0.0])))
    lines = FOREIGN[name].count("\n")
    assert info.value.message == (
        f"refusing to replace it: {name} is not a featureprobe baseline ({len(before)} bytes, "
        f"{lines} line{'s' if lines != 1 else ''}); name another file in drift.baseline, or "
        "remove this one"
    )
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no temporary left behind


def _baseline_text() -> str:
    return Baseline.from_sweep(sweep_of([1.0, 0.0, 0.0])).to_text()


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text,
        lambda text: text[: len(text) // 2],
        lambda text: "<<<<<<< HEAD\n" + text + "=======\n>>>>>>> other\n",
        lambda text: text.replace('"format": 1', '"format": 99'),
        lambda text: text.replace("\n", "\r\n")[:200],
    ],
    ids=["intact", "truncated", "merge-conflict", "another-version", "crlf-cut"],
)
def test_a_baseline_even_a_damaged_one_is_replaced(tmp_path, damage):
    path = tmp_path / "b.json"
    path.write_bytes(damage(_baseline_text()).encode())
    baseline = Baseline.from_sweep(sweep_of([-2.0, 0.0, 0.0]))
    write_baseline(path, baseline)
    assert path.read_text() == baseline.to_text()


def test_not_a_baseline_names_folders_fifos_loops_and_links_to_nothing(tmp_path):
    from pytest_featureprobe.baseline.store import not_a_baseline

    assert not_a_baseline(tmp_path / "absent.json") is None
    (tmp_path / "dir.json").mkdir()
    assert not_a_baseline(tmp_path / "dir.json") == "dir.json is a folder, not a file"
    (tmp_path / "loop.json").symlink_to("loop.json")
    assert "loop.json is a symbolic link loop" in not_a_baseline(tmp_path / "loop.json")
    (tmp_path / "dangling.json").symlink_to("nowhere.json")
    assert not_a_baseline(tmp_path / "dangling.json") == (
        "dangling.json is a symbolic link to a file that does not exist"
    )
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo.json")  # never opened: the check would block on it
        assert "fifo.json is not a regular file" in not_a_baseline(tmp_path / "fifo.json")
    (tmp_path / "bin.json").write_bytes(b"\x00\x01" * 10)
    assert not_a_baseline(tmp_path / "bin.json") == (
        "bin.json is not a featureprobe baseline (20 bytes of binary data)"
    )


def test_a_file_over_the_read_limit_is_judged_by_its_header(tmp_path, monkeypatch):
    from pytest_featureprobe.baseline import store

    monkeypatch.setattr(store, "READ_LIMIT", 300)
    path = tmp_path / "big.json"
    path.write_text(_baseline_text() * 3)  # larger than the limit: read in part
    assert store.not_a_baseline(path) is None
    path.write_text('{"format": "email", "x": "' + "y" * 1000 + '"}')
    assert "is not a featureprobe baseline" in store.not_a_baseline(path)


@pytest.mark.parametrize(
    "text", ["{", "[]", '{"format": 1}', '{"format": 9, "probes": []}', "not json"]
)
def test_corrupt_baseline_is_a_clear_error(tmp_path, text):
    path = tmp_path / "b.json"
    path.write_text(text)
    with pytest.raises(BaselineError) as info:
        read_baseline(path)
    assert "b.json" in str(info.value)
    assert "baseline" in str(info.value)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-0.2", "1.5"])
def test_a_stored_probability_that_is_not_one_is_refused_with_its_probe_and_line(tmp_path, value):
    """NaN compares false with every tolerance: a baseline holding one would gate nothing."""
    text = Baseline.from_sweep(sweep_of([1.0, 0.0, 0.0])).to_text()
    lines = text.splitlines()
    number = next(n for n, line in enumerate(lines) if '"probe": "b"' in line)
    lines[number] = re.sub(r'"p": \[[^,\]]+', f'"p": [{value}', lines[number])
    path = tmp_path / "b.json"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(BaselineError) as info:
        read_baseline(path)
    assert info.value.line == number + 1
    if value in ("NaN", "Infinity"):  # refused as it is parsed
        shown = {"NaN": "nan", "Infinity": "inf"}[value]
        reason = f"p[0] is {shown} (every number of a baseline is finite)"
    else:
        reason = f"P(no) is {value} (probabilities are finite numbers from 0 to 1)"
    assert info.value.message == (
        f"corrupt baseline: probe b: {reason}; recreate it with --featureprobe-update"
    )


def test_a_baseline_missing_a_probe_line_is_refused_naming_it(tmp_path):
    """A probe line deleted from the file would otherwise go unchecked without a word."""
    sweep = sweep_of([1.0, 0.0, 0.0])
    data = json.loads(Baseline.from_sweep(sweep).to_text())
    data["probes"] = [r for r in data["probes"] if r["probe"] != "a+c"]
    trimmed = Baseline.from_text(json.dumps(data), "b.json")
    assert "a+c" not in trimmed.probes
    with pytest.raises(BaselineError) as info:
        check_compatible(trimmed, sweep, "b.json")
    assert info.value.message.startswith(
        "the baseline no longer matches the model: it lacks 1 of today's probes up to order 2 "
        "(a+c), which would go unchecked."
    )


def test_missing_baseline(tmp_path):
    with pytest.raises(BaselineError, match="no baseline"):
        read_baseline(tmp_path / "absent.json")


def test_incompatible_feature_space_and_classes_are_explained():
    baseline = Baseline.from_sweep(sweep_of([1.0, 0.0, 0.0]))
    other = FeatureSpace.from_names(["a", "b", "d"])
    model = from_callable(lambda x: np.full((len(x), 2), 0.5), other, ["no", "yes"])
    with pytest.raises(BaselineError, match="added d; removed c"):
        check_compatible(baseline, model.sweep(order=2), "b.json")
    renamed = from_callable(lambda x: np.full((len(x), 2), 0.5), SPACE, ["no", "maybe"])
    with pytest.raises(BaselineError, match="classes were"):
        check_compatible(baseline, renamed.sweep(order=2), "b.json")


def test_flips_counted_and_allowed():
    baseline = Baseline.from_sweep(sweep_of([1.0, -1.0, 0.5]))
    # b now pushes toward yes: probe b flips no -> yes, and so does a pair with b.
    current = sweep_of([1.0, 1.0, 0.5])
    outcome = check_flips(baseline, current, max_flips=0)
    assert not outcome.passed
    flipped = {line.split()[0] for line in outcome.lines[2:]}
    assert flipped == {"b", "a+b", "b+c"}
    assert outcome.summary == (  # one line, with the worst flip (the first row of the table)
        "3 probes changed their predicted class (at most 0 allowed); worst a+b: no -> yes, "
        "P(yes)=0.881"
    )
    assert check_flips(baseline, current, max_flips=3).passed
    assert not check_flips(baseline, current, max_flips=0, allowed=["b", "a+b"]).passed
    assert check_flips(baseline, current, max_flips=1, allowed=["b", "a+b"]).passed


def test_probability_drift_hand_computed_and_tolerance_overrides():
    baseline = Baseline.from_sweep(sweep_of([0.0, 0.0, 0.0]))  # every probe 0.5 / 0.5
    current = sweep_of([np.log(3), 0.0, 0.0])  # a: P(yes) = 0.75; a+b, a+c too
    outcome = check_probability_drift(baseline, current, probe_tolerances(baseline, 0.2, {}, {}))
    assert not outcome.passed
    assert outcome.properties["max_abs_delta"] == pytest.approx(0.25)
    assert outcome.lines[0].startswith("6 probe probabilities moved")  # 3 probes x 2 classes
    assert "+0.250" in "\n".join(outcome.lines) and "-0.250" in "\n".join(outcome.lines)
    assert outcome.summary == (
        "6 probe probabilities moved beyond tolerance; worst a: P(no) 0.500 -> 0.250 "
        "(-0.250, tolerance 0.2)"
    )
    loose_pairs = probe_tolerances(baseline, 0.2, {2: 0.3}, {"a": 0.26})
    assert check_probability_drift(baseline, current, loose_pairs).passed
    only_order = probe_tolerances(baseline, 0.2, {2: 0.3}, {})
    assert not check_probability_drift(baseline, current, only_order).passed


def test_rank_correlation_formulas():
    a = np.array([1.0, 2.0, 3.0, 4.0])
    assert rank_correlation(a, a) == pytest.approx(1.0)
    assert rank_correlation(a, -a) == pytest.approx(-1.0)
    # one swapped neighbour pair out of 4: rho = 1 - 6 * 2 / (4 * 15) = 0.8, tau = (5 - 1) / 6
    b = np.array([2.0, 1.0, 3.0, 4.0])
    assert rank_correlation(a, b, "spearman") == pytest.approx(0.8)
    assert rank_correlation(a, b, "kendall") == pytest.approx(4 / 6)
    # ties get average ranks (tau-b corrects for them)
    tied = np.array([1.0, 1.0, 2.0, 3.0])
    assert rank_correlation(a, tied, "spearman") == pytest.approx(0.9486832980505138)
    assert rank_correlation(a, tied, "kendall") == pytest.approx(5 / np.sqrt(6 * 5))
    with pytest.raises(ValueError):
        rank_correlation(a, b, "pearson")


def test_rank_agreement_and_top_k():
    baseline = Baseline.from_sweep(sweep_of([3.0, 2.0, 1.0]))
    assert check_rank_agreement(baseline, sweep_of([3.0, 2.1, 0.9]), minimum=0.99).passed
    reversed_ = sweep_of([1.0, 2.0, 3.0])
    outcome = check_rank_agreement(baseline, reversed_, minimum=0.5)
    assert not outcome.passed
    assert "spearman -1.000 (min 0.5)" in "\n".join(outcome.lines)
    top = check_rank_agreement(baseline, reversed_, top_k=1, min_overlap=1)
    assert not top.passed
    assert "top 1 overlap 0 (min 1): a -> c" in "\n".join(top.lines)
    assert check_rank_agreement(baseline, reversed_, top_k=3, min_overlap=3).passed


def test_interaction_drift_hand_computed():
    baseline = Baseline.from_sweep(sweep_of([1.0, 1.0, 0.0]))
    current = sweep_of([1.0, 1.0, 0.0])
    assert check_interaction_drift(baseline, current, 1e-9).passed
    # Interaction of a+b toward yes in the baseline, computed by hand from the logistic model.
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    expected = sig(2) - sig(1) - sig(1) + sig(0)
    table = baseline.probabilities
    index = {p: i for i, p in enumerate(baseline.probes)}
    got = (
        table[index["a+b"], 1]
        - table[index["a"], 1]
        - table[index["b"], 1]
        + table[index["zero"], 1]
    )
    assert got == pytest.approx(expected, abs=1e-6)
    # Shifting the bias by -2 turns the a+b interaction from -0.081 into +0.081.
    moved = check_interaction_drift(baseline, sweep_of([1.0, 1.0, 0.0], bias=(0.0, -2.0)), 0.1)
    assert not moved.passed
    assert moved.lines[0] == "2 pair interactions moved beyond 0.1"
    assert (
        moved.summary
        == "2 pair interactions moved beyond 0.1; worst a+b toward no: +0.081 -> -0.081"
    )
    assert "+0.163" in "\n".join(moved.lines)


def test_band_score_hand_computed():
    seeds = [sweep_of([1.0 + s / 10, -1.0, 0.0]) for s in range(5)]
    baseline = Baseline.from_sweep(seeds[0], band=seeds, band_seeds=range(5), band_floor=0.1)
    assert baseline.band.center is not None
    stack = np.stack([s.table.loc[baseline.probes, ["P(no)", "P(yes)"]].to_numpy() for s in seeds])
    # Leave-one-out: each seed against the mean and spread of the other four.
    first = np.minimum(np.abs(stack[0] - stack[1:].mean(0)) / np.maximum(stack[1:].std(0), 0.1), 10)
    assert baseline.band.loo_scores[0] == pytest.approx(first.mean())
    inside = seeds[2]
    distances = band_distances(baseline, inside)
    by_hand = np.minimum(np.abs(stack[2] - stack.mean(0)) / np.maximum(stack.std(0), 0.1), 10)
    np.testing.assert_allclose(distances, by_hand)
    assert check_band(baseline, inside).passed
    outside = sweep_of([-2.0, -1.0, 0.0])  # feature a now points the other way
    outcome = check_band(baseline, outside)
    assert not outcome.passed
    score = band_distances(baseline, outside).mean()
    threshold = 1.5 * max(baseline.band.loo_scores)
    assert outcome.lines[0].startswith(f"seed band score {score:.3f} > {threshold:.3f} (1.5 x")
    assert outcome.lines[2].split()[0] == "a"  # the probe that moved most comes first
    assert check_band(baseline, outside, max_score=score + 0.01).passed
    assert not check_band(baseline, outside, max_score=score - 0.01).passed
    no_band = Baseline.from_sweep(seeds[0])
    assert not check_band(no_band, inside).passed


def test_band_survives_the_file(tmp_path):
    seeds = [sweep_of([1.0 + s / 10, -1.0, 0.0]) for s in range(3)]
    baseline = Baseline.from_sweep(seeds[0], band=seeds, band_seeds=[0, 1, 2])
    write_baseline(tmp_path / "b.json", baseline)
    loaded = read_baseline(tmp_path / "b.json")
    assert loaded.band.seeds == [0, 1, 2]
    np.testing.assert_allclose(loaded.band.spread, baseline.band.spread, atol=1e-6)
    np.testing.assert_allclose(loaded.band.loo_scores, baseline.band.loo_scores, atol=1e-4)
    assert json.loads((tmp_path / "b.json").read_text())["band"]["seeds"] == [0, 1, 2]


def test_a_baseline_path_that_cannot_be_written_is_a_baseline_error_not_a_traceback(tmp_path):
    baseline = Baseline.from_sweep(sweep_of([1.0, 0.0, 0.0]))
    with pytest.raises(BaselineError) as info:
        write_baseline(tmp_path / "a\0b.json", baseline)
    assert info.value.message == "the baseline a\\x00b.json: a file name cannot hold a NUL byte"
    (tmp_path / "plain").write_text("x")
    with pytest.raises(BaselineError) as info:
        write_baseline(tmp_path / "plain" / "b.json", baseline, replace_any=True)
    assert info.value.message.endswith("plain is a file, not a folder")
    # A stale link loop is not replaced where a file is named; in the baseline folder it is.
    loop = tmp_path / "loop.json"
    loop.symlink_to("loop.json")
    with pytest.raises(BaselineError, match=r"loop\.json is a symbolic link loop"):
        write_baseline(loop, baseline)
    assert loop.is_symlink()
    write_baseline(loop, baseline, replace_any=True)
    assert not loop.is_symlink() and read_baseline(loop).probes == baseline.probes


def test_a_baseline_nested_too_deeply_is_a_corrupt_baseline(tmp_path):
    path = tmp_path / "b.json"
    path.write_text('{"format": 1, "probes": ' + "[" * 5000 + "]" * 5000 + "}")
    with pytest.raises(BaselineError) as info:
        read_baseline(path)
    assert info.value.message.startswith("corrupt baseline: nested too deeply to parse")


def _edited(tmp_path, text, probe, old, new):
    """The baseline ``text`` with ``old`` replaced by ``new`` on the line of ``probe``; the path
    it is written to and that line's number (1-based)."""
    lines = text.splitlines()
    number = next(n for n, line in enumerate(lines) if f'"probe": "{probe}"' in line)
    assert old in lines[number]
    lines[number] = lines[number].replace(old, new, 1)
    path = tmp_path / "b.json"
    path.write_text("\n".join(lines) + "\n")
    return path, number + 1


def test_a_probe_whose_probabilities_do_not_sum_to_1_is_refused_with_its_line(tmp_path):
    """Each value can be in [0, 1] and the row still not be probabilities (a hand edit)."""
    text = Baseline.from_sweep(sweep_of([1.0, 0.0, 0.0])).to_text()
    path, line = _edited(tmp_path, text, "b", '"p": [0.5, 0.5]', '"p": [0.5, 0.2]')
    with pytest.raises(BaselineError) as info:
        read_baseline(path)
    assert (info.value.path, info.value.line) == (str(path), line)
    assert info.value.message == (
        "corrupt baseline: probe b: its probabilities (0.5, 0.2) sum to 0.7, not 1 (within "
        "0.001); recreate it with --featureprobe-update"
    )
    # Rounding to 6 decimals moves a sum far less than the tolerance.
    path.write_text(text.replace('"p": [0.5, 0.5]', '"p": [0.5, 0.5000004]'))
    assert read_baseline(path).probes == Baseline.from_text(text, path).probes


def test_a_seed_band_center_outside_0_1_is_refused_with_its_probe_and_line(tmp_path):
    seeds = [sweep_of([1.0 + s / 10, -1.0, 0.0]) for s in range(3)]
    text = Baseline.from_sweep(seeds[0], band=seeds, band_seeds=[0, 1, 2]).to_text()
    path, line = _edited(tmp_path, text, "b", '"center": [0.731059', '"center": [1.7')
    with pytest.raises(BaselineError) as info:
        read_baseline(path)
    assert info.value.line == line
    assert info.value.message.startswith(
        "corrupt baseline: probe b, the seed band's center: P(no) is 1.7 (probabilities are "
        "finite numbers from 0 to 1)"
    )


@pytest.mark.parametrize(
    "value",
    ["NaN", "-Infinity", "1e400", "1" * 400 + ".5"],
    ids=["nan", "-inf", "1e400", "400-digits"],
)
def test_any_number_of_a_baseline_that_is_not_finite_is_refused_with_its_key_and_line(
    tmp_path, value
):
    seeds = [sweep_of([1.0 + s / 10, -1.0, 0.0]) for s in range(3)]
    text = Baseline.from_sweep(seeds[0], band=seeds, band_seeds=[0, 1, 2]).to_text()
    lines = text.splitlines()
    number = next(n for n, t in enumerate(lines) if t.startswith('  "band"'))
    lines[number] = re.sub(r'"floor": [0-9.]+', f'"floor": {value}', lines[number])
    path = tmp_path / "b.json"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(BaselineError) as info:
        read_baseline(path)
    shown = {"NaN": "nan", "-Infinity": "-inf"}.get(value, "inf")
    assert info.value.line == number + 1
    assert info.value.message == (
        f"corrupt baseline: band.floor is {shown} (every number of a baseline is finite); "
        "recreate it with --featureprobe-update"
    )


def test_an_integer_too_long_to_convert_is_a_corrupt_baseline_at_its_line(tmp_path):
    """json raises a plain ValueError (not a JSONDecodeError) past 4,300 digits."""
    text = Baseline.from_sweep(sweep_of([1.0, 0.0, 0.0])).to_text()
    path, line = _edited(tmp_path, text, "b", '"p": [0.5', '"p": [' + "7" * 5000)
    with pytest.raises(BaselineError) as info:
        read_baseline(path)
    assert info.value.line == line
    assert info.value.message == (
        "corrupt baseline: a number of 5,000 digits (a baseline holds probabilities, counts and "
        "seeds); recreate it with --featureprobe-update"
    )


def test_a_lone_surrogate_in_a_baseline_is_refused_at_its_line(tmp_path):
    """A name holding one could not be printed in the mismatch message that names it."""
    text = Baseline.from_sweep(sweep_of([1.0, 0.0, 0.0])).to_text()
    path, line = _edited(tmp_path, text, "b", '"probe": "b"', '"probe": "b\\ud800"')
    with pytest.raises(BaselineError) as info:
        read_baseline(path)
    assert info.value.line == line
    assert info.value.message.startswith(
        "corrupt baseline: it holds the escape \\ud800, half of a UTF-16 pair, which no file can"
    )


def test_baseline_probes_today_lacks_are_listed_in_words(tmp_path):
    """Was '1 baseline probes are not in today's sweep (e.g. ...) (sweep order 1 < 1?)'."""
    sweep = sweep_of([1.0, 0.0, 0.0], order=1)
    data = json.loads(Baseline.from_sweep(sweep).to_text())
    data["probes"].append({"p": [0.5, 0.5], "probe": "a+b"})
    renamed = Baseline.from_text(json.dumps(data), "b.json")
    with pytest.raises(BaselineError) as info:
        check_compatible(renamed, sweep, "b.json")
    assert info.value.message.startswith(
        "the baseline no longer matches the model: it holds 1 probe that today's sweep does not "
        "(a+b)."
    )
    deeper = Baseline.from_sweep(sweep_of([1.0, 0.0, 0.0], order=2))
    with pytest.raises(BaselineError) as info:
        check_compatible(deeper, sweep, "b.json")
    assert info.value.message.startswith(
        "the baseline no longer matches the model: it holds 3 probes that today's sweep does not "
        "(a+b, a+c, b+c; today's sweep goes to order 1, the baseline's to 2)."
    )


def test_a_declared_set_is_what_a_baseline_holds_and_must_hold():
    sweep = sweep_of([1.0, 0.0, 0.0])
    baseline = Baseline.from_sweep(sweep, probes=["zero", ["c", "a"], "b"])
    assert baseline.probes == ["zero", "b", "a+c"]  # in the sweep's order
    check_compatible(baseline, sweep, "b.json", probes=["zero", "a+c", "b"])
    with pytest.raises(BaselineError) as info:
        check_compatible(baseline, sweep, "b.json", probes=["zero", "a", "b", "a+c", "b+c"])
    assert "it lacks 2 of the 5 probes drift.probes declares (a, b+c)" in info.value.message
    with pytest.raises(BaselineError) as info:
        check_compatible(baseline, sweep, "b.json", probes=["zero"])
    assert "it holds 2 probes drift.probes does not declare (b, a+c)" in info.value.message
    with pytest.raises(BaselineError) as info:  # a file that declares no set wants them all
        check_compatible(baseline, sweep, "b.json", order=2)
    assert "it lacks 4 of today's probes up to order 2 (a, c, a+b, b+c)" in info.value.message


def test_a_context_row_whose_probabilities_are_not_probabilities_is_refused_at_its_line(tmp_path):
    from pytest_featureprobe.baseline.churn import RowPredictions

    baseline = Baseline.from_sweep(sweep_of([1.0, 0.0, 0.0]))
    baseline.rows = RowPredictions(
        [("a",), ("b", "c")], np.array([3, 1]), np.array([[0.25, 0.75], [0.5, 0.5]])
    )
    text = baseline.to_text()
    assert Baseline.from_text(text, "b.json").rows.counts.tolist() == [3, 1]
    lines = text.splitlines()
    number = next(n for n, t in enumerate(lines) if '"features": ["b", "c"]' in t)
    for new, message in [
        ("[0.5, 0.7]", "its probabilities (0.5, 0.7) sum to 1.2, not 1 (within 0.001)"),
        ("[0.5, -0.2]", "P(yes) is -0.2 (probabilities are finite numbers from 0 to 1)"),
    ]:
        edited = lines.copy()
        edited[number] = edited[number].replace("[0.5, 0.5]", new)
        path = tmp_path / "b.json"
        path.write_text("\n".join(edited) + "\n")
        with pytest.raises(BaselineError) as info:
            read_baseline(path)
        assert info.value.line == number + 1
        assert info.value.message.startswith(f"corrupt baseline: context row 2: {message}")


def _band_text():
    seeds = [sweep_of([1.0 + s / 10, -1.0, 0.0]) for s in range(3)]
    return Baseline.from_sweep(seeds[0], band=seeds, band_seeds=[0, 1, 2]).to_text()


@pytest.mark.parametrize(
    ("pattern", "new", "message"),
    [
        (  # 10**349: json reads inf; a quick test on the text would miss it
            r'"loo_scores": \[[0-9.]+',
            '"loo_scores": [1' + "0" * 250 + "e99",
            "band.loo_scores[0] is inf (every number of a baseline is finite)",
        ),
        (
            r'"loo_scores": \[[0-9.]+',
            '"loo_scores": ["Infinity"',
            'band.loo_scores[0] is "Infinity" (not a JSON number)',
        ),
        (
            r'"loo_scores": \[[0-9.]+',
            '"loo_scores": [1e300',
            "band.loo_scores[0] is 1e+300 (out of range: a score from 0 to the cap 10)",
        ),
        (
            r'"cap": [0-9.]+',
            '"cap": -1',
            "band.cap is -1 (out of range: a distance greater than 0 and at most 1000)",
        ),
        (
            r'"floor": [0-9.]+',
            '"floor": true',
            "band.floor is true (not a JSON number)",
        ),
    ],
    ids=["long-mantissa-inf", "string-infinity", "loo-1e300", "cap-negative", "floor-bool"],
)
def test_a_tampered_band_header_is_refused_with_its_key_and_line(tmp_path, pattern, new, message):
    text = _band_text()
    lines = text.splitlines()
    number = next(n for n, t in enumerate(lines) if t.startswith('  "band"'))
    lines[number] = re.sub(pattern, new, lines[number])
    path = tmp_path / "b.json"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(BaselineError) as info:
        read_baseline(path)
    assert info.value.line == number + 1
    assert info.value.message == (
        f"corrupt baseline: {message}; recreate it with --featureprobe-update"
    )


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ('"spread": ["inf", "inf"]', 'spread[0] is "inf" (not a JSON number)'),
        (
            '"spread": [0.7, 0.7]',
            "spread[0] is 0.7 (out of range: a standard deviation of probabilities, from 0 to 0.5)",
        ),
    ],
    ids=["strings", "above-0.5"],
)
def test_a_tampered_band_spread_is_refused_with_its_probe_and_line(tmp_path, new, message):
    path, line = _edited(tmp_path, _band_text(), "b", "", "")
    lines = path.read_text().splitlines()
    lines[line - 1] = re.sub(r'"spread": \[[^\]]*\]', new, lines[line - 1])
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(BaselineError) as info:
        read_baseline(path)
    assert info.value.line == line
    assert info.value.message.startswith(f"corrupt baseline: probe b: {message}; recreate it")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["probes"][0].update(seeds=[[50.0, -49.0], *d["probes"][0]["seeds"][1:]]),
            "probe zero: seeds[0][0] is 50 (out of range: a probability from 0 to 1)",
        ),
        (
            lambda d: d["slices"][0]["seeds"][1].__setitem__(0, None),
            "slices[0].seeds[1][0] is null (not a JSON number)",
        ),
        (
            lambda d: d["seed_test"].update(floor=1e300),
            "seed_test.floor is 1e+300 (out of range: a spread greater than 0 and at most 1)",
        ),
        (
            lambda d: d["seed_test"].update(floor=0),
            "seed_test.floor is 0 (out of range: a spread greater than 0 and at most 1)",
        ),
        (
            lambda d: d["seed_test"]["seeds"].__setitem__(0, "5"),
            'seed_test.seeds[0] is "5" (not a JSON integer)',
        ),
    ],
    ids=["cells-out-of-0-1", "null-slice-cell", "floor-1e300", "floor-0", "seed-string"],
)
def test_a_tampered_seed_test_is_refused_with_its_key_and_line(edit, message):
    from .test_seed_test import seeded_baseline

    data = json.loads(seeded_baseline().to_text())
    edit(data)
    text = json.dumps(data, indent=1)
    with pytest.raises(BaselineError) as info:
        Baseline.from_text(text, "b.json")
    assert info.value.message == (
        f"corrupt baseline: {message}; recreate it with --featureprobe-update"
    )
    shown = message.split(" is ")[1].split(" (")[0]
    literal = {"50": "50.0", "0": "0"}.get(shown, shown)
    assert literal in text.splitlines()[info.value.line - 1]  # the line of the edited value


def test_a_baseline_of_a_model_within_its_tolerance_reads_back(tmp_path):
    """The model check lets outputs 0.0004 outside [0, 1] by; the reader must too."""
    model = linear_model([1.0, 0.0, 0.0])
    base = model.predict_proba

    def predict(x):
        out = base(x)
        out[x[:, 1] == 1] = [-0.0004, 1.0004]  # every probe holding b
        return out

    sweep = from_callable(predict, SPACE, ["no", "yes"]).sweep(order=2)
    path = tmp_path / "b.json"
    write_baseline(path, Baseline.from_sweep(sweep))
    read = read_baseline(path)
    assert read.probabilities[read.probes.index("b")].tolist() == [-0.0004, 1.0004]
    assert check_probability_drift(read, sweep, np.full(len(read.probes), 1e-6)).passed
    path.write_text(path.read_text().replace("[-0.0004, 1.0004]", "[-0.0014, 1.0014]", 1))
    with pytest.raises(BaselineError, match=r"P\(no\) is -0.0014"):
        read_baseline(path)


def test_drift_probes_given_as_numbers_or_booleans_name_features_as_the_data_does(tmp_path):
    """YAML reads ``probes: [1.0, true]`` as a float and a bool; the data's cells are "1" and
    "true" (features.feature_name), and so are the probes now."""
    from pytest_featureprobe.spec.drift import DriftDecl

    values = {"probes": [1.0, True, [2, "a"], "x+y", 2.5]}
    decl = DriftDecl(values, 0, {}, [], tmp_path / "featureprobe_x.yaml")
    assert decl.probes == ["1", "true", ["2", "a"], "x+y", "2.5"]
    space = FeatureSpace.from_names(["1", "true", "2", "a"])
    sweep = from_callable(
        lambda x: np.stack([0.5 + 0 * x[:, 0], 0.5 + 0 * x[:, 0]], 1), space, ["n", "y"]
    ).sweep(order=2)
    baseline = Baseline.from_sweep(sweep, probes=decl.probes[:3])
    assert baseline.probes == ["1", "true", "2+a"]
    check_compatible(baseline, sweep, "b.json", probes=decl.probes[:3])
