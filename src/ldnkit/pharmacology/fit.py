"""Brain occupancy fitted to all published human PET data at once, by maximum likelihood.

Why this module exists: the two hand-calibrated brain scenarios each matched part of the PET
record (the single-dose peaks of Rabiner 2011 or the 72-108 h blockade after 50 mg of Lee
1988), never all of it. Here every candidate structure is fitted to the same data set
(`evidence/data/occupancy_data.yaml`), compared by AIC, and the winner's uncertainty is carried
through to the question the project cares about: hours per day above 50% occupancy.

Approach (sequential PK-PD): the plasma kinetics stay fixed at the evidence file's typical
values (checked against the label and Meyer 1984 by `pk_checks`); only the brain/receptor
parameters are fitted. Each PET value is one study or cohort mean, taken as independent with an
additive normal error on the occupancy scale whose SD (`sigma`) is estimated with the rest. A
reported half-time of blockade enters as log-normal with the SD stated in the data file.

The plasma system is linear with constant coefficients, so a unit oral dose gives
concentrations that are sums of exponentials (eigen-decomposition of the 4-state rate matrix
of `model.system_matrix`); an effect compartment adds one more exponential, superposition
gives any regimen, and a geometric series gives the periodic steady state exactly. That makes
one likelihood evaluation take about a millisecond, which is what lets profile likelihoods and
thousands of parameter draws run in seconds. The receptor-kinetics candidate is nonlinear and
is stepped exactly over a fine grid instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy import optimize

from ldnkit.errors import NotFound, ValidationError
from ldnkit.evidence import Evidence, default_evidence
from ldnkit.pharmacology.model import CENTRAL, GUT, METABOLITE, system_matrix
from ldnkit.pharmacology.occupancy import potency
from ldnkit.pharmacology.parameters import BindingParameters, FloatArray, PKParameters
from ldnkit.pharmacology.published import (
    PharmacokineticsEvidence,
    binding_parameters,
    pk_evidence,
    plasma_parameters,
)
from ldnkit.table import Table

# --------------------------------------------------------------------------------------------
# The data file, typed


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Bounds(_Model):
    min: float
    max: float


class Observation(_Model):
    """One published figure: an occupancy after a regimen, or a half-time of blockade."""

    id: str
    role: Literal["fit", "held_out"]
    kind: Literal["occupancy", "blockade_half_time"]
    dose_mg: float = Field(gt=0)
    doses: int = Field(default=1, ge=1)
    interval_h: float = Field(default=24.0, gt=0)
    time_after_last_dose_h: float | None = Field(default=None, ge=0)
    value: float | None = None
    range: Bounds | None = None
    sd_log: float | None = Field(default=None, gt=0)
    finding: str | None = None
    sources: list[str]
    note: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> Observation:
        if self.kind == "occupancy" and self.time_after_last_dose_h is None:
            raise ValueError(f"{self.id}: an occupancy needs time_after_last_dose_h")
        if self.kind == "occupancy" and self.value is not None and not 0 <= self.value <= 1:
            raise ValueError(f"{self.id}: occupancy must be a fraction 0-1")
        if self.kind == "blockade_half_time" and (self.value is None or self.sd_log is None):
            raise ValueError(f"{self.id}: a half-time needs value and sd_log")
        if self.kind == "blockade_half_time" and self.doses != 1:
            raise ValueError(f"{self.id}: a half-time of blockade is after a single dose")
        if self.role == "fit" and self.value is None:
            raise ValueError(f"{self.id}: a fitted observation needs a value")
        if self.value is None and self.finding is None and self.range is None:
            raise ValueError(f"{self.id}: give a value, a range or a finding")
        return self


class OccupancyData(_Model):
    """The whole `occupancy_data.yaml`."""

    measurement_error: str
    scan_time_assumption: str
    observations: list[Observation]

    @model_validator(mode="after")
    def _unique(self) -> OccupancyData:
        ids = [o.id for o in self.observations]
        if len(ids) != len(set(ids)):
            raise ValueError("observation ids must be unique")
        return self

    def fitted(self) -> list[Observation]:
        return [o for o in self.observations if o.role == "fit"]

    def held_out(self) -> list[Observation]:
        return [o for o in self.observations if o.role == "held_out"]


def with_held_out_fitted(data: OccupancyData) -> OccupancyData:
    """A sensitivity variant: held-out values (or range midpoints) moved into the fit.

    Qualitative findings stay held out. Never the default: it leaves nothing to check against.
    """
    obs = []
    for o in data.observations:
        if o.role == "held_out" and (o.value is not None or o.range is not None):
            value = o.value if o.value is not None else 0.5 * (o.range.min + o.range.max)  # type: ignore[union-attr]
            o = o.model_copy(update={"role": "fit", "value": value})
        obs.append(o)
    return data.model_copy(update={"observations": obs})


def occupancy_data(evidence: Evidence | None = None) -> OccupancyData:
    """The published PET observations (the bundled evidence base by default)."""
    return (evidence or default_evidence()).section("occupancy_data", OccupancyData)


# --------------------------------------------------------------------------------------------
# Closed-form unit responses


@dataclass(frozen=True)
class Exponentials:
    """f(t) = sum_j coef_j exp(rate_j t) for t >= 0 (0 before): a unit-dose response."""

    coef: FloatArray
    rate: FloatArray

    def __call__(self, t: FloatArray | float) -> FloatArray:
        t = np.asarray(t, dtype=float)
        v = np.exp(np.multiply.outer(np.maximum(t, 0.0), self.rate)) @ self.coef
        return np.where(t >= 0, v, 0.0)

    def regimen(self, t: FloatArray | float, doses: Sequence[tuple[float, float]]) -> FloatArray:
        """Superposition over (time, dose) pairs."""
        t = np.asarray(t, dtype=float)
        return sum((d * self(t - s) for s, d in doses), np.zeros_like(t))

    def steady(self, t: FloatArray, tau: float) -> FloatArray:
        """Periodic steady state of a unit dose every `tau` h, at 0 <= t < tau after a dose."""
        w = self.coef / -np.expm1(self.rate * tau)
        return np.exp(np.multiply.outer(np.asarray(t, float), self.rate)) @ w

    def scaled(self, k: float) -> Exponentials:
        return Exponentials(self.coef * k, self.rate)

    def plus(self, other: Exponentials) -> Exponentials:
        return Exponentials(np.r_[self.coef, other.coef], np.r_[self.rate, other.rate])

    def effect_site(self, ke0: float) -> Exponentials:
        """The response of c_e' = ke0 (f - c_e), c_e(0) = 0: one more exponential."""
        rates = self.rate.copy()
        # A rate equal to -ke0 is a removable singularity; nudge it by a relative 1e-7.
        near = np.abs(rates + ke0) < 1e-9 * ke0
        rates[near] *= 1.0 + 1e-7
        g = self.coef * ke0 / (ke0 + rates)
        return Exponentials(np.r_[g, -g.sum()], np.r_[rates, -ke0])


def plasma_responses(p: PKParameters) -> tuple[Exponentials, Exponentials]:
    """Naltrexone and 6-beta-naltrexol (ng/mL) after 1 mg naltrexone hydrochloride, exactly."""
    if p.n != 1:
        raise ValidationError("params", "unit responses are for one typical patient")
    plain = replace(p, ke0=0.0, ke0m=0.0)
    a = system_matrix(plain)[0]
    lam, vec = np.linalg.eig(a)
    if np.max(np.abs(lam.imag)) > 1e-12:
        raise ValidationError("params", "rate matrix with complex eigenvalues")
    lam, vec = lam.real, vec.real
    x0 = np.zeros(a.shape[0])
    x0[GUT] = float(np.asarray(p.salt_fraction))
    alpha = np.linalg.solve(vec, x0)
    vc, vm = float(np.asarray(p.Vc)), float(np.asarray(p.Vm))
    parent = Exponentials(vec[CENTRAL] * alpha * 1000.0 / vc, lam)
    metab = Exponentials(vec[METABOLITE] * alpha * 1000.0 / vm, lam)
    return parent, metab


# --------------------------------------------------------------------------------------------
# Candidate structures

ParamName = Literal["kp", "ke0", "kp_m_ratio", "koff"]


@dataclass(frozen=True)
class Structure:
    """A candidate model of how brain occupancy follows plasma; free parameters on log scale."""

    name: str
    params: tuple[str, ...]
    description: str
    start: tuple[float, ...]

    @property
    def linear(self) -> bool:
        """True when receptor 'units' u are linear in dose (occupancy u/(1+u))."""
        return "koff" not in self.params


STRUCTURES: dict[str, Structure] = {
    s.name: s
    for s in (
        Structure(
            "equilibrium",
            ("kp",),
            "brain in instant equilibrium with plasma (the old `equilibrium` scenario, refitted)",
            (0.4,),
        ),
        Structure(
            "equilibrium_metabolite",
            ("kp", "kp_m_ratio"),
            "brain in instant equilibrium with plasma; 6-beta-naltrexol brain ratio fitted",
            (0.4, 0.02),
        ),
        Structure(
            "effect_site",
            ("kp", "ke0"),
            "effect compartment (ke0, shared by both compounds); 6-beta-naltrexol ratio fixed",
            (2.5, 0.05),
        ),
        Structure(
            "effect_site_metabolite",
            ("kp", "ke0", "kp_m_ratio"),
            "effect compartment and a fitted 6-beta-naltrexol brain ratio",
            (2.5, 0.05, 0.02),
        ),
        Structure(
            "receptor_kinetics",
            ("kp", "koff"),
            "plasma-driven binding with slow receptor dissociation (koff), no effect delay",
            (1.0, 0.03),
        ),
    )
}


def structure(name: str) -> Structure:
    try:
        return STRUCTURES[name]
    except KeyError:
        raise NotFound("occupancy structure", name, sorted(STRUCTURES)) from None


@dataclass(frozen=True)
class Predictor:
    """Occupancy of any regimen for one structure and parameter set (typical PK fixed)."""

    struct: Structure
    values: dict[str, float]
    parent: Exponentials
    metab: Exponentials
    binding: BindingParameters
    kp_m_ratio: float
    grid_h: float = 0.1

    def _potency(self) -> tuple[float, float]:
        kp = self.values["kp"]
        ratio = self.values.get("kp_m_ratio", self.kp_m_ratio)
        return potency(replace(self.binding, kp=kp, kp_m=kp * ratio))

    @cached_property
    def _units(self) -> Exponentials:
        return self.units()

    def units(self) -> Exponentials:
        """Receptor units u per mg (effect-site for delayed structures, plasma otherwise)."""
        a, am = self._potency()
        if "ke0" in self.values:
            ke0 = self.values["ke0"]
            return (
                self.parent.effect_site(ke0).scaled(a).plus(self.metab.effect_site(ke0).scaled(am))
            )
        return self.parent.scaled(a).plus(self.metab.scaled(am))

    def occupancy(self, t: FloatArray, doses: Sequence[tuple[float, float]]) -> FloatArray:
        """Occupancy (0-1) at times `t` (h) after (time, dose mg) pairs."""
        t = np.asarray(t, dtype=float)
        if self.struct.linear:
            u = np.maximum(self._units.regimen(t, doses), 0.0)
            return u / (1.0 + u)
        end = float(np.max(t))
        grid = np.arange(0.0, end + self.grid_h, self.grid_h)
        theta = self._bind(grid, self._units.regimen(grid, doses))
        return np.interp(t, grid, theta)

    def _bind(self, grid: FloatArray, u: FloatArray) -> FloatArray:
        """d(theta)/dt = koff (u (1 - theta) - theta), exact per step with u held at its mean."""
        koff = self.values["koff"]
        theta = np.zeros_like(grid)
        um = np.maximum(0.5 * (u[1:] + u[:-1]), 0.0)
        inf = um / (1.0 + um)
        decay = np.exp(-koff * (1.0 + um) * np.diff(grid))
        for k in range(1, grid.size):
            theta[k] = inf[k - 1] + (theta[k - 1] - inf[k - 1]) * decay[k - 1]
        return theta

    def steady_day(self, dose_mg: float, tau: float = 24.0, step_h: float = 0.01) -> FloatArray:
        """Occupancy over one dosing interval at steady state, on a `step_h` grid."""
        t = np.arange(0.0, tau, step_h)
        if self.struct.linear:
            u = np.maximum(dose_mg * self._units.steady(t, tau), 0.0)
            return u / (1.0 + u)
        days = 21
        doses = [(tau * k, dose_mg) for k in range(days)]
        return self.occupancy(tau * (days - 1) + t, doses)

    def blockade_half_time(self, dose_mg: float) -> float:
        """Hours from peak occupancy after one dose until it has halved (smooth in parameters)."""
        grid = np.r_[np.arange(0.0, 12.0, 0.05), np.arange(12.0, 500.0, 1.0)]
        occ = self.occupancy(grid, [(0.0, dose_mg)])
        i = int(np.argmax(occ))
        if self.struct.linear:
            lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
            res = optimize.minimize_scalar(
                lambda x: -float(self.occupancy(np.array([x]), [(0.0, dose_mg)])[0]),
                bounds=(lo, hi),
                method="bounded",
                options={"xatol": 1e-6},
            )
            t_peak, peak = float(res.x), -float(res.fun)
        else:
            t_peak, peak = float(grid[i]), float(occ[i])
        below = np.nonzero((grid > t_peak) & (occ < peak / 2.0))[0]
        if not below.size:
            return float("inf")
        k = int(below[0])
        if not self.struct.linear:
            f0, f1 = occ[k - 1] - peak / 2, occ[k] - peak / 2
            return float(grid[k - 1] + f0 / (f0 - f1) * (grid[k] - grid[k - 1]) - t_peak)
        return float(
            optimize.brentq(
                lambda x: float(self.occupancy(np.array([x]), [(0.0, dose_mg)])[0]) - peak / 2,
                max(grid[k - 1], t_peak),
                grid[k],
                xtol=1e-8,
            )
            - t_peak
        )


def regimen_doses(o: Observation) -> list[tuple[float, float]]:
    return [(o.interval_h * k, o.dose_mg) for k in range(o.doses)]


def predict(pred: Predictor, o: Observation) -> float:
    """The model's value for one observation (occupancy 0-1, or half-time in hours)."""
    if o.kind == "blockade_half_time":
        return pred.blockade_half_time(o.dose_mg)
    assert o.time_after_last_dose_h is not None
    t = o.interval_h * (o.doses - 1) + o.time_after_last_dose_h
    return float(pred.occupancy(np.array([t]), regimen_doses(o))[0])


# --------------------------------------------------------------------------------------------
# Likelihood and fit


@dataclass(frozen=True)
class Problem:
    """Fixed kinetics + binding assumptions + the observations to fit."""

    parent: Exponentials
    metab: Exponentials
    binding: BindingParameters
    kp_m_ratio: float
    observations: tuple[Observation, ...]

    @classmethod
    def from_evidence(
        cls,
        observations: Sequence[Observation] | None = None,
        evidence: PharmacokineticsEvidence | None = None,
        scan_h: float | None = None,
    ) -> Problem:
        """The bundled typical kinetics; `scan_h` overrides single-dose scan times (sensitivity)."""
        e = evidence or pk_evidence()
        p = plasma_parameters(e)
        parent, metab = plasma_responses(p)
        obs = list(observations if observations is not None else occupancy_data().fitted())
        if scan_h is not None:
            obs = [
                o.model_copy(update={"time_after_last_dose_h": scan_h})
                if o.kind == "occupancy" and o.doses == 1
                else o
                for o in obs
            ]
        binding = binding_parameters(evidence=e)
        return cls(parent, metab, binding, e.binding.kp_m_ratio.value, tuple(obs))

    def predictor(self, struct: Structure, values: dict[str, float]) -> Predictor:
        return Predictor(struct, values, self.parent, self.metab, self.binding, self.kp_m_ratio)

    def predictions(self, struct: Structure, values: dict[str, float]) -> FloatArray:
        pr = self.predictor(struct, values)
        return np.array([predict(pr, o) for o in self.observations])

    def nll(self, struct: Structure, log_theta: FloatArray) -> float:
        """Negative log-likelihood; the last element of `log_theta` is log sigma."""
        values = dict(zip(struct.params, np.exp(log_theta[:-1]), strict=True))
        sigma = float(np.exp(log_theta[-1]))
        pred = self.predictions(struct, values)
        total = 0.0
        for o, m in zip(self.observations, pred, strict=True):
            assert o.value is not None
            if o.kind == "occupancy":
                total += _neg_log_normal(o.value, float(m), sigma)
            else:
                assert o.sd_log is not None
                if not np.isfinite(m) or m <= 0:
                    return 1e10
                total += _neg_log_normal(np.log(o.value), float(np.log(m)), o.sd_log)
        return float(total) if np.isfinite(total) else 1e10


def _neg_log_normal(x: float, mean: float, sd: float) -> float:
    """-log N(x | mean, sd); written out because scipy.stats costs ~40 us a call here."""
    z = (x - mean) / sd
    return float(0.5 * z * z + np.log(sd) + 0.5 * np.log(2.0 * np.pi))


@dataclass(frozen=True)
class Estimate:
    name: str
    value: float
    se_log: float
    wald: tuple[float, float]
    profile: tuple[float, float] | None = None


@dataclass(frozen=True)
class StructureFit:
    """Maximum-likelihood fit of one structure: estimates, covariance, AIC, residuals."""

    struct: Structure
    log_theta: FloatArray
    nll: float
    cov_log: FloatArray
    estimates: tuple[Estimate, ...]
    n_obs: int
    problem: Problem = field(repr=False)

    @property
    def k(self) -> int:
        return self.log_theta.size

    @property
    def aic(self) -> float:
        return 2.0 * self.nll + 2.0 * self.k

    @property
    def aicc(self) -> float:
        n, k = self.n_obs, self.k
        return self.aic + (2.0 * k * (k + 1) / (n - k - 1) if n - k - 1 > 0 else float("inf"))

    @property
    def values(self) -> dict[str, float]:
        return dict(zip(self.struct.params, np.exp(self.log_theta[:-1]), strict=True))

    @property
    def sigma(self) -> float:
        return float(np.exp(self.log_theta[-1]))

    def predictor(self, values: dict[str, float] | None = None) -> Predictor:
        return self.problem.predictor(self.struct, values or self.values)

    def residuals(self) -> list[tuple[Observation, float, float]]:
        """(observation, predicted, residual) for every fitted observation."""
        pred = self.problem.predictions(self.struct, self.values)
        out = []
        for o, m in zip(self.problem.observations, pred, strict=True):
            assert o.value is not None
            out.append((o, float(m), float(o.value - m)))
        return out

    def draws(self, n: int, seed: int) -> list[dict[str, float]]:
        """Parameter sets drawn from the fitted (log-scale, Hessian-based) covariance."""
        rng = np.random.default_rng(seed)
        k = len(self.struct.params)
        sample = rng.multivariate_normal(self.log_theta[:k], self.cov_log[:k, :k], size=n)
        return [dict(zip(self.struct.params, np.exp(s), strict=True)) for s in sample]


def _minimise(fun: Callable[[FloatArray], float], starts: list[FloatArray]) -> Any:
    best = None
    for x0 in starts:
        r = optimize.minimize(
            fun,
            x0,
            method="Nelder-Mead",
            options={"maxiter": 4000, "xatol": 1e-7, "fatol": 1e-9, "adaptive": True},
        )
        if best is None or r.fun < best.fun:
            best = r
    assert best is not None
    return best


def _starts(struct: Structure, sigma0: float) -> list[FloatArray]:
    base = np.log(np.r_[struct.start, sigma0])
    out = [base]
    for shift in (-1.0, 1.0):
        s = base.copy()
        s[:-1] += shift
        out.append(s)
    return out


def fit_structure(
    problem: Problem, name: str, profile: bool = True, sigma0: float = 0.08
) -> StructureFit:
    """Fit one structure by maximum likelihood (multi-start Nelder-Mead on the log scale).

    The covariance is the inverse of the numerical Hessian (statsmodels `approx_hess3`) of the
    negative log-likelihood on the log scale; `profile` adds profile-likelihood 95% intervals
    for the structure's parameters (sigma keeps its Wald interval).
    """
    # Imported here: statsmodels and scipy.stats cost about a second to import, and the web
    # app only reads stored fits.
    from scipy import stats
    from statsmodels.tools.numdiff import approx_hess3

    struct = structure(name)

    def fun(x: FloatArray) -> float:
        return problem.nll(struct, x)

    best = _minimise(fun, _starts(struct, sigma0))
    x = np.asarray(best.x, dtype=float)
    hess = approx_hess3(x, fun, epsilon=1e-4)
    try:
        cov = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        cov = np.full_like(hess, np.nan)
    if not np.all(np.isfinite(cov)) or np.any(np.diag(cov) <= 0):
        cov = np.linalg.pinv(hess)
    names = (*struct.params, "sigma")
    z = float(stats.norm.ppf(0.975))
    est = []
    for i, nm in enumerate(names):
        se = float(np.sqrt(max(cov[i, i], 0.0)))
        wald = (float(np.exp(x[i] - z * se)), float(np.exp(x[i] + z * se)))
        prof = _profile(fun, x, i, se) if profile and nm != "sigma" else None
        est.append(Estimate(nm, float(np.exp(x[i])), se, wald, prof))
    n_obs = len(problem.observations)
    return StructureFit(struct, x, float(best.fun), cov, tuple(est), n_obs, problem)


def _profile(
    fun: Callable[[FloatArray], float], x: FloatArray, i: int, se: float
) -> tuple[float, float]:
    """95% profile-likelihood interval of parameter i (natural scale; inf if not crossed)."""
    from scipy import stats

    nll0 = fun(x)
    target = float(stats.chi2.ppf(0.95, 1)) / 2.0
    others = [j for j in range(x.size) if j != i]

    def prof(v: float) -> float:
        def inner(y: FloatArray) -> float:
            full = x.copy()
            full[i] = v
            full[others] = y
            return fun(full)

        r = _minimise(inner, [x[others]])
        return float(r.fun) - nll0 - target

    step = max(se, 0.05) if np.isfinite(se) else 0.5
    bounds = []
    for sign in (-1.0, 1.0):
        lo, hi = x[i], x[i] + sign * step
        found = False
        for _ in range(8):
            if prof(hi) > 0:
                found = True
                break
            lo, hi = hi, hi + sign * step
            step *= 1.6
        if not found:
            bounds.append(0.0 if sign < 0 else float("inf"))
            continue
        root = optimize.brentq(prof, min(lo, hi), max(lo, hi), xtol=1e-4)
        bounds.append(float(np.exp(root)))
    return bounds[0], bounds[1]


# --------------------------------------------------------------------------------------------
# Comparison, held-out prediction, hours above 50%

DOSES = (1.5, 3.0, 4.5, 50.0)


@dataclass(frozen=True)
class HoursAbove:
    dose_mg: float
    point: float
    median: float
    lo: float
    hi: float
    trough_point: float
    peak_point: float


def hours_above(
    fit: StructureFit,
    doses: Sequence[float] = DOSES,
    threshold: float = 0.5,
    n_draws: int = 2000,
    seed: int = 20261201,
    step_h: float = 0.01,
) -> list[HoursAbove]:
    """Steady-state hours per day above `threshold`, with 95% intervals over parameter draws.

    The same draws serve every dose, so each draw's curve is monotone in dose (u is linear in
    dose) and so are the percentiles.
    """
    draws = fit.draws(n_draws, seed)
    out = []
    point_pred = fit.predictor()
    for d in doses:
        occ0 = point_pred.steady_day(d, step_h=step_h)
        hrs = np.array(
            [
                float(np.sum(fit.predictor(v).steady_day(d, step_h=step_h) >= threshold) * step_h)
                for v in draws
            ]
        )
        lo, med, hi = np.percentile(hrs, [2.5, 50, 97.5])
        out.append(
            HoursAbove(
                d,
                float(np.sum(occ0 >= threshold) * step_h),
                float(med),
                float(lo),
                float(hi),
                float(occ0.min()),
                float(occ0.max()),
            )
        )
    return out


def steady_hours_at_mle(
    fit: StructureFit, doses: Sequence[float] = (1.5, 3.0, 4.5), step_h: float = 0.05
) -> list[float]:
    """Steady-state hours/day above 50% at a structure's MLE (the structural sensitivity)."""
    pr = fit.predictor()
    return [float(np.sum(pr.steady_day(d, step_h=step_h) >= 0.5) * step_h) for d in doses]


@dataclass(frozen=True)
class HeldOut:
    observation: Observation
    predicted: float
    error: float | None  # observed (or range midpoint) minus predicted
    inside_range: bool | None


def held_out_predictions(fit: StructureFit, data: OccupancyData | None = None) -> list[HeldOut]:
    """The default's predictions for data kept out of the fit."""
    d = data or occupancy_data()
    pr = fit.predictor()
    out = []
    for o in d.held_out():
        m = predict(pr, o)
        obs = o.value
        if obs is None and o.range is not None:
            obs = 0.5 * (o.range.min + o.range.max)
        inside = None if o.range is None else bool(o.range.min <= m <= o.range.max)
        out.append(HeldOut(o, m, None if obs is None else float(obs - m), inside))
    return out


def pk_checks(
    evidence: PharmacokineticsEvidence | None = None,
) -> list[tuple[str, str, float, str]]:
    """Single 50 mg dose against the label and Meyer 1984: (measure, window, model, published)."""
    e = evidence or pk_evidence()
    k = e.parameters
    p = PKParameters(**{n: getattr(k, n).value for n in type(k).model_fields})
    parent, metab = plasma_responses(p)
    t = np.arange(0.0, 96.0, 0.01)
    cp, cm = 50.0 * parent(t), 50.0 * metab(t)

    def hl(c: FloatArray, a: float, b: float) -> float:
        m = (t >= a) & (t <= b)
        return float(np.log(2) / -np.polyfit(t[m], np.log(c[m]), 1)[0])

    return [
        ("naltrexone Cmax ng/mL", "0-96 h", float(cp.max()), "13.3 (label)"),
        ("naltrexone Tmax h", "0-96 h", float(t[np.argmax(cp)]), "~1 (label)"),
        ("naltrexone t1/2 h", "2-24 h log-linear", hl(cp, 2, 24), "~4 (label; Meyer 1984)"),
        ("naltrexone t1/2 h", "12-48 h log-linear", hl(cp, 12, 48), "8.9 terminal (Wall 1981)"),
        ("6-beta-naltrexol Cmax ng/mL", "0-96 h", float(cm.max()), "~108 (label)"),
        (
            "6-beta-naltrexol t1/2 h",
            "24-72 h log-linear",
            hl(cm, 24, 72),
            "~13 (label); ~12 (Meyer)",
        ),
    ]


@dataclass(frozen=True)
class OccupancyFit:
    """All candidate fits, the chosen default, its held-out predictions and hours above 50%."""

    fits: tuple[StructureFit, ...]
    default: StructureFit
    held_out: tuple[HeldOut, ...]
    hours: tuple[HoursAbove, ...]
    n_draws: int
    seed: int

    def comparison(self) -> Table:
        best = min(f.aic for f in self.fits)
        rows = tuple(
            (
                f.struct.name,
                str(f.k),
                f"{-f.nll:.2f}",
                f"{f.aic:.2f}",
                f"{f.aic - best:.2f}",
                f"{f.aicc:.2f}",
                ", ".join(f"{n}={v:.3g}" for n, v in f.values.items()) + f", sigma={f.sigma:.3g}",
                " / ".join(f"{h:.1f}" for h in steady_hours_at_mle(f)),
            )
            for f in sorted(self.fits, key=lambda f: f.aic)
        )
        return Table(
            "Candidate structures (same data; k counts sigma)",
            (
                "structure",
                "k",
                "log-lik",
                "AIC",
                "dAIC",
                "AICc",
                "estimates",
                "h/day >=50% at 1.5/3/4.5 mg",
            ),
            rows,
        )

    def parameters(self) -> Table:
        rows = tuple(
            (
                e.name,
                f"{e.value:.4g}",
                f"{e.se_log:.3f}",
                f"{e.wald[0]:.3g}-{e.wald[1]:.3g}",
                "-" if e.profile is None else f"{e.profile[0]:.3g}-{e.profile[1]:.3g}",
            )
            for e in self.default.estimates
        )
        return Table(
            f"Default structure {self.default.struct.name}: maximum-likelihood estimates",
            ("parameter", "estimate", "SE (log)", "95% Wald", "95% profile"),
            rows,
        )

    def residuals(self) -> Table:
        rows = []
        for o, m, r in self.default.residuals():
            if o.kind == "occupancy":
                rows.append((o.id, f"{100 * o.value:.1f}%", f"{100 * m:.1f}%", f"{100 * r:+.1f}"))  # type: ignore[operator]
            else:
                rows.append((o.id, f"{o.value:.1f} h", f"{m:.1f} h", f"{o.value - m:+.1f} h"))  # type: ignore[operator]
        return Table(
            "Fitted data: observed, predicted, residual (occupancy in percentage points)",
            ("observation", "observed", "predicted", "residual"),
            tuple(rows),
        )

    def held_out_table(self) -> Table:
        rows = []
        for h in self.held_out:
            o = h.observation
            if o.value is not None:
                obs = f"{100 * o.value:.1f}%"
            elif o.range is not None:
                obs = f"{100 * o.range.min:.0f}-{100 * o.range.max:.0f}%"
            else:
                obs = o.finding or ""
            err = "-" if h.error is None else f"{100 * h.error:+.1f}"
            inside = "-" if h.inside_range is None else ("yes" if h.inside_range else "no")
            rows.append((o.id, obs, f"{100 * h.predicted:.1f}%", err, inside))
        return Table(
            "Held-out data (not used in the fit): observed, predicted",
            ("observation", "observed", "predicted", "error (pp)", "inside range"),
            tuple(rows),
        )

    def hours_table(self) -> Table:
        rows = tuple(
            (
                f"{h.dose_mg:g}",
                f"{h.point:.1f}",
                f"{h.median:.1f}",
                f"{h.lo:.1f}-{h.hi:.1f}",
                f"{100 * h.trough_point:.0f}%",
                f"{100 * h.peak_point:.0f}%",
            )
            for h in self.hours
        )
        return Table(
            f"Steady state, daily dosing: hours/day above 50% occupancy "
            f"({self.n_draws} parameter draws, seed {self.seed})",
            ("dose mg", "at MLE", "median", "95% interval", "trough", "peak"),
            rows,
        )

    def to_dict(self) -> dict[str, Any]:
        """The stored form (`occupancy_fit.yaml`)."""
        d = self.default
        names = [*d.struct.params, "sigma"]
        return {
            "default_structure": d.struct.name,
            "description": d.struct.description,
            "n_observations": d.n_obs,
            "estimates": {
                e.name: {
                    "value": _r(e.value),
                    "se_log": _r(e.se_log),
                    "wald95": [_r(e.wald[0]), _r(e.wald[1])],
                    **(
                        {"profile95": [_r(e.profile[0]), _r(e.profile[1])]}
                        if e.profile is not None
                        else {}
                    ),
                }
                for e in d.estimates
            },
            "covariance_log": {
                "names": names,
                "matrix": [[_r(v) for v in row] for row in d.cov_log],
            },
            "comparison": [
                {
                    "structure": f.struct.name,
                    "description": f.struct.description,
                    "k": f.k,
                    "log_likelihood": _r(-f.nll),
                    "aic": _r(f.aic),
                    "aicc": _r(f.aicc),
                    "estimates": {n: _r(v) for n, v in f.values.items()} | {"sigma": _r(f.sigma)},
                    "steady_hours_above_50_at_1.5_3_4.5_mg": [
                        _r(h, 3) for h in steady_hours_at_mle(f)
                    ],
                }
                for f in sorted(self.fits, key=lambda f: f.aic)
            ],
            "residuals": [
                {"id": o.id, "observed": _r(o.value), "predicted": _r(m), "residual": _r(r)}  # type: ignore[arg-type]
                for o, m, r in d.residuals()
            ],
            "held_out": [
                {
                    "id": h.observation.id,
                    "predicted": _r(h.predicted),
                    **({"error": _r(h.error)} if h.error is not None else {}),
                    **({"inside_range": h.inside_range} if h.inside_range is not None else {}),
                }
                for h in self.held_out
            ],
            "hours_above_50": {
                "draws": self.n_draws,
                "seed": self.seed,
                "rows": [
                    {
                        "dose_mg": h.dose_mg,
                        "point": _r(h.point, 3),
                        "median": _r(h.median, 3),
                        "lo95": _r(h.lo, 3),
                        "hi95": _r(h.hi, 3),
                        "trough": _r(h.trough_point, 4),
                        "peak": _r(h.peak_point, 4),
                    }
                    for h in self.hours
                ],
            },
        }


def _r(x: float | None, digits: int = 6) -> float | None:
    if x is None:
        return None
    x = float(x)
    if not np.isfinite(x):
        return x
    return float(f"{x:.{digits}g}")


def fit_occupancy(
    structures: Sequence[str] | None = None,
    data: OccupancyData | None = None,
    n_draws: int = 2000,
    seed: int = 20261201,
    profile: bool = True,
) -> OccupancyFit:
    """Fit every candidate structure, pick the lowest AIC as the default, and report it."""
    d = data or occupancy_data()
    problem = Problem.from_evidence(d.fitted())
    names = list(structures or STRUCTURES)
    fits = tuple(fit_structure(problem, n, profile=False) for n in names)
    best = min(fits, key=lambda f: f.aic)
    default = fit_structure(problem, best.struct.name, profile=profile) if profile else best
    held = tuple(held_out_predictions(default, d))
    hours = tuple(hours_above(default, n_draws=n_draws, seed=seed))
    fits = tuple(default if f.struct.name == default.struct.name else f for f in fits)
    return OccupancyFit(fits, default, held, hours, n_draws, seed)


# --------------------------------------------------------------------------------------------
# The stored fit (read by the web page and the scenario check; never recomputed at import)


class StoredEstimate(_Model):
    value: float
    se_log: float
    wald95: list[float]
    profile95: list[float] | None = None


class StoredHours(_Model):
    dose_mg: float
    point: float
    median: float
    lo95: float
    hi95: float
    trough: float
    peak: float


class StoredHoursTable(_Model):
    draws: int
    seed: int
    rows: list[StoredHours]


class StoredFit(_Model):
    """The whole `occupancy_fit.yaml`, written by `ldnkit pk fit --out`."""

    generated_by: str
    data_file: str
    measurement_error: str
    sources: list[str]
    default_structure: str
    description: str
    n_observations: int
    estimates: dict[str, StoredEstimate]
    covariance_log: dict[str, Any]
    comparison: list[dict[str, Any]]
    residuals: list[dict[str, Any]]
    held_out: list[dict[str, Any]]
    hours_above_50: StoredHoursTable


def stored_fit(evidence: Evidence | None = None) -> StoredFit:
    """The bundled fit results (`occupancy_fit.yaml`)."""
    return (evidence or default_evidence()).section("occupancy_fit", StoredFit)


def stored_form(result: OccupancyFit, data: OccupancyData | None = None) -> dict[str, Any]:
    """`result.to_dict()` with the header fields the stored file carries."""
    d = data or occupancy_data()
    sources = sorted({s for o in d.observations for s in o.sources})
    return {
        "generated_by": "ldnkit pk fit --out src/ldnkit/evidence/data/occupancy_fit.yaml",
        "data_file": "occupancy_data.yaml",
        "measurement_error": d.measurement_error,
        "sources": sources,
        **result.to_dict(),
    }


__all__ = [
    "DOSES",
    "STRUCTURES",
    "Exponentials",
    "HeldOut",
    "HoursAbove",
    "Observation",
    "OccupancyData",
    "OccupancyFit",
    "Predictor",
    "Problem",
    "StoredFit",
    "Structure",
    "StructureFit",
    "fit_occupancy",
    "fit_structure",
    "held_out_predictions",
    "hours_above",
    "occupancy_data",
    "pk_checks",
    "plasma_responses",
    "predict",
    "steady_hours_at_mle",
    "stored_fit",
    "stored_form",
    "structure",
    "with_held_out_fitted",
]
