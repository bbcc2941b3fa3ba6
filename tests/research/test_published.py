"""The shipped LDN trials dataset loads through the evidence base and pools reproducibly."""

from __future__ import annotations

import pytest

from ldnkit.evidence import default_evidence
from ldnkit.research.published import ldn_effects, load_trials_meta, pooled_ldn_example


def test_dataset_loads_with_resolved_sources() -> None:
    ev = default_evidence()
    data = load_trials_meta(ev)
    ids = {t.id for t in data.trials}
    assert {"final-2024", "younger-2013", "bested-2023", "beaudette-2023"} <= ids
    for t in data.trials:
        assert all(s in ev.references for s in t.sources)
        assert t.verified


def test_only_randomised_placebo_trials_are_pooled() -> None:
    trials, effects = ldn_effects()
    assert all(t.randomised and t.comparator == "placebo" for t in trials)
    assert "younger-2009" not in {t.id for t in trials}
    assert "srinivasan-2021" not in {t.id for t in trials}
    assert all(e.yi < 0 for e in effects)  # every pooled trial's point estimate favours LDN


def test_final_effect_from_reported_d() -> None:
    data = load_trials_meta()
    final = next(t for t in data.trials if t.id == "final-2024")
    es = final.effect_size()
    # Hedges-corrected d = 0.23 with 49 vs 50 women
    assert es.yi == pytest.approx(-0.2282, abs=1e-4)
    assert es.vi == pytest.approx(1 / 49 + 1 / 50 + es.yi**2 / 198)


def test_pooled_example_is_stable() -> None:
    res = pooled_ldn_example()
    assert res.k == 4 and res.hartung_knapp
    assert round(res.estimate, 4) == -0.1964
    lo, hi = res.conf_int()
    assert lo < 0 < hi  # with Hartung-Knapp, not significant
    assert res.tau2 == 0.0
