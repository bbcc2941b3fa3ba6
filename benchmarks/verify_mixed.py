"""Verification table: ldnkit's mixed-model contrast against independent computations.

Rows (reference | ldnkit | difference for estimate, SE, df, p):
  1. balanced AB/BA crossover, 12 patients: scipy.stats.ttest_ind on period differences;
  2. fixed-order baseline/placebo/LDN, 9 patients: statsmodels OLS with patient effects;
  3. crossover with 3 patients missing period 2: Satterthwaite recomputed here from a
     dense REML log-likelihood by central differences (no code shared with ldnkit);
  4. the same for a boundary fit (REML sigma_b^2 = 0): lmerTest's rule, df = n - p - 1.
Optional: `--sleepstudy FILE` (lme4's sleepstudy as CSV: Reaction;Days;Subject with
decimal commas, or comma-separated) compares Reaction ~ Days + (1|Subject) with the
published lme4/lmerTest output (Days 10.4673, SE 0.8042, df 161).

Run: PYTHONPATH=src python benchmarks/verify_mixed.py [--sleepstudy sleepstudy.csv]
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from scipy import stats

from ldnkit.research.mixed import random_intercept_contrast


def _crossover(n1: int, n2: int, between: float, seed: int):
    rng = np.random.default_rng(seed)
    y, g, x = [], [], []
    for i in range(n1 + n2):
        seq = int(i >= n1)
        u = rng.normal(0, between)
        for period in (1, 2):
            ldn = float((period == 2) if seq == 0 else (period == 1))
            y.append(5 + u + 0.3 * (period == 2) + 0.4 * ldn + rng.normal(0, 0.8))
            g.append(i)
            x.append([ldn, float(period == 2)])
    return np.array(y), np.array(g), np.array(x)


def _dense(y, g, x, c, s2b, s2e, fix_between=False, h=1e-5):
    n_g = int(g.max()) + 1
    z = (g[:, None] == np.arange(n_g)[None]).astype(float)
    full = np.column_stack([np.ones(y.size), x])
    cf = np.concatenate([[0.0], c])

    def parts(th):
        v = th[1] * np.eye(y.size) + th[0] * z @ z.T
        vi = np.linalg.inv(v)
        m = full.T @ vi @ full
        cm = np.linalg.inv(m)
        b = cm @ full.T @ vi @ y
        r = y - full @ b
        ll = -0.5 * (np.linalg.slogdet(v)[1] + np.linalg.slogdet(m)[1] + r @ vi @ r)
        return ll, float(cf @ cm @ cf), float(cf @ b)

    th = np.array([s2b, s2e])
    idx = [1] if fix_between else [0, 1]
    e = np.eye(2) * h
    hess = np.array(
        [
            [
                (
                    parts(th + e[i] + e[j])[0]
                    - parts(th + e[i] - e[j])[0]
                    - parts(th - e[i] + e[j])[0]
                    + parts(th - e[i] - e[j])[0]
                )
                / (4 * h * h)
                for j in idx
            ]
            for i in idx
        ]
    )
    grad = np.array([(parts(th + e[i])[1] - parts(th - e[i])[1]) / (2 * h) for i in idx])
    _, var, est = parts(th)
    df = 2 * var**2 / (grad @ np.linalg.inv(-hess) @ grad)
    se = math.sqrt(var)
    return est, se, df, 2 * stats.t.sf(abs(est / se), df)


def _row(name: str, ref: tuple[float, ...], fit) -> None:
    c = fit.contrast
    got = (c.estimate, c.se, c.df, c.p_value)
    print(f"| {name} | reference | {' | '.join(f'{v:.6g}' for v in ref)} |")
    print(f"| | ldnkit ({c.method}) | {' | '.join(f'{v:.6g}' for v in got)} |")
    diff = [abs(a - b) for a, b in zip(ref, got, strict=True)]
    print(f"| | difference | {' | '.join(f'{d:.1e}' for d in diff)} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sleepstudy", default=None)
    args = ap.parse_args()
    print("| case | source | estimate | SE | df | p |")
    print("| --- | --- | --- | --- | --- | --- |")

    y, g, x = _crossover(6, 6, 1.0, seed=1)
    d = y[1::2] - y[0::2]
    t = stats.ttest_ind(d[:6], d[6:])
    est = (d[:6].mean() - d[6:].mean()) / 2
    _row(
        "1. AB/BA crossover, n = 12 (scipy ttest_ind on period differences)",
        (est, abs(est / t.statistic), 10.0, t.pvalue),
        random_intercept_contrast(y, g, x, [1.0, 0.0]),
    )

    rng = np.random.default_rng(4)
    rows = []
    for i in range(9):
        u = rng.normal(0, 1.5)
        for ph in ("baseline", "placebo", "ldn"):
            mean = 6 + u - 0.8 * (ph != "baseline") - 0.4 * (ph == "ldn")
            rows.append(
                {
                    "patient": f"p{i}",
                    "placebo": float(ph == "placebo"),
                    "ldn": float(ph == "ldn"),
                    "y": mean + rng.normal(0, 0.6),
                }
            )
    df = pd.DataFrame(rows)
    ols = smf.ols("y ~ C(patient) + placebo + ldn", df).fit()
    tt = ols.t_test("ldn - placebo = 0")
    _row(
        "2. fixed order, n = 9 (statsmodels OLS + patient effects)",
        (float(tt.effect[0]), float(tt.sd[0, 0]), float(ols.df_resid), float(tt.pvalue)),
        random_intercept_contrast(df["y"], df["patient"], df[["placebo", "ldn"]], [-1.0, 1.0]),
    )

    y, g, x = _crossover(6, 6, 1.2, seed=2)
    keep = ~((g < 3) & (x[:, 1] == 1.0))
    fit = random_intercept_contrast(y[keep], g[keep], x[keep], [1.0, 0.0])
    _row(
        "3. crossover, 3 of 12 miss period 2 (Satterthwaite by numerical differentiation)",
        _dense(
            y[keep], g[keep], x[keep], np.array([1.0, 0.0]), fit.sigma2_between, fit.sigma2_within
        ),
        fit,
    )

    y, g, x = _crossover(6, 6, 0.0, seed=8)
    keep = ~((g < 3) & (x[:, 1] == 1.0))
    fit = random_intercept_contrast(y[keep], g[keep], x[keep], [1.0, 0.0])
    if fit.boundary:
        ref = _dense(
            y[keep],
            g[keep],
            x[keep],
            np.array([1.0, 0.0]),
            0.0,
            fit.sigma2_within,
            fix_between=True,
        )
        _row("4. as 3, REML boundary sigma_b^2 = 0 (numerical, sigma_b^2 fixed)", ref, fit)

    if args.sleepstudy:
        with open(args.sleepstudy, encoding="utf-8") as fh:
            header = fh.readline()
        sep = ";" if ";" in header else ","
        s = pd.read_csv(args.sleepstudy, sep=sep, decimal="," if sep == ";" else ".")
        fit = random_intercept_contrast(s["Reaction"], s["Subject"], s[["Days"]], [1.0])
        c = fit.contrast
        print(
            "| 5. lme4 sleepstudy, Reaction ~ Days + (1 / Subject) | lme4/lmerTest | 10.4673 | "
            "0.8042 | 161 | < 2e-16 |"
        )
        print(
            f"| | ldnkit ({c.method}) | {c.estimate:.4f} | {c.se:.4f} | {c.df:g} | {c.p_value:.1e} |"
        )
        print(
            f"| | variance components | Subject {fit.sigma2_between:.1f} (lme4 1378.2) | "
            f"Residual {fit.sigma2_within:.1f} (lme4 960.5) | | |"
        )


if __name__ == "__main__":
    main()
