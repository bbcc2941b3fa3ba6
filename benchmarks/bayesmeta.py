"""Benchmark: Bayesian random-effects meta-analysis, exact integration vs a NUTS sampler.

For three data sets (eight schools with bayesmeta's vignette priors, Crins et al. 2014 with
half-normal(0.5) / normal(0, 4), and the five LDN trials with half-normal(0.5) / flat mu):
  * `ldnkit.research.bayesmeta.bayes_meta` plus the posterior summary a reader wants (median,
    mean, SD and 95% central interval of mu and tau, P(mu < 0)): the product;
  * NumPyro's NUTS on the same two-parameter model (y_i ~ N(mu, sigma_i^2 + tau^2)), one chain
    on CPU: the baseline. Timed twice: the first run includes JAX compilation, the second is
    the compiled sampler alone (the fairer, smaller ratio is the one reported).
Prints the time of each, their ratio, and the largest difference between the sampler's and
the exact posterior quantiles in units of the sampler's own Monte Carlo SE (so "equal
posteriors" is checked, not assumed).

Run: PYTHONPATH=src python benchmarks/bayesmeta.py [--draws 20000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time

import numpy as np

from ldnkit.research.bayesmeta import BayesMetaResult, MuPrior, TauPrior, bayes_meta

SCHOOLS = (
    [28.39, 7.94, -2.75, 6.82, -0.64, 0.63, 18.01, 12.16],
    [14.9, 10.2, 16.3, 11.0, 9.4, 11.4, 10.4, 17.6],
    TauPrior("halfcauchy", 25),
    MuPrior(0, 50),
)
CRINS = (
    [-2.3097, -0.4595, -2.3026, -1.7579, -1.2585, -2.4179],
    list(np.sqrt([0.3594, 0.3096, 0.7750, 0.2078, 0.4122, 2.3373])),
    TauPrior("halfnormal", 0.5),
    MuPrior(0, 4),
)
QUANTILES = (0.025, 0.25, 0.5, 0.75, 0.975)


def _ldn() -> tuple:
    from ldnkit.research.published import ldn_effects

    _, effects = ldn_effects()
    return (
        [e.yi for e in effects],
        [math.sqrt(e.vi) for e in effects],
        TauPrior("halfnormal", 0.5),
        MuPrior(),
    )


def exact(y, s, tp, mp) -> tuple[BayesMetaResult, dict[str, float]]:
    """The fit and the numbers a results table prints: what the sampler is compared on."""
    r = bayes_meta(y, s, tau_prior=tp, mu_prior=mp)
    out = {}
    for p in ("mu", "tau"):
        for q in QUANTILES:
            out[f"{p} q{q}"] = r.quantile(p, q)
    out["mu mean"] = r._mu.mean
    out["P(mu<0)"] = r.prob_below(0.0)
    return r, out


def nuts(y, s, tp, mp, draws: int, seed: int):
    import jax
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist
    from numpyro.diagnostics import effective_sample_size
    from numpyro.distributions import constraints
    from numpyro.infer import MCMC, NUTS

    def model(y, s):
        if mp.sd is None:
            mu = numpyro.sample("mu", dist.ImproperUniform(constraints.real, (), ()))
        else:
            mu = numpyro.sample("mu", dist.Normal(mp.mean, mp.sd))
        if tp.kind == "halfnormal":
            tau = numpyro.sample("tau", dist.HalfNormal(tp.scale))
        elif tp.kind == "halfcauchy":
            tau = numpyro.sample("tau", dist.HalfCauchy(tp.scale))
        else:
            raise ValueError(tp.kind)
        numpyro.sample("y", dist.Normal(mu, jnp.sqrt(s**2 + tau**2)), obs=y)

    mcmc = MCMC(NUTS(model), num_warmup=2000, num_samples=draws, progress_bar=False)
    args = (jnp.asarray(y, dtype=jnp.float32), jnp.asarray(s, dtype=jnp.float32))
    t0 = time.perf_counter()
    mcmc.run(jax.random.PRNGKey(seed), *args)
    mcmc.get_samples()["mu"].block_until_ready()
    t_first = time.perf_counter() - t0
    t0 = time.perf_counter()
    mcmc.run(jax.random.PRNGKey(seed + 1), *args)
    samples = {k: np.asarray(v, dtype=float) for k, v in mcmc.get_samples().items()}
    t_second = time.perf_counter() - t0
    ess = {k: float(effective_sample_size(v[None, :])) for k, v in samples.items()}
    return samples, ess, t_first, t_second


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load average {load}; "
        f"python {platform.python_version()}; NUTS: 1 chain, 2000 warm-up + {args.draws} draws"
    )
    ratios = []
    for name, data in (("eight schools", SCHOOLS), ("Crins 2014", CRINS), ("LDN trials", _ldn())):
        y, s, tp, mp = data
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            res, ex = exact(y, s, tp, mp)
            times.append(time.perf_counter() - t0)
        t_exact = float(np.median(times))
        draws, ess, t_first, t_second = nuts(y, s, tp, mp, args.draws, args.seed)
        worst, worst_key = 0.0, ""
        rows = []
        for key, val in ex.items():
            p, what = key.split(" ") if " " in key else (key, "")
            if key == "P(mu<0)":
                mc = float(np.mean(draws["mu"] < 0))
                se = math.sqrt(val * (1 - val) / ess["mu"])
            elif what == "mean":
                mc = float(draws[p].mean())
                se = res._mu.sd / math.sqrt(ess[p])
            else:
                q = float(what[1:])
                mc = float(np.quantile(draws[p], q))
                se = math.sqrt(q * (1 - q) / ess[p]) / res.pdf(p, val)
            z = abs(mc - val) / se
            rows.append((key, val, mc, mc - val, z))
            if z > worst:
                worst, worst_key = z, key
        ratio_warm = t_second / t_exact
        ratios.append(ratio_warm)
        print(f"\n{name} (k = {len(y)}; tau ~ {tp.describe()}, mu ~ {mp.describe()})")
        print(f"{'quantity':<14}{'exact':>12}{'NUTS':>12}{'NUTS-exact':>12}{'|diff|/MCSE':>13}")
        for key, val, mc, diff, z in rows:
            print(f"{key:<14}{val:>12.5f}{mc:>12.5f}{diff:>12.5f}{z:>13.2f}")
        print(
            f"exact integration {t_exact * 1e3:.2f} ms (median of {args.repeat}); NUTS "
            f"{t_second:.2f} s compiled ({t_first:.2f} s with compilation); ESS mu "
            f"{ess['mu']:.0f}, tau {ess['tau']:.0f}"
        )
        print(
            f"ratio (NUTS compiled / exact): {ratio_warm:.0f}x; with compilation "
            f"{t_first / t_exact:.0f}x; largest |diff| {worst:.2f} MCSE ({worst_key})"
        )
    print(f"\nsmallest ratio over the three data sets: {min(ratios):.0f}x")


if __name__ == "__main__":
    main()
