"""The same N-of-1 model sampled by NUTS (NumPyro): the reference the exact posterior is checked
against in tests and benchmarks/nof1.py. Needs the `dev` extra (numpyro, jax); never used by
the app.

The likelihood is written the other way round from `analysis.fit` on purpose: as the AR(1)
conditional densities y_i | y_{i-1} ~ N(mu_i + r_i (y_{i-1} - mu_{i-1}), sigma^2 (1 - r_i^2)),
r_i = phi^gap_i, rather than as a transformed regression, so agreement checks the algebra too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ldnkit.research.nof1.analysis import (
    Nof1Prior,
    Series,
    Terms,
    _design_matrix,
    _prior_arrays,
)

__all__ = ["NutsSummary", "sample_nuts"]


@dataclass(frozen=True)
class NutsSummary:
    """Posterior draws of the effect and the level, with the sampler's diagnostics."""

    effect: NDArray[np.float64]
    level: NDArray[np.float64]
    phi: NDArray[np.float64]
    ess_effect: float
    r_hat_effect: float

    def summary(self, goal_points: float, relative: float) -> dict[str, Any]:
        e, lv = self.effect, self.level
        return {
            "effect_mean": float(e.mean()),
            "effect_sd": float(e.std()),
            "ci95": [float(np.quantile(e, 0.025)), float(np.quantile(e, 0.975))],
            "p_benefit": float(np.mean(e < 0)),
            "p_goal": float(np.mean(e <= -goal_points)),
            "p_relative": float(np.mean(e + relative * lv <= 0)),
            "phi_mean": float(self.phi.mean()),
            "mc_se_effect_mean": float(e.std() / np.sqrt(self.ess_effect)),
            "ess_effect": self.ess_effect,
            "r_hat_effect": self.r_hat_effect,
        }


def sample_nuts(
    series: Series,
    prior: Nof1Prior | None = None,
    terms: Terms = "trend",
    warmup: int = 1000,
    samples: int = 5000,
    chains: int = 4,
    seed: int = 0,
) -> NutsSummary:
    """Draw from the posterior with NUTS (chains run one after another on the CPU)."""
    import jax
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist
    from numpyro.diagnostics import effective_sample_size, split_gelman_rubin
    from numpyro.infer import MCMC, NUTS

    jax.config.update("jax_enable_x64", True)
    pr = prior or Nof1Prior()
    x_np, _ = _design_matrix(series, terms)
    p = x_np.shape[1]
    g0, m0 = _prior_arrays(pr, terms, p)
    x = jnp.asarray(x_np)
    y = jnp.asarray(series.pain)
    gaps = jnp.asarray(np.diff(series.day).astype(float))

    def model() -> None:
        phi = numpyro.sample("phi", dist.Uniform(pr.phi_lo, pr.phi_hi))
        if pr.phi_prior == "arcsine":
            numpyro.factor("phi_prior", -0.5 * jnp.log1p(-phi * phi))
        sigma2 = numpyro.sample("sigma2", dist.InverseGamma(pr.a0, pr.b0))
        beta = numpyro.sample(
            "beta", dist.Normal(jnp.asarray(m0), jnp.sqrt(sigma2 * jnp.asarray(g0))).to_event(1)
        )
        mu = x @ beta
        r = phi**gaps
        loc = mu[1:] + r * (y[:-1] - mu[:-1])
        sd = jnp.sqrt(sigma2 * (1.0 - r * r))
        numpyro.sample("y0", dist.Normal(mu[0], jnp.sqrt(sigma2)), obs=y[0])
        numpyro.sample("y", dist.Normal(loc, sd), obs=y[1:])

    mcmc = MCMC(
        NUTS(model),
        num_warmup=warmup,
        num_samples=samples,
        num_chains=chains,
        chain_method="sequential",
        progress_bar=False,
    )
    mcmc.run(jax.random.PRNGKey(seed))
    by_chain = mcmc.get_samples(group_by_chain=True)
    eff_c = np.asarray(by_chain["beta"][..., 1])
    flat = mcmc.get_samples()
    return NutsSummary(
        effect=np.asarray(flat["beta"][:, 1]),
        level=np.asarray(flat["beta"][:, 0]),
        phi=np.asarray(flat["phi"]),
        ess_effect=float(effective_sample_size(eff_c)),
        r_hat_effect=float(split_gelman_rubin(eff_c)),
    )
