"""Benchmark: type I error of the test `trial analyze` reports, in simulated null crossovers.

For n = 10, 24 and 60 patients, simulates null AB/BA crossover trials (LDN effect 0, default
assumptions) and analyses every trial with `ldnkit.research.mixed.random_intercept_contrast`,
the function `analyze_trial` calls for its primary mixed model. Prints the rejection rate at
alpha 0.05 with its Monte Carlo SE for
  * the reported test (t, exact within-patient df on complete data);
  * the former Wald z test with the same estimate and SE (the baseline this replaces);
and, with weekly dropout (so some patients lack their second period), the Satterthwaite
route (statsmodels MixedLM REML per trial, then analytic Satterthwaite df).

Run: PYTHONPATH=src python benchmarks/type1_error.py [--trials 2000] [--dropout-trials 2000]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
from scipy import stats

from ldnkit.errors import ValidationError
from ldnkit.research.designs import two_period_crossover
from ldnkit.research.mixed import random_intercept_contrast
from ldnkit.research.power import protocol_design_matrix
from ldnkit.research.simulation import Assumptions, simulate


def _rates(
    n: int, trials: int, a: Assumptions, seed: int
) -> tuple[float, float, float, float, int]:
    design = two_period_crossover()
    sim = simulate(design, a, n_patients=n, n_trials=trials, seed=seed)
    names, x, c, _ = protocol_design_matrix(design, sim.sequence)
    means = sim.window_means(phases=names)
    y = np.stack([means[nm] for nm in names], axis=2)
    groups = np.repeat(np.arange(n), len(names))
    xl = x.reshape(-1, x.shape[2])
    t_rej = z_rej = 0
    df_sum = 0.0
    skipped = 0
    t0 = time.perf_counter()
    for r in range(trials):
        yr = y[r].ravel()
        ok = np.isfinite(yr)
        try:
            con = random_intercept_contrast(yr[ok], groups[ok], xl[ok], c).contrast
        except ValidationError:  # e.g. every completer in one sequence: not analysable
            skipped += 1
            continue
        t_rej += con.p_value < 0.05
        z_rej += 2 * stats.norm.sf(abs(con.statistic)) < 0.05
        df_sum += con.df
    used = trials - skipped
    return t_rej / used, z_rej / used, df_sum / used, time.perf_counter() - t0, used


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=2000)
    ap.add_argument("--dropout-trials", type=int, default=2000)
    args = ap.parse_args()
    print("null AB/BA crossover, alpha 0.05; MC SE = sqrt(0.05 x 0.95 / trials)")
    print("* trials analysed (a trial whose completers are all in one sequence is skipped)")
    scenarios = [("complete diaries", Assumptions(ldn_effect=0.0), args.trials)]
    if args.dropout_trials:
        scenarios.append(
            (
                "dropout 2%/week (Satterthwaite)",
                Assumptions(ldn_effect=0.0, dropout_per_week=0.02),
                args.dropout_trials,
            )
        )
    print(
        f"{'scenario':<32} {'n':>4} {'trials*':>7} {'reported t':>11} {'z (old)':>8} "
        f"{'MC SE':>7} {'mean df':>8} {'time s':>7}"
    )
    for label, a, trials in scenarios:
        for n in (10, 24, 60):
            t_rate, z_rate, mdf, secs, used = _rates(n, trials, a, seed=1000 + n)
            mc = math.sqrt(0.05 * 0.95 / used)
            print(
                f"{label:<32} {n:>4} {used:>7} {t_rate:>11.4f} {z_rate:>8.4f} {mc:>7.4f} "
                f"{mdf:>8.2f} {secs:>7.1f}"
            )


if __name__ == "__main__":
    main()
