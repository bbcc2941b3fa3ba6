"""Meta-analysis refuses what it cannot do (typed error naming the parameter; CLI one line,
exit 2) and handles what it should the way metafor and the literature do."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from ldnkit.cli import main
from ldnkit.errors import ValidationError
from ldnkit.research import effect_sizes as es
from ldnkit.research.meta import effects_from_table, meta_analysis, study_effects


def test_hartung_knapp_with_identical_estimates_uses_the_adhoc_correction() -> None:
    """Was ZeroDivisionError (q = 0). Roever, Knapp & Friede 2015: SE from max(1, q)."""
    v = np.array([0.01, 0.02, 0.03])
    res = meta_analysis([0.2] * 3, v, hartung_knapp=True)
    w = 1 / v  # tau^2 = 0 here
    assert res.tau2 == 0
    assert res.se == pytest.approx(math.sqrt(1 / w.sum()))
    assert res.df == 2 and res.hk_adhoc
    crit = stats.t.ppf(0.975, 2)
    assert res.conf_int() == pytest.approx((0.2 - crit * res.se, 0.2 + crit * res.se))
    assert math.isfinite(res.pvalue) and "max(1, q)" in res.summary()
    with pytest.raises(ValidationError, match="hartung_knapp"):
        meta_analysis([0.2] * 3, v, hartung_knapp=True, hk_adhoc=False)


def test_adhoc_never_narrower_than_normal_theory_and_plain_hk_matches_knha() -> None:
    y, v = [-0.2282, -0.447, -0.1283, -0.0256], [0.0407, 0.0355, 0.0174, 0.0435]
    fe_like = meta_analysis(y, v, method="REML")
    plain = meta_analysis(y, v, method="REML", hartung_knapp=True, hk_adhoc=False)
    adhoc = meta_analysis(y, v, method="REML", hartung_knapp=True)
    assert plain.se < fe_like.se  # q < 1: plain HK is narrower than normal theory
    assert adhoc.se == pytest.approx(fe_like.se)
    lo_a, hi_a = adhoc.conf_int()
    lo_n, hi_n = fe_like.conf_int()
    assert hi_a - lo_a > hi_n - lo_n
    # plain Hartung-Knapp is metafor's test="knha": SE^2 = q / sum(w)
    w = 1 / (np.asarray(v) + plain.tau2)
    q = np.sum(w * (np.asarray(y) - plain.estimate) ** 2) / 3
    assert plain.se == pytest.approx(math.sqrt(q / w.sum()), rel=1e-12)
    assert [r.estimate for r in adhoc.leave_one_out()] == pytest.approx(
        [r.estimate for r in plain.leave_one_out()]
    )


def test_tiny_variance_is_refused_not_nan() -> None:
    with pytest.raises(ValidationError, match="vi"):
        meta_analysis([0.1, 0.2, 0.3], [1e-300, 0.01, 0.02])
    with pytest.raises(ValidationError, match=r"vi.*study 1"):
        meta_analysis([0.1, 0.2, 0.3], [1e-14, 0.01, 0.02])


@settings(max_examples=40, deadline=None)
@given(
    exps=st.lists(st.floats(-11, 0), min_size=2, max_size=6),
    ys=st.lists(st.floats(-5, 5), min_size=6, max_size=6),
    hk=st.booleans(),
    method=st.sampled_from(["FE", "DL", "REML", "PM"]),
)
def test_accepted_variances_give_finite_results(exps, ys, hk, method) -> None:
    v = [10.0**e for e in exps]
    res = meta_analysis(ys[: len(v)], v, method=method, hartung_knapp=hk)
    values = [res.estimate, res.se, res.tau2, res.pvalue, *res.conf_int()]
    assert all(math.isfinite(x) for x in values)


@pytest.mark.parametrize(
    ("yi", "vi", "field"),
    [
        (["a", 0.2], [0.1, 0.2], "yi"),
        ([0.1, 0.2], [0.1, "x"], "vi"),
        ([0.1, None], [0.1, 0.2], "yi"),
        ([0.1, 0.2], [-0.1, 0.2], "vi"),
        ([0.1, math.inf], [0.1, 0.2], "yi"),
        ([0.1, 1e200], [0.1, 0.2], "yi"),
    ],
)
def test_bad_yi_vi_name_the_parameter(yi, vi, field) -> None:
    with pytest.raises(ValidationError) as info:
        meta_analysis(yi, vi)
    assert info.value.field == field


def test_other_meta_arguments_are_checked() -> None:
    with pytest.raises(ValidationError, match="method"):
        meta_analysis([0.1, 0.2], [0.1, 0.1], method=3)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="level"):
        meta_analysis([0.1, 0.2], [0.1, 0.1], level=math.nan)
    with pytest.raises(ValidationError, match="hartung_knapp"):
        meta_analysis([0.1, 0.2], [0.1, 0.1], hartung_knapp="yes")  # type: ignore[arg-type]


def test_counts_zero_cells_double_zero_and_empty_arms() -> None:
    # one zero cell: 0.5 added to all four cells (metafor escalc add=1/2, to="only0")
    e = es.log_odds_ratio(0, 10, 3, 7)
    assert e.yi == pytest.approx(math.log(0.5 * 7.5 / (10.5 * 3.5)))
    assert e.vi == pytest.approx(1 / 0.5 + 1 / 10.5 + 1 / 3.5 + 1 / 7.5)
    with pytest.raises(ValidationError, match="add"):
        es.log_odds_ratio(0, 10, 3, 7, add=0)  # was "math domain error"
    with pytest.raises(ValidationError) as info:
        es.log_risk_ratio(0, 0, 0, 0)  # was pooled with a weight
    assert info.value.field == "a"
    with pytest.raises(ValidationError, match="group 2 has no patients"):
        es.log_risk_ratio(2, 3, 0, 0)
    with pytest.raises(ValidationError, match="double-zero"):
        es.log_odds_ratio(0, 10, 0, 12)
    with pytest.raises(ValidationError, match="b"):
        es.log_odds_ratio(1, -2, 3, 4)
    with pytest.raises(ValidationError, match="c"):
        es.log_odds_ratio(1, 2, "x", 4)  # type: ignore[arg-type]


def test_table_with_double_zero_study_leaves_it_out_with_a_note() -> None:
    frame = pd.DataFrame(
        {
            "study": ["s1", "s2", "s3"],
            "a": [0, 2, 0],
            "b": [10, 8, 10],
            "c": [0, 4, 3],
            "d": [10, 6, 7],
        }
    )
    eff = study_effects(frame)
    assert eff.labels == ["s2", "s3"] and len(eff.yi) == 2
    assert eff.excluded and "s1" in eff.excluded[0] and "double-zero" in eff.excluded[0]
    assert effects_from_table(frame)[0] == ["s2", "s3"]


def test_table_arm_without_patients_is_an_error() -> None:
    frame = pd.DataFrame({"a": [0, 2], "b": [0, 8], "c": [1, 4], "d": [1, 6]})
    with pytest.raises(ValidationError, match="no patients"):
        study_effects(frame)


def test_unknown_measure_and_negative_se_are_refused() -> None:
    counts = pd.DataFrame({"a": [3, 2], "b": [7, 8], "c": [5, 4], "d": [5, 6], "measure": "RRR"})
    with pytest.raises(ValidationError) as info:
        study_effects(counts)  # was log OR labelled "log RRR"
    assert info.value.field == "measure"
    means = pd.DataFrame(
        {"m1": [1, 2], "sd1": [1, 1], "n1": [9, 9], "m2": [0, 0], "sd2": [1, 1], "n2": [9, 9]}
    ).assign(measure="OR")
    with pytest.raises(ValidationError, match="measure"):
        study_effects(means)
    se = pd.DataFrame({"yi": [0.2, 0.3], "se": [-0.1, 0.1]})
    with pytest.raises(ValidationError) as info:
        study_effects(se)  # was squared and used
    assert info.value.field == "se"
    txt = pd.DataFrame({"yi": ["abc", 0.3], "vi": [0.1, 0.1]})
    with pytest.raises(ValidationError) as info:
        study_effects(txt)
    assert info.value.field == "yi"


def _run(capsys, argv):
    code = main(argv)
    cap = capsys.readouterr()
    return code, cap.out, cap.err


@pytest.mark.parametrize(
    ("csv", "field"),
    [
        ("study,a,b,c,d,measure\ns1,3,7,5,5,RRR\ns2,2,8,4,6,\n", "measure"),
        ("study,yi,se\ns1,0.2,-0.1\ns2,0.3,0.1\n", "se"),
        ("study,yi,vi\ns1,abc,0.1\ns2,0.3,0.1\n", "yi"),
        ("study,yi,vi\ns1,0.1,1e-300\ns2,0.2,0.01\ns3,0.3,0.02\n", "vi"),
        ("study,a,b,c,d\ns1,0,0,0,0\ns2,2,8,4,6\n", "a"),
        ("study,yi,vi\n", "csv"),
    ],
)
def test_cli_meta_errors_are_one_line_exit_2(tmp_path, capsys, csv, field) -> None:
    path = tmp_path / "m.csv"
    path.write_text(csv)
    code, _, err = _run(capsys, ["meta", str(path)])
    assert code == 2
    assert err.startswith(f"error: {field}:") and err.count("\n") == 1
    assert "Traceback" not in err


def test_cli_meta_identical_estimates_with_default_hk(tmp_path, capsys) -> None:
    path = tmp_path / "m.csv"
    path.write_text("study,yi,vi\ns1,0.2,0.01\ns2,0.2,0.02\ns3,0.2,0.03\n")
    code, out, _ = _run(capsys, ["meta", str(path)])
    assert code == 0 and "max(1, q)" in out and "t(2) = 2.7080" in out
    code, _, err = _run(capsys, ["meta", str(path), "--hk-plain"])
    assert code == 2 and err.startswith("error: hartung_knapp:")


def test_cli_meta_bad_inputs_never_traceback(tmp_path, capsys) -> None:
    binary = tmp_path / "b.csv"
    binary.write_bytes(b"\xff\xfe\x00\x01garbage\n\x00")
    for argv in (
        ["meta", str(binary)],
        ["meta", str(tmp_path)],
        ["meta", str(tmp_path / "missing.csv")],
        ["meta", "--ldn", "--forest", str(tmp_path / "f.xyz")],
        ["meta", "--ldn", "--method", "XX"],
    ):
        code, _, err = _run(capsys, argv)
        assert code == 2, argv
        assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err


def test_cli_meta_double_zero_note(tmp_path, capsys) -> None:
    path = tmp_path / "m.csv"
    path.write_text("study,a,b,c,d\ns1,0,10,0,10\ns2,2,8,4,6\ns3,0,10,3,7\n")
    code, out, _ = _run(capsys, ["meta", str(path), "--method", "DL"])
    assert code == 0 and "note: s1: no events in both groups" in out and "k = 2" in out
