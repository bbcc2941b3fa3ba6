"""The shipped LDN trials dataset loads through the evidence base and pools reproducibly."""

from __future__ import annotations

import pytest

from ldnkit.evidence import default_evidence
from ldnkit.research.published import (
    ldn_bayes,
    ldn_effects,
    ldn_tsa,
    load_trials_meta,
    pooled_ldn_example,
)


def test_dataset_loads_with_resolved_sources() -> None:
    ev = default_evidence()
    data = load_trials_meta(ev)
    ids = {t.id for t in data.trials}
    assert {"final-2024", "younger-2013", "bested-2023", "beaudette-2023", "innova"} <= ids
    for t in data.trials:
        assert all(s in ev.references for s in t.sources)
        assert t.verified


def test_only_randomised_placebo_trials_are_pooled() -> None:
    trials, effects = ldn_effects()
    assert all(t.randomised and t.comparator == "placebo" for t in trials)
    assert "younger-2009" not in {t.id for t in trials}
    assert "srinivasan-2021" not in {t.id for t in trials}
    signs = {t.id: e.yi < 0 for t, e in zip(trials, effects, strict=True)}
    # every pooled trial's point estimate favours LDN except INNOVA (placebo improved more)
    assert signs == {
        "final-2024": True,
        "younger-2013": True,
        "bested-2023": True,
        "beaudette-2023": True,
        "innova": False,
    }


def test_final_effect_from_reported_d() -> None:
    data = load_trials_meta()
    final = next(t for t in data.trials if t.id == "final-2024")
    es = final.effect_size()
    # Hedges-corrected d = 0.23 with 49 vs 50 women
    assert es.yi == pytest.approx(-0.2282, abs=1e-4)
    assert es.vi == pytest.approx(1 / 49 + 1 / 50 + es.yi**2 / 198)


def test_pooled_example_is_stable() -> None:
    res = pooled_ldn_example()
    assert res.k == 5 and res.hartung_knapp
    assert round(res.estimate, 4) == -0.1353
    lo, hi = res.conf_int()
    assert lo < 0 < hi  # with Hartung-Knapp, not significant
    assert res.tau2 == pytest.approx(0.0122, abs=1e-4)


def test_innova_effect_from_reported_d() -> None:
    innova = next(t for t in load_trials_meta().trials if t.id == "innova")
    es = innova.effect_size()
    assert es.yi > 0  # placebo improved more than LDN
    assert es.yi == pytest.approx(0.19 * (1 - 3 / (4 * 96 - 1)), abs=1e-5)  # ~Hedges J(96)


def test_ldn_bayes_and_tsa_views() -> None:
    b = ldn_bayes()
    assert b.k == 5
    assert 0.5 < b.prob_below(0.0) < 0.99  # leans towards LDN, far from certain
    assert 0 < b.prob_outside(0.2) < 0.5
    classical = pooled_ldn_example(hartung_knapp=False)
    assert b.mu.median == pytest.approx(classical.estimate, abs=0.05)
    t = ldn_tsa()
    assert [lk.year for lk in t.looks] == [2013, 2023, 2023, 2024, None]
    assert t.looks[-1].participants == 31 + 58 + 23 + 99 + 98
    assert t.conclusion == "inconclusive"
    assert t.info_fraction < 1
