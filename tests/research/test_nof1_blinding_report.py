"""Pharmacy lines and labels, the blinding check, the report and clinic pooling."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest
from scipy import stats

from ldnkit.errors import ValidationError
from ldnkit.evidence import default_evidence
from ldnkit.research.nof1 import Nof1Settings, design_trial, fit, series_from_diary
from ldnkit.research.nof1.pharmacy import blinding_check, dispensing
from ldnkit.research.nof1.pooling import pool_trials
from ldnkit.research.nof1.report import DECISION_SOURCES, build_report, plain_words


def _trial(effect: float, seed: int):  # type: ignore[no-untyped-def]
    design, alloc = design_trial(
        Nof1Settings(dose_mg=Decimal("4.5"), start=dt.date(2026, 1, 5), seed=seed)
    )
    rng = np.random.default_rng(seed)
    e, pain = 0.0, {}
    for day in range(design.total_days):
        e = 0.4 * e + np.sqrt(1 - 0.16) * 1.0 * rng.standard_normal()
        info = design.day_info(design.date_of(day))
        on = info.period is not None and alloc.is_ldn(info.period)
        pain[design.date_of(day)] = 6.0 + e + effect * on
    return design, alloc, pain


def test_dispensing_labels_never_name_contents() -> None:
    design, alloc, _ = _trial(-1.0, 3)
    lines = dispensing(design, alloc, "T-0001")
    assert len(lines) == len(design.periods)
    for line, p in zip(lines, design.periods, strict=True):
        assert line.capsules == p.days + 3
        assert f"PACK {p.pack}" in line.label
        for word in ("placebo", "LDN", "4.5", "cellulose"):
            assert word not in line.label
        if alloc.is_ldn(p):
            assert line.strength_mg == Decimal("4.5") and line.contents.startswith("LDN 4.5 mg")
        else:
            assert line.strength_mg == 0 and "microcrystalline cellulose only" in line.contents
        assert "contents" not in line.to_dict() and "contents" in line.to_dict(blinded=False)
    with pytest.raises(ValidationError, match="filler"):
        dispensing(design, alloc, "T", filler=" ")


def test_blinding_check_against_binomial() -> None:
    design, alloc, _ = _trial(-1.0, 3)
    right = [(p.index, "ldn" if alloc.is_ldn(p) else "comparator") for p in design.periods]
    chk = blinding_check(design, alloc, right)
    assert chk.correct == 6 and chk.share_correct == 1.0
    assert chk.p_value == pytest.approx(stats.binomtest(6, 6, 0.5, alternative="greater").pvalue)
    assert "broken" in chk.plain()
    unsure = blinding_check(design, alloc, [(1, "unsure"), (2, "unsure")])
    assert unsure.p_value is None and unsure.share_correct is None
    with pytest.raises(ValidationError, match="period"):
        blinding_check(design, alloc, [(99, "ldn")])


def test_plain_words_and_decisions() -> None:
    design, alloc, pain = _trial(-2.0, 5)
    res = fit(series_from_diary(design, alloc, pain))
    text = plain_words(res)
    assert text.startswith(f"LDN lowered your pain by about {-res.effect_mean:.1f} points")
    assert f"likely between {-res.ci95[1]:.1f} and {-res.ci95[0]:.1f}" in text
    assert f"{100 * res.p_goal:.0f}%" in text
    rep = build_report(design, alloc, res, pain)
    assert rep.decision == "continue"
    assert set(rep.sources) <= set(default_evidence().references)
    assert set(DECISION_SOURCES) <= set(default_evidence().references)
    assert [r.arm for r in rep.periods].count("placebo") == 3
    se = {
        design.date_of(design.periods[0].start_day + 1): [
            {"code": "insomnia", "severity": "severe"}
        ]
    }
    stopped = build_report(design, alloc, res, pain, se)
    assert (stopped.decision == "stop") == alloc.is_ldn(design.periods[0])
    design0, alloc0, pain0 = _trial(0.6, 6)
    worse = build_report(design0, alloc0, fit(series_from_diary(design0, alloc0, pain0)), pain0)
    assert worse.decision == "stop"
    assert "raised your pain" in worse.headline


def test_pooling_shrinks_towards_the_mean() -> None:
    results = []
    for k, eff in enumerate([-1.5, -1.0, -0.2, 0.1, -2.0]):
        d, a, p = _trial(eff, 40 + k)
        results.append((f"trial {k + 1}", fit(series_from_diary(d, a, p))))
    pooled = pool_trials(results)
    assert pooled.meta.k == 5
    lo, hi = pooled.conf_int()
    assert lo < pooled.mean < hi
    for ind in pooled.individuals:
        assert abs(ind.shrunken - pooled.mean) <= abs(ind.own - pooled.mean) + 1e-12
        assert ind.shrunken_sd <= ind.own_sd + 1e-12
    assert 0 <= pooled.share_responders <= pooled.share_benefiting <= 1
    assert "trial 1" in pooled.summary()
    with pytest.raises(ValidationError, match="trials"):
        pool_trials(results[:1])
