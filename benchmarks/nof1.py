"""Benchmark: exact N-of-1 posterior (conjugate NIG given phi, phi on a Gauss-Legendre grid)
against NUTS (NumPyro, CPU) on the same model and the same diaries.

For each simulated patient (a real design: run-in, 3 pairs, model-derived washout, 5% missing
days, AR(1) noise) prints the exact and NUTS posterior means, SDs, 95% interval ends and the
three tail probabilities, the differences with the NUTS Monte Carlo SE, and the time of each
method. NUTS time is a warm run (compiled model reused; the first, compiling run is printed
too), 4 chains x (1000 warm-up + 5000 draws) run one after another; exact time is the median
of repeated fits. The ratio is NUTS warm time / exact time.

Run: .venv/bin/python benchmarks/nof1.py [--patients 3] [--samples 5000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import time
from decimal import Decimal

import numpy as np

from ldnkit.research.nof1 import Nof1Settings, design_trial, fit, series_from_diary
from ldnkit.research.nof1.reference import sample_nuts


def _diary(effect: float, seed: int) -> object:
    design, alloc = design_trial(
        Nof1Settings(dose_mg=Decimal("4.5"), start=dt.date(2026, 1, 5), seed=seed)
    )
    rng = np.random.default_rng(seed)
    e, pain = 0.0, {}
    for day in range(design.total_days):
        e = 0.5 * e + np.sqrt(0.75) * 1.2 * rng.standard_normal()
        info = design.day_info(design.date_of(day))
        on = info.period is not None and alloc.is_ldn(info.period)
        if rng.random() > 0.05:
            pain[design.date_of(day)] = 6.0 + e + effect * on
    return series_from_diary(design, alloc, pain)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=3)
    ap.add_argument("--samples", type=int, default=5000)
    ap.add_argument("--warmup", type=int, default=1000)
    ap.add_argument("--chains", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=200)
    args = ap.parse_args()
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs")
    effects = [-1.2, -0.4, 0.3, -2.0, 0.0]
    ratios, worst_tail, worst_z = [], 0.0, 0.0
    for k in range(args.patients):
        s = _diary(effects[k % len(effects)], seed=100 + k)
        ex = fit(s)
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            fit(s)
            times.append(time.perf_counter() - t0)
        t_exact = float(np.median(times))
        kw = {"warmup": args.warmup, "samples": args.samples, "chains": args.chains}
        t0 = time.perf_counter()
        sample_nuts(s, seed=k, **kw)
        t_cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        nuts = sample_nuts(s, seed=k + 1000, **kw)
        t_warm = time.perf_counter() - t0
        ns = nuts.summary(ex.goal_points, ex.relative)
        ratio = t_warm / t_exact
        ratios.append(ratio)
        print(f"\npatient {k + 1}: {s.day.size} analysed days, true effect {effects[k % 5]:+.1f}")
        print(f"  {'quantity':<12}{'exact':>10}{'NUTS':>10}{'diff':>10}")
        rows = [
            ("mean", ex.effect_mean, ns["effect_mean"]),
            ("sd", ex.effect_sd, ns["effect_sd"]),
            ("ci 2.5%", ex.ci95[0], ns["ci95"][0]),
            ("ci 97.5%", ex.ci95[1], ns["ci95"][1]),
            ("P(benefit)", ex.p_benefit, ns["p_benefit"]),
            ("P(>=1 pt)", ex.p_goal, ns["p_goal"]),
            ("P(>=30%)", ex.p_relative, ns["p_relative"]),
            ("phi mean", ex.phi_mean, ns["phi_mean"]),
        ]
        for name, a, b in rows:
            print(f"  {name:<12}{a:>10.4f}{b:>10.4f}{a - b:>+10.4f}")
        z = abs(ex.effect_mean - ns["effect_mean"]) / ns["mc_se_effect_mean"]
        worst_z = max(worst_z, z)
        worst_tail = max(worst_tail, *(abs(a - b) for n, a, b in rows[4:7]))
        print(
            f"  NUTS MC SE of mean {ns['mc_se_effect_mean']:.4f} (|diff| = {z:.2f} SE), "
            f"ESS {ns['ess_effect']:.0f}, R-hat {ns['r_hat_effect']:.4f}"
        )
        print(
            f"  time: exact {1e3 * t_exact:.2f} ms; NUTS {t_warm:.2f} s warm "
            f"({t_cold:.2f} s with compilation); ratio {ratio:,.0f}x"
        )
    print(
        f"\nsummary: exact is {min(ratios):,.0f}x to {max(ratios):,.0f}x faster than NUTS (warm); "
        f"largest |mean diff| {worst_z:.2f} MC SE; largest tail-probability diff {worst_tail:.4f}"
    )


if __name__ == "__main__":
    main()
