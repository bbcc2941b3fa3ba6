"""Benchmark: vectorised closed-form population PK/occupancy against a per-patient solve_ivp loop.

Workload (issue 7): 100,000 virtual patients x 12 weeks of a titration plan (fibromyalgia
protocol shape: 1.5 mg for 2 weeks, 3 mg for 2 weeks, 4.5 mg for 8 weeks, at bedtime) at hourly
resolution (2,016 steps). The baseline is scipy's solve_ivp (DOP853, rtol 1e-10), one patient at
a time with a restart at every dose, on a subsample of the same patients; its time is scaled up
to the full population. Both run in the same process, one after the other, single-threaded.

    PYTHONPATH=src python benchmarks/pk.py [--patients 100000] [--subsample 20] [--dask]

Prints patients/second for each path and their ratio, the largest relative difference between
the two on the subsample, and peak memory (traced numpy/Python allocations and process RSS).
The machine is shared, so the load average is printed with the timings.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
import tracemalloc

import numpy as np

from ldnkit.pharmacology import (
    Regimen,
    binding_parameters,
    occupancy,
    simulate_population,
    solve_reference,
    trajectories,
)
from ldnkit.pharmacology.population import PopulationModel, _reduce


def titration_plan() -> Regimen:
    return Regimen.from_steps(
        [(0, 13, 1.5, 22.0), (14, 27, 3.0, 22.0), (28, 83, 4.5, 22.0)],
        label="12-week titration 1.5 -> 3 -> 4.5 mg at bedtime",
    )


def max_rel_diff(a: np.ndarray, b: np.ndarray) -> float:
    """Largest |a - b| / |b| where |b| is above 1e-9 x its peak (drug-free instants excluded)."""
    mask = np.abs(b) > 1e-9 * np.max(np.abs(b))
    return float(np.max(np.abs(a[mask] - b[mask]) / np.abs(b[mask])))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=100_000)
    ap.add_argument("--subsample", type=int, default=20)
    ap.add_argument("--chunk", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument(
        "--dask", action="store_true", help="also run the chunks on a local Dask cluster"
    )
    args = ap.parse_args()

    reg = titration_plan()
    grid = reg.grid(1.0)
    print(f"workload: {args.patients} patients x {grid.size - 1} hourly steps; {reg.label}")
    print(f"load average before: {os.getloadavg()[0]:.2f} (2-core machine, shared)")

    # Peak memory of one chunk's work, traced on a separate small run (tracing slows numpy
    # down, so the timed run below is untraced; its whole-process peak RSS is reported too).
    tracemalloc.start()
    simulate_population(
        reg, n=min(args.chunk, args.patients), seed=args.seed, chunk_size=args.chunk, keep=0
    )
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    # Vectorised closed form, chunked.
    t0 = time.perf_counter()
    res = simulate_population(reg, n=args.patients, seed=args.seed, chunk_size=args.chunk, keep=0)
    t_vec = time.perf_counter() - t0
    vec_rate = args.patients / t_vec
    print(f"vectorised closed form: {t_vec:.2f} s -> {vec_rate:,.0f} patients/s")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    per_patient = res.metrics.itemsize * res.metrics.shape[1]
    print(
        f"  peak memory: {peak / 2**20:.1f} MiB traced for one chunk of {args.chunk} patients; "
        f"process max RSS after the full run {rss:.0f} MiB; kept per patient {per_patient} bytes"
    )
    print(
        f"  median hours/day >=50% occupancy, last day: {np.median(res.metric('last_day_hours_50')):.0f}"
    )

    # solve_ivp loop on the first patients of chunk 0 (identical parameters).
    model = PopulationModel.from_evidence()
    seed0 = np.random.SeedSequence(args.seed).spawn(-(-args.patients // args.chunk))[0]
    params = model.sample(min(args.chunk, args.patients), np.random.default_rng(seed0))
    sub = params.take(slice(0, args.subsample))
    t0 = time.perf_counter()
    ode = [solve_reference(sub.patient(i), reg, grid) for i in range(args.subsample)]
    t_ode = time.perf_counter() - t0
    ode_rate = args.subsample / t_ode
    print(
        f"solve_ivp loop: {args.subsample} patients in {t_ode:.2f} s -> {ode_rate:.2f} patients/s; "
        f"scaled to {args.patients}: {args.patients / ode_rate / 3600:.1f} h"
    )
    print(f"ratio: {vec_rate / ode_rate:,.0f}x")

    exact = trajectories(sub, reg, grid)
    diffs = []
    for name in ("parent", "metabolite", "effect", "effect_m"):
        a = getattr(exact, name)
        if a is None:
            continue
        b = np.vstack([getattr(o, name) for o in ode])
        diffs.append((max_rel_diff(a, b), name))
    worst = max(diffs)
    print(
        f"largest relative difference (closed form vs solve_ivp, {args.subsample} patients): "
        f"{worst[0]:.2e} ({worst[1]})"
    )
    # The population path's reduced summaries for the same patients, against solve_ivp.
    bnd = binding_parameters()
    chunk = _reduce(sub, bnd, reg, 1.0, args.subsample)
    cmax_ode = np.array([o.parent.max() for o in ode])
    occ_ode = np.vstack([occupancy(o.effect, o.effect_m, bnd) for o in ode])
    print(
        "  population path vs solve_ivp, same patients: Cmax max rel diff "
        f"{np.max(np.abs(chunk.metrics[:, 0] - cmax_ode) / cmax_ode):.1e} (float32 summary), "
        f"occupancy max abs diff {np.max(np.abs(chunk.kept_occupancy - occ_ode)):.1e} (float32)"
    )
    print(f"load average after: {os.getloadavg()[0]:.2f}")

    if args.dask:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            print("dask: not installed (pip install 'ldnkit[dask]'); skipped")
            return
        with LocalCluster(n_workers=2, threads_per_worker=1) as cluster, Client(cluster) as client:
            t0 = time.perf_counter()
            dres = simulate_population(
                reg, n=args.patients, seed=args.seed, chunk_size=args.chunk, keep=0, client=client
            )
            t_dask = time.perf_counter() - t0
        same = np.array_equal(dres.metrics, res.metrics) and np.array_equal(
            dres.hist_50, res.hist_50
        )
        print(
            f"dask (local cluster, 2 workers): {t_dask:.2f} s -> {args.patients / t_dask:,.0f} patients/s; "
            f"identical to local run: {same}"
        )


if __name__ == "__main__":
    main()
