"""Benchmark: power of a two-period LDN crossover, fast path vs per-trial statsmodels MixedLM.

Simulates 10,000 crossover trials once (24 patients, FINAL effect -0.34 NRS, default
assumptions: complete balanced diaries), then analyses them
  * by the closed-form REML fast path (`ldnkit.research.power.protocol_fit`), all trials;
  * by a loop of statsmodels MixedLM fits (REML, random intercept, statsmodels' default
    optimiser) on a subsample: the timing baseline;
  * and, on the first trials of that subsample, MixedLM fitted to full convergence (BFGS,
    gtol 1e-12) to show the fast path's estimate and SE equal MixedLM's to 1e-6.
Prints trials per second for each, the ratio, both power estimates with their Monte Carlo
errors, and the largest per-trial differences in estimate and SE.

Run: PYTHONPATH=src python benchmarks/power.py [--trials 10000] [--subsample 300]
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time

import numpy as np
from scipy import stats

from ldnkit.research.designs import two_period_crossover
from ldnkit.research.power import mixedlm_fit, protocol_fit
from ldnkit.research.simulation import Assumptions, simulate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=10_000)
    ap.add_argument("--subsample", type=int, default=300)
    ap.add_argument("--exact", type=int, default=50, help="trials refitted to full convergence")
    ap.add_argument("--patients", type=int, default=24)
    ap.add_argument("--seed", type=int, default=2024)
    args = ap.parse_args()

    design = two_period_crossover()
    a = Assumptions(ldn_effect=-0.34)
    alpha = 0.05
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load average {load}; "
        f"python {platform.python_version()}"
    )
    print(f"design: {design.title}; {args.patients} patients; effect {a.ldn_effect} NRS")

    t0 = time.perf_counter()
    sim = simulate(design, a, n_patients=args.patients, n_trials=args.trials, seed=args.seed)
    t_sim = time.perf_counter() - t0
    print(
        f"simulate {args.trials} trials x {args.patients} patients x {design.total_days} days: "
        f"{t_sim:.2f} s"
    )

    t0 = time.perf_counter()
    fast = protocol_fit(sim)
    t_fast = time.perf_counter() - t0
    rej_fast = fast.reject(alpha)

    means = sim.window_means()
    k = args.subsample
    est = np.empty(k)
    se = np.empty(k)
    dof = np.empty(k)
    t0 = time.perf_counter()
    for r in range(k):
        est[r], se[r], dof[r] = mixedlm_fit(sim, r, means, tight=False)
    t_loop = time.perf_counter() - t0
    tight = np.array([mixedlm_fit(sim, r, means, tight=True)[:2] for r in range(args.exact)])
    p_loop = 2 * stats.t.sf(np.abs(est / se), dof)
    rej_loop = p_loop < alpha

    fast_rate = args.trials / t_fast
    loop_rate = k / t_loop
    e2e_rate = args.trials / (t_sim + t_fast)
    print()
    print(
        f"fast path (closed-form REML): {args.trials} trials in {t_fast:.3f} s = "
        f"{fast_rate:,.0f} trials/s"
    )
    print(
        f"MixedLM loop (statsmodels):   {k} trials in {t_loop:.2f} s = {loop_rate:,.1f} trials/s "
        f"({1000 * t_loop / k:.1f} ms per fit)"
    )
    print(f"ratio (analysis only):        {fast_rate / loop_rate:,.0f}x")
    print(f"ratio (simulation + analysis vs MixedLM loop): {e2e_rate / loop_rate:,.0f}x")
    print()
    pf = rej_fast.mean()
    pl = rej_loop.mean()
    sf = math.sqrt(pf * (1 - pf) / args.trials)
    sl = math.sqrt(pl * (1 - pl) / k)
    z = (pf - pl) / math.sqrt(sf**2 + sl**2)
    print(f"power, fast path ({args.trials} trials):  {pf:.4f} (MC SE {sf:.4f})")
    print(f"power, MixedLM loop ({k} trials): {pl:.4f} (MC SE {sl:.4f})")
    print(
        f"difference {pf - pl:+.4f}, z = {z:+.2f} -> "
        f"{'agree' if abs(z) < 3 else 'DISAGREE'} within Monte Carlo error (|z| < 3)"
    )
    same = rej_fast[:k] == rej_loop
    print(f"same decision on the {k} shared trials: {same.mean():.4f}")
    print(
        f"max |estimate difference|, default MixedLM fits ({k}):  "
        f"{np.max(np.abs(fast.estimate[:k] - est)):.2e}"
    )
    print(
        f"max |SE difference|, default MixedLM fits ({k}):        "
        f"{np.max(np.abs(fast.se[:k] - se)):.2e}"
    )
    m = args.exact
    print(
        f"max |estimate difference|, converged MixedLM fits ({m}): "
        f"{np.max(np.abs(fast.estimate[:m] - tight[:, 0])):.2e}"
    )
    print(
        f"max |SE difference|, converged MixedLM fits ({m}):       "
        f"{np.max(np.abs(fast.se[:m] - tight[:, 1])):.2e}"
    )


if __name__ == "__main__":
    main()
