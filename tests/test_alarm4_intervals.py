"""alarm_rate's by-period intervals on score processes other than AR(1) (bench/alarm_processes.py), read off the
scores' autocorrelation at every lag (ad_duckdb/alarmacf.py), and what the statement says under 3 periods."""

from __future__ import annotations

import importlib.util
from types import ModuleType

import numpy as np
import pytest

from ad_duckdb import alarmacf

from conftest import ROOT


def _processes() -> ModuleType:
    spec = importlib.util.spec_from_file_location("alarm_processes", ROOT / "bench" / "alarm_processes.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_intervals_hold_later_days_and_weeks_of_several_score_processes_at_fixed_seeds() -> None:
    """60 stretches of each process, seed 5. Before, an AR(1) of the lag-1 correlation said how readings move
    together: a slow level under as much fast noise (lag-1 0.5) held 75% of later weeks, and an oscillating AR(2)
    (lag-1 0.97, forgotten within dozens of readings) gave a week interval of 19.7 alarms a day where 9.7 holds 98%."""
    got = {r["process"]: r for r in _processes().measure(
        ("ar1_0", "ar1_0.9", "ar1_0.995", "ar2", "ar1_plus_noise", "weekly", "heavy"), 60, 5)}
    for name, r in got.items():
        assert r["days"] >= 0.9 and r["weeks"] >= 0.84, (name, r)
        assert r["weeks_wilson"] < 0.85, (name, r)  # the rows' interval is no interval for a later week
    assert got["ar2"]["same_width"] <= 12.0 and got["ar2"]["weeks"] >= 0.95, got["ar2"]
    assert got["ar1_0"]["same_width"] <= 5.2, got["ar1_0"]  # not widened where rows are independent


def test_the_alarms_correlation_is_read_off_every_lag_of_the_scores() -> None:
    rng = np.random.default_rng(4)
    n = 4032
    slow = np.empty(n)
    slow[0] = rng.standard_normal()
    for i in range(1, n):
        slow[i] = 0.995 * slow[i - 1] + np.sqrt(1 - 0.995 ** 2) * rng.standard_normal()
    mixed = slow + rng.standard_normal(n)  # lag-1 about 0.5, but half the variance moves over hundreds of readings
    acf = alarmacf.normal_acf(np.exp(mixed))  # of ranks: a skewed transform reads the same
    assert 0.4 < acf[0] < 0.6 and acf[50] > 0.2
    assert alarmacf.inflation(acf, n, 0.01) > 4 * alarmacf.inflation(np.r_[acf[0], acf[0] ** np.arange(2, n)], n, 0.01)
    assert alarmacf.inflation(alarmacf.normal_acf(rng.standard_normal(n)), n, 0.01) < 1.3
    assert len(alarmacf.normal_acf(np.ones(10))) == 0 and alarmacf.inflation(np.empty(0), 100, 0.01) == 1.0
    # the alarms' correlation: none at none, one at one, and below the normal values' at a rare cut
    c = alarmacf.flag_correlation(np.array([0.0, 0.5, 1.0]), 0.01)
    assert c[0] == pytest.approx(0.0, abs=1e-9) and 0 < c[1] < 0.5 and c[2] == pytest.approx(1.0, abs=1e-3)
    # an AR(1) floor only where the correlation falls off no faster than an AR(1)'s
    assert alarmacf.like_ar1(0.9 ** np.arange(1, 200)) and not alarmacf.like_ar1(np.r_[0.97, np.zeros(100)])
