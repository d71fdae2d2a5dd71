"""The join verdict: met only when the median ratio's 95 % interval is under the line."""

from __future__ import annotations

import argparse
import random

from bench.report import median_interval, verdicts


def test_with_fewer_than_six_rounds_there_is_no_95_percent_interval():
    assert median_interval([2.9, 3.1, 2.8, 3.0, 2.7]) is None
    assert median_interval([2.9, 3.1, 2.8, 3.0, 2.7, 2.6]) == (2.6, 3.1)  # the extremes: 1 - 2/64 = 96.9 %


def test_with_fifteen_rounds_the_interval_is_the_fourth_smallest_to_the_fourth_largest():
    values = [float(v) for v in range(1, 16)]
    random.Random(7).shuffle(values)
    assert median_interval(values) == (4.0, 12.0)


def test_the_interval_holds_the_true_median_at_least_95_times_in_100():
    rng = random.Random(13)
    # Lopsided noise, as a shared machine gives: a ratio of 2.9 now and then pushed up by a busy neighbour.
    trials, held = 2000, 0
    for _ in range(trials):
        values = [2.9 + rng.expovariate(4) - 0.173 for _ in range(11)]  # the exponential's median is ln2/4
        low, high = median_interval(values)
        held += low <= 2.9 <= high
    assert held / trials >= 0.95


def join_verdict(ratios):
    rounds = {"rounds": [], "ratios": ratios, "median_ratio": sorted(ratios)[len(ratios) // 2],
              "median_interval": median_interval(ratios)}
    (line,) = [v for v in verdicts({"join_rounds": rounds}, argparse.Namespace()) if v[0].startswith("joins:")]
    return line


def test_a_median_under_the_line_with_rounds_on_both_sides_is_not_called_met():
    label, ok, detail = join_verdict([2.62, 2.72, 2.73, 2.93, 3.19, 3.27, 3.41])
    assert not ok and "median 2.93×" in detail and "95 % interval 2.62–3.41×" in detail


def test_rounds_all_under_the_line_are_called_met():
    label, ok, detail = join_verdict([2.41, 2.52, 2.60, 2.65, 2.70, 2.81, 2.95])
    assert ok and "95 % interval 2.41–2.95×" in detail


def test_too_few_rounds_are_not_called_met_whatever_their_median():
    label, ok, detail = join_verdict([2.1, 2.2, 2.3])
    assert not ok and "too few rounds" in detail
