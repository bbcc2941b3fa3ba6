"""Property checks of the meta-analysis on random inputs (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ldnkit.research.meta import meta_analysis

studies = st.lists(
    st.tuples(st.floats(-3, 3, allow_nan=False), st.floats(0.001, 2.0, allow_nan=False)),
    min_size=3,
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(studies, st.sampled_from(["DL", "REML", "PM"]), st.randoms(use_true_random=False))
def test_invariants(data, method, rnd) -> None:
    y = np.array([d[0] for d in data])
    v = np.array([d[1] for d in data])
    res = meta_analysis(y, v, method=method)
    assert res.tau2 >= 0
    assert res.tau2_ci[0] <= res.tau2_ci[1]
    assert 0 <= res.I2 < 100
    assert y.min() - 1e-9 <= res.estimate <= y.max() + 1e-9
    lo, hi = res.conf_int()
    assert lo <= res.estimate <= hi
    order = list(range(len(y)))
    rnd.shuffle(order)
    again = meta_analysis(y[order], v[order], method=method)
    assert again.estimate == pytest.approx(res.estimate, abs=1e-9)
    assert again.tau2 == pytest.approx(res.tau2, abs=1e-9)
    shifted = meta_analysis(y + 1.5, v, method=method)
    assert shifted.estimate == pytest.approx(res.estimate + 1.5, abs=1e-8)
