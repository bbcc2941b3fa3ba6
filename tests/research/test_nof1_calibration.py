"""Calibration by simulation through the research simulator: intervals cover the known truth
about 95% of the time, and a confidently wrong prior is caught by the same check."""

from __future__ import annotations

from ldnkit.research.nof1 import Nof1Prior
from ldnkit.research.nof1.calibration import calibrate


def test_credible_intervals_cover_the_truth() -> None:
    cal = calibrate(n_patients=300, seed=11)
    # 3 Monte Carlo SEs (about 1.3 points each at 300 patients) around 95%
    assert 0.91 <= cal.coverage95 <= 0.99, cal.summary()
    assert cal.n_confident > 30
    assert cal.share_benefiting_when_confident >= 0.9, cal.summary()
    assert cal.assumptions["washout_days"] > 0 and cal.assumptions["patterns"] >= 2


def test_a_confidently_wrong_prior_fails_calibration() -> None:
    wrong = Nof1Prior.informed(3.0, 0.05, 1.2, "a deliberately wrong source")
    cal = calibrate(n_patients=100, seed=12, prior=wrong)
    assert cal.coverage95 < 0.6
