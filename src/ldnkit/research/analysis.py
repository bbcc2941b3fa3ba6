"""Analysis of a real LDN trial from a tidy table (one row per patient-day).

Columns: `patient`, `day`, `phase`, `severity` (required); `treatment` (none/placebo/ldn,
derived from phase names baseline/placebo/ldn/washout when absent), `sequence` (crossovers),
visit measurements `mechanical_threshold`, `heat_threshold`, `cold_threshold` (blank on
non-visit days) and `esr` (baseline, on any one row per patient).

One call, `analyze_trial(frame)`, gives the protocol's outcomes (seed 000): change in symptom
severity by phase; percentage reduction with LDN over placebo; the primary random-intercept
mixed model (statsmodels MixedLM, REML) of per-phase summaries, the same model the power
simulation uses; responder rates at 30% and 50% (IMMPACT, dworkin-2008); pain-threshold
changes; and the correlation of baseline ESR with response (younger-2009).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ldnkit.bounds import check_int
from ldnkit.errors import ValidationError
from ldnkit.research.mixed import Contrast, RandomInterceptFit, random_intercept_contrast

__all__ = [
    "REQUIRED_COLUMNS",
    "THRESHOLDS",
    "ContrastResult",
    "ParallelAnalysis",
    "TrialAnalysis",
    "analyze_parallel",
    "analyze_trial",
    "validate_trial",
]

REQUIRED_COLUMNS = ("patient", "day", "phase", "severity")
THRESHOLDS = ("mechanical_threshold", "heat_threshold", "cold_threshold")
_PHASE_TREATMENT = {"baseline": "none", "washout": "none", "placebo": "placebo", "ldn": "ldn"}


def validate_trial(frame: pd.DataFrame) -> pd.DataFrame:
    """Check a trial table in memory (required columns, numeric days, treatments) and return
    a sorted copy with `treatment` filled in from the phase names where it is absent."""
    if not isinstance(frame, pd.DataFrame):
        raise ValidationError(
            "frame", f"must be a table (pandas DataFrame), got {type(frame).__name__}"
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ValidationError(
            "csv",
            f"missing required column(s): {', '.join(missing)} "
            f"(need {', '.join(REQUIRED_COLUMNS)})",
        )
    df = frame.copy()
    df["patient"] = df["patient"].astype(str)
    df["phase"] = df["phase"].astype(str)
    for col in ("day", "severity", *THRESHOLDS, "esr"):
        if col in df.columns:
            df[col] = pd.to_numeric(df[col], errors="coerce")
    if df["day"].isna().any():
        raise ValidationError("day", "every row needs a numeric study day")
    if "treatment" not in df.columns:
        unknown = sorted(set(df["phase"].str.lower()) - set(_PHASE_TREATMENT))
        if unknown:
            raise ValidationError(
                "treatment",
                f"phases {unknown} need a 'treatment' column (none/placebo/ldn)",
            )
        df["treatment"] = df["phase"].str.lower().map(_PHASE_TREATMENT)
    df["treatment"] = df["treatment"].astype(str).str.lower()
    bad = sorted(set(df["treatment"]) - {"none", "placebo", "ldn"})
    if bad:
        raise ValidationError("treatment", f"unknown treatment values {bad}")
    if not {"placebo", "ldn"} <= set(df["treatment"]):
        raise ValidationError("treatment", "the table needs both placebo and ldn days")
    if "baseline" not in set(df["phase"].str.lower()):
        raise ValidationError("phase", "a 'baseline' phase is needed for change from baseline")
    return df.sort_values(["patient", "day"]).reset_index(drop=True)


_MIXED_KEYS = (
    "estimate",
    "se",
    "df",
    "statistic",
    "ci_lower",
    "ci_upper",
    "pvalue",
    "patient_variance",
    "residual_variance",
    "n_observations",
    "period_adjusted",
    "inference",
)
_ANCOVA_KEYS = ("estimate", "se", "ci_lower", "ci_upper", "pvalue", "df")


@dataclass(frozen=True, eq=False)
class ContrastResult(Mapping[str, Any]):
    """The LDN - placebo result of a trial model: the typed `Contrast` (estimate, se, df,
    p_value, conf_int(level)) and the model's own details (variance components, ...).

    It still reads like the dict it replaced (`result["estimate"]`, `result["ci_lower"]`) so
    reports and callers keep working; `to_dict()` gives that dict, in `keys` order."""

    contrast: Contrast
    details: Mapping[str, float] = field(default_factory=dict)
    keys_order: tuple[str, ...] = _MIXED_KEYS
    level: float = 0.95

    def to_dict(self) -> dict[str, Any]:
        con = self.contrast
        lo, hi = con.conf_int(self.level)
        values: dict[str, Any] = {
            "estimate": con.estimate,
            "se": con.se,
            "df": con.df,
            "statistic": con.statistic,
            "ci_lower": lo,
            "ci_upper": hi,
            "pvalue": con.p_value,
            "inference": con.method,
            **self.details,
        }
        return {k: values[k] for k in self.keys_order}

    def __getitem__(self, key: str) -> Any:
        return self.to_dict()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys_order)

    def __len__(self) -> int:
        return len(self.keys_order)


@dataclass
class TrialAnalysis:
    """Tables and model results of one trial; `report()` writes them with plots."""

    n_patients: int
    summary_days: int
    phase_table: pd.DataFrame
    patient_table: pd.DataFrame
    percent_reduction: dict[str, float]
    mixed_model: ContrastResult
    responders: pd.DataFrame
    thresholds: pd.DataFrame
    esr: dict[str, float]
    daily_means: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    contrast: Contrast | None = None  # typed LDN - placebo result: estimate, se, df, p, conf_int

    def summary(self) -> str:
        mm = self.mixed_model
        pr = self.percent_reduction
        lines = [
            f"Trial analysis: {self.n_patients} patients "
            f"(treatment summaries = last {self.summary_days} diary days)",
            "",
            "Change in symptom severity from baseline, by phase:",
            self.phase_table.to_string(index=False, float_format=lambda v: f"{v:.2f}"),
            "",
            f"Reduction from baseline: LDN {pr['ldn_percent']:.1f}% vs placebo "
            f"{pr['placebo_percent']:.1f}%; LDN over placebo {pr['difference_points']:.1f} "
            f"percentage points (paired t p = {pr['pvalue']:.3g})",
            f"Mixed model (REML, random intercept), LDN - placebo: {mm['estimate']:.3f} "
            f"(SE {mm['se']:.3f}, 95% CI {mm['ci_lower']:.3f} to {mm['ci_upper']:.3f}, "
            f"t({mm['df']:.4g}) = {mm['statistic']:.3f}, p = {mm['pvalue']:.3g}; "
            f"{mm['inference']})",
            "",
            "Responders (reduction from baseline):",
            self.responders.to_string(index=False, float_format=lambda v: f"{v:.3f}"),
        ]
        if len(self.thresholds):
            lines += [
                "",
                "Pain thresholds, LDN minus placebo phase:",
                self.thresholds.to_string(index=False, float_format=lambda v: f"{v:.3f}"),
            ]
        if self.esr:
            lines += [
                "",
                f"Baseline ESR vs response (LDN over placebo, %): Pearson r = {self.esr['pearson_r']:.3f} "
                f"(R^2 = {self.esr['r_squared']:.3f}, p = {self.esr['pearson_p']:.3g}); "
                f"Spearman rho = {self.esr['spearman_rho']:.3f}",
            ]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_patients": self.n_patients,
            "summary_days": self.summary_days,
            "phases": self.phase_table.to_dict(orient="records"),
            "percent_reduction": self.percent_reduction,
            "mixed_model": self.mixed_model.to_dict(),
            "responders": self.responders.to_dict(orient="records"),
            "thresholds": self.thresholds.to_dict(orient="records"),
            "esr": self.esr,
            "notes": self.notes,
        }

    def plot(self, path: str | Path | None = None) -> Any:
        """The daily course by phase (mean over patients)."""
        from ldnkit.research.report import course_figure

        return course_figure(self.daily_means, "phase", path)

    def report(self, outdir: str | Path) -> list[Path]:
        """Write report.md, report.json, patients.csv and the plots; return their paths."""
        from ldnkit.research.report import write_trial_report

        return write_trial_report(self, Path(outdir))


def _window(group: pd.DataFrame, last: int) -> float:
    vals = group.sort_values("day")["severity"].dropna()
    days = group.sort_values("day").loc[vals.index, "day"]
    if vals.empty:
        return math.nan
    cutoff = group["day"].max() - last + 1
    tail = vals[days >= cutoff]
    return float(tail.mean()) if len(tail) else math.nan


def _ci(x: np.ndarray) -> tuple[float, float, float, float]:
    x = x[np.isfinite(x)]
    n = x.size
    if n < 2:
        return (float(np.mean(x)) if n else math.nan, math.nan, math.nan, math.nan)
    m, s = float(np.mean(x)), float(np.std(x, ddof=1))
    h = stats.t.ppf(0.975, n - 1) * s / math.sqrt(n)
    return m, s, m - h, m + h


@dataclass
class _CrossoverWork:
    """What the crossover steps share: the checked table in, the tables built so far out.

    Each step in `CROSSOVER_STEPS` reads the fields earlier steps filled and fills its own, so
    the order of the tuple is the order of the analysis."""

    df: pd.DataFrame
    summary_days: int
    notes: list[str] = field(default_factory=list)
    patients: pd.DataFrame = field(default_factory=pd.DataFrame)
    complete: pd.DataFrame = field(default_factory=pd.DataFrame)
    first_day: dict[str, pd.Series] = field(default_factory=dict)
    phase_table: pd.DataFrame = field(default_factory=pd.DataFrame)
    percent_reduction: dict[str, float] = field(default_factory=dict)
    mixed_model: ContrastResult | None = None
    contrast: Contrast | None = None
    responders: pd.DataFrame = field(default_factory=pd.DataFrame)
    thresholds: pd.DataFrame = field(default_factory=pd.DataFrame)
    esr: dict[str, float] = field(default_factory=dict)
    daily_means: pd.DataFrame = field(default_factory=pd.DataFrame)


def _patient_summaries(*, work: _CrossoverWork) -> None:
    """Baseline mean and the last `summary_days` of each arm per patient, their changes and
    percentage reductions; patients missing a summary are noted and left out of paired tests."""
    df = work.df
    base = df[df["phase"].str.lower() == "baseline"].groupby("patient")["severity"].mean()
    summ: dict[str, pd.Series] = {"baseline": base}
    for treat in ("placebo", "ldn"):
        sub = df[df["treatment"] == treat]
        summ[treat] = sub.groupby("patient").apply(
            lambda g: _window(g, work.summary_days), include_groups=False
        )
        work.first_day[treat] = sub.groupby("patient")["day"].min()
    pt = pd.DataFrame(summ)
    pt["placebo_change"] = pt["placebo"] - pt["baseline"]
    pt["ldn_change"] = pt["ldn"] - pt["baseline"]
    pt["placebo_pct_reduction"] = -100 * pt["placebo_change"] / pt["baseline"]
    pt["ldn_pct_reduction"] = -100 * pt["ldn_change"] / pt["baseline"]
    pt["ldn_over_placebo_pct"] = pt["ldn_pct_reduction"] - pt["placebo_pct_reduction"]
    complete = pt[["baseline", "placebo", "ldn"]].notna().all(axis=1)
    if (~complete).any():
        work.notes.append(
            f"{int((~complete).sum())} patient(s) lack a baseline, placebo or LDN summary and "
            "are left out of paired comparisons (the mixed model uses what they have)"
        )
    if int(complete.sum()) < 2:
        raise ValidationError(
            "patient", "fewer than 2 patients have baseline, placebo and LDN data"
        )
    work.patients = pt
    work.complete = pt[complete]


def _phase_changes(*, work: _CrossoverWork) -> None:
    """Mean severity and change from baseline (with a t interval) for each phase."""
    cp = work.complete
    n = len(cp)
    rows = []
    for name in ("baseline", "placebo", "ldn"):
        m, s, _, _ = _ci(cp[name].to_numpy())
        ch = (cp[name] - cp["baseline"]).to_numpy()
        cm, cs, clo, chi = _ci(ch) if name != "baseline" else (0.0, 0.0, 0.0, 0.0)
        rows.append(
            {
                "phase": name,
                "n": n,
                "mean": m,
                "sd": s,
                "change": cm,
                "change_sd": cs,
                "change_ci_lower": clo,
                "change_ci_upper": chi,
            }
        )
    work.phase_table = pd.DataFrame(rows)


def _percent_reduction(*, work: _CrossoverWork) -> None:
    """Percentage reduction from baseline with LDN and placebo, and the paired t test."""
    cp = work.complete
    diff = cp["ldn_over_placebo_pct"].to_numpy()
    t = stats.ttest_rel(cp["ldn_pct_reduction"], cp["placebo_pct_reduction"])
    work.percent_reduction = {
        "ldn_percent": float(cp["ldn_pct_reduction"].mean()),
        "placebo_percent": float(cp["placebo_pct_reduction"].mean()),
        "difference_points": float(np.mean(diff)),
        "relative_to_placebo_percent": float(
            100 * (cp["ldn"].mean() - cp["placebo"].mean()) / cp["placebo"].mean()
        ),
        "pvalue": float(t.pvalue),
    }


def _primary_mixed_model(*, work: _CrossoverWork) -> None:
    """The protocol's primary analysis (see `_mixed_model`)."""
    mixed, fit = _mixed_model(work.df, work.patients, work.first_day)
    work.notes.extend(fit.notes)
    work.mixed_model = mixed
    work.contrast = fit.contrast


def _paired_responders(*, work: _CrossoverWork) -> None:
    """Responder rates at 30% and 50% reduction (IMMPACT) with McNemar's exact test."""
    cp = work.complete
    rows = []
    for cut in (30, 50):
        ldn_r = (cp["ldn_pct_reduction"] >= cut).to_numpy()
        pla_r = (cp["placebo_pct_reduction"] >= cut).to_numpy()
        b = int(np.sum(ldn_r & ~pla_r))
        c = int(np.sum(~ldn_r & pla_r))
        p = float(stats.binomtest(b, b + c).pvalue) if b + c else 1.0
        rows.append(
            {
                "threshold_percent": cut,
                "ldn_rate": float(ldn_r.mean()),
                "placebo_rate": float(pla_r.mean()),
                "discordant_ldn_only": b,
                "discordant_placebo_only": c,
                "mcnemar_exact_p": p,
            }
        )
    work.responders = pd.DataFrame(rows)


def _paired_thresholds(*, work: _CrossoverWork) -> None:
    """Pain thresholds measured at visits: LDN minus placebo phase, one-sample t."""
    df = work.df
    rows = []
    for col in THRESHOLDS:
        if col not in df.columns or df[col].notna().sum() == 0:
            continue
        by = df.dropna(subset=[col]).groupby(["patient", "treatment"])[col].mean().unstack()
        if not {"placebo", "ldn"} <= set(by.columns):
            work.notes.append(f"{col}: no visits in both the placebo and LDN phases")
            continue
        d = (by["ldn"] - by["placebo"]).dropna().to_numpy()
        m, _, lo, hi = _ci(d)
        p = float(stats.ttest_1samp(d, 0).pvalue) if d.size > 1 else math.nan
        base_col = by["none"] if "none" in by.columns else pd.Series(dtype=float)
        rows.append(
            {
                "measure": col,
                "n": int(d.size),
                "baseline_mean": float(base_col.mean()) if len(base_col) else math.nan,
                "placebo_mean": float(by["placebo"].mean()),
                "ldn_mean": float(by["ldn"].mean()),
                "ldn_minus_placebo": m,
                "ci_lower": lo,
                "ci_upper": hi,
                "pvalue": p,
            }
        )
    work.thresholds = pd.DataFrame(rows)


def _esr_correlation(*, work: _CrossoverWork) -> None:
    """Baseline ESR against LDN-over-placebo response (younger-2009), with 3+ patients."""
    df = work.df
    if "esr" not in df.columns:
        return
    esr_by_patient = df.dropna(subset=["esr"]).groupby("patient")["esr"].first()
    if df["esr"].notna().any():
        joined = pd.concat(
            [esr_by_patient, work.complete["ldn_over_placebo_pct"]], axis=1, join="inner"
        ).dropna()
        if len(joined) >= 3:
            r, rp = stats.pearsonr(joined["esr"], joined["ldn_over_placebo_pct"])
            rho, sp = stats.spearmanr(joined["esr"], joined["ldn_over_placebo_pct"])
            work.esr = {
                "n": float(len(joined)),
                "pearson_r": float(r),
                "pearson_p": float(rp),
                "r_squared": float(r**2),
                "spearman_rho": float(rho),
                "spearman_p": float(sp),
            }
        else:
            work.notes.append("ESR recorded for fewer than 3 analysable patients")
    work.patients["esr"] = esr_by_patient


def _daily_course(*, work: _CrossoverWork) -> None:
    """Mean severity per study day and phase, for the course plot."""
    work.daily_means = work.df.groupby(["day", "phase"], as_index=False)["severity"].agg(
        ["mean", "count"]
    )


CROSSOVER_STEPS: tuple[Callable[..., None], ...] = (
    _patient_summaries,
    _phase_changes,
    _percent_reduction,
    _primary_mixed_model,
    _paired_responders,
    _paired_thresholds,
    _esr_correlation,
    _daily_course,
)
"""The within-patient analysis, in order: each step reads what earlier steps filled in."""


def analyze_trial(frame: pd.DataFrame, summary_days: int = 7) -> TrialAnalysis | ParallelAnalysis:
    """Analyse a trial table (see module docstring); raises ValidationError naming the problem.

    Within-patient designs (every patient has placebo and LDN days) run `CROSSOVER_STEPS`;
    a parallel trial (each patient on one arm) goes to `analyze_parallel`."""
    summary_days = check_int("summary_days", summary_days, 1, 3650)
    df = validate_trial(frame)
    arms = df[df["treatment"] != "none"].groupby("patient")["treatment"].nunique()
    if (arms == 1).all():
        return analyze_parallel(df, summary_days)
    work = _CrossoverWork(df=df, summary_days=summary_days)
    for step in CROSSOVER_STEPS:
        step(work=work)
    if work.mixed_model is None:  # pragma: no cover - `_primary_mixed_model` always fills it
        raise RuntimeError("CROSSOVER_STEPS lost the primary mixed model step")
    return TrialAnalysis(
        n_patients=int(df["patient"].nunique()),
        summary_days=summary_days,
        phase_table=work.phase_table,
        patient_table=work.patients.reset_index().rename(columns={"index": "patient"}),
        percent_reduction=work.percent_reduction,
        mixed_model=work.mixed_model,
        responders=work.responders,
        thresholds=work.thresholds,
        esr=work.esr,
        daily_means=work.daily_means,
        notes=work.notes,
        contrast=work.contrast,
    )


def _mixed_model(
    df: pd.DataFrame, pt: pd.DataFrame, first_day: dict[str, pd.Series]
) -> tuple[ContrastResult, RandomInterceptFit]:
    """Primary analysis, the same model as the power simulation (`power.protocol_fit`):
    randomised crossover: period summaries ~ period + treatment; fixed-order protocol:
    baseline, placebo and LDN summaries ~ phase; random intercept per patient, REML;
    LDN minus placebo contrast with small-sample t inference (`research.mixed`): the exact
    within-patient t on complete data, Satterthwaite degrees of freedom otherwise."""
    rows = []
    crossover = "sequence" in df.columns and df["sequence"].nunique() > 1
    for patient, r in pt.iterrows():
        order = sorted(
            (t for t in ("placebo", "ldn") if pd.notna(first_day[t].get(patient))),
            key=lambda t: first_day[t][patient],
        )
        for treat in ("placebo", "ldn") if crossover else ("baseline", "placebo", "ldn"):
            if pd.isna(r[treat]):
                continue
            period = 0 if treat == "baseline" else order.index(treat) + 1
            rows.append(
                {
                    "y": r[treat],
                    "patient": patient,
                    "placebo": float(treat == "placebo"),
                    "ldn": float(treat == "ldn"),
                    "period2": float(period == 2),
                }
            )
    data = pd.DataFrame(rows)
    cols = ["ldn", "period2"] if crossover else ["placebo", "ldn"]
    weights = np.array([1.0 if k == "ldn" else -1.0 if k == "placebo" else 0.0 for k in cols])
    fit = random_intercept_contrast(
        data["y"].to_numpy(),
        data["patient"].to_numpy(),
        data[cols].to_numpy(),
        weights,
        names=cols,
    )
    out = ContrastResult(
        fit.contrast,
        details={
            "patient_variance": fit.sigma2_between,
            "residual_variance": fit.sigma2_within,
            "n_observations": float(fit.n_obs),
            "period_adjusted": float(crossover),
        },
    )
    return out, fit


@dataclass
class ParallelAnalysis:
    """A parallel LDN-vs-placebo trial: change by arm, ANCOVA, responders, thresholds, ESR."""

    n_patients: int
    summary_days: int
    arm_table: pd.DataFrame
    patient_table: pd.DataFrame
    ancova: ContrastResult
    responders: pd.DataFrame
    thresholds: pd.DataFrame
    esr: dict[str, float]
    daily_means: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        a = self.ancova
        lines = [
            f"Parallel trial analysis: {self.n_patients} patients "
            f"(end of treatment = last {self.summary_days} diary days)",
            "",
            "Change in symptom severity from baseline, by arm:",
            self.arm_table.to_string(index=False, float_format=lambda v: f"{v:.2f}"),
            "",
            f"ANCOVA (end ~ arm + baseline), LDN - placebo: {a['estimate']:.3f} "
            f"(SE {a['se']:.3f}, 95% CI {a['ci_lower']:.3f} to {a['ci_upper']:.3f}, "
            f"p = {a['pvalue']:.3g})",
            "",
            "Responders (reduction from baseline), by arm:",
            self.responders.to_string(index=False, float_format=lambda v: f"{v:.3f}"),
        ]
        if len(self.thresholds):
            lines += [
                "",
                "Pain thresholds, change from baseline visit to last visit, LDN minus placebo:",
                self.thresholds.to_string(index=False, float_format=lambda v: f"{v:.3f}"),
            ]
        if self.esr:
            lines.append(
                f"Baseline ESR vs % reduction in the LDN arm: Pearson r = "
                f"{self.esr['pearson_r']:.3f} (p = {self.esr['pearson_p']:.3g})"
            )
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "design": "parallel",
            "n_patients": self.n_patients,
            "summary_days": self.summary_days,
            "arms": self.arm_table.to_dict(orient="records"),
            "ancova": self.ancova.to_dict(),
            "responders": self.responders.to_dict(orient="records"),
            "thresholds": self.thresholds.to_dict(orient="records"),
            "esr": self.esr,
            "notes": self.notes,
        }

    def plot(self, path: str | Path | None = None) -> Any:
        """The daily course by arm (mean over patients)."""
        from ldnkit.research.report import course_figure

        return course_figure(self.daily_means, "arm", path)

    def report(self, outdir: str | Path) -> list[Path]:
        from ldnkit.research.report import write_parallel_report

        return write_parallel_report(self, Path(outdir))


@dataclass
class _ParallelWork:
    """What the parallel-trial steps share, like `_CrossoverWork` for within-patient designs."""

    df: pd.DataFrame
    summary_days: int
    notes: list[str] = field(default_factory=list)
    arm: pd.Series = field(default_factory=pd.Series)
    patients: pd.DataFrame = field(default_factory=pd.DataFrame)
    complete: pd.DataFrame = field(default_factory=pd.DataFrame)
    arm_table: pd.DataFrame = field(default_factory=pd.DataFrame)
    ancova: ContrastResult | None = None
    responders: pd.DataFrame = field(default_factory=pd.DataFrame)
    thresholds: pd.DataFrame = field(default_factory=pd.DataFrame)
    esr: dict[str, float] = field(default_factory=dict)
    daily_means: pd.DataFrame = field(default_factory=pd.DataFrame)


def _arm_summaries(*, work: _ParallelWork) -> None:
    """Per patient: arm, baseline mean, mean of the last `summary_days` on treatment, change and
    percentage reduction; patients without baseline or end data are noted and left out."""
    df = work.df
    base = df[df["phase"].str.lower() == "baseline"].groupby("patient")["severity"].mean()
    treated = df[df["treatment"] != "none"]
    work.arm = treated.groupby("patient")["treatment"].first()
    end = treated.groupby("patient").apply(
        lambda g: _window(g, work.summary_days), include_groups=False
    )
    pt = pd.DataFrame({"arm": work.arm, "baseline": base, "end": end})
    pt["change"] = pt["end"] - pt["baseline"]
    pt["pct_reduction"] = -100 * pt["change"] / pt["baseline"]
    if "esr" in df.columns:
        pt["esr"] = df.dropna(subset=["esr"]).groupby("patient")["esr"].first()
    cp = pt.dropna(subset=["arm", "baseline", "end"])
    if len(cp) < len(pt):
        work.notes.append(f"{len(pt) - len(cp)} patient(s) without baseline or end data left out")
    if cp["arm"].nunique() < 2 or cp["arm"].value_counts().min() < 2:
        raise ValidationError("treatment", "each arm needs at least 2 analysable patients")
    work.patients, work.complete = pt, cp


def _arm_table(*, work: _ParallelWork) -> None:
    """Baseline, end, change (with its t interval) and percentage reduction per arm."""
    rows = []
    for name in ("placebo", "ldn"):
        g = work.complete[work.complete["arm"] == name]
        m, sd, lo, hi = _ci(g["change"].to_numpy())
        rows.append(
            {
                "arm": name,
                "n": len(g),
                "baseline": float(g["baseline"].mean()),
                "end": float(g["end"].mean()),
                "change": m,
                "change_sd": sd,
                "change_ci_lower": lo,
                "change_ci_upper": hi,
                "pct_reduction": float(g["pct_reduction"].mean()),
            }
        )
    work.arm_table = pd.DataFrame(rows)


def _ancova(*, work: _ParallelWork) -> None:
    """The primary analysis: end-of-treatment mean on arm and baseline mean (OLS t)."""
    import statsmodels.formula.api as smf

    cp = work.complete
    data = cp.assign(ldn=(cp["arm"] == "ldn").astype(float))
    fit = smf.ols("end ~ ldn + baseline", data=data).fit()
    work.ancova = ContrastResult(
        Contrast(
            float(fit.params["ldn"]),
            float(fit.bse["ldn"]),
            float(fit.df_resid),
            method="OLS t",
            label="ldn - placebo (ANCOVA)",
        ),
        keys_order=_ANCOVA_KEYS,
    )


def _arm_responders(*, work: _ParallelWork) -> None:
    """Share reaching 30% and 50% reduction per arm, compared by Fisher's exact test."""
    cp = work.complete
    rows = []
    for cut in (30, 50):
        hit = cp["pct_reduction"] >= cut
        a, b = int(hit[cp["arm"] == "ldn"].sum()), int((~hit)[cp["arm"] == "ldn"].sum())
        c, d = int(hit[cp["arm"] == "placebo"].sum()), int((~hit)[cp["arm"] == "placebo"].sum())
        rows.append(
            {
                "threshold_percent": cut,
                "ldn_rate": a / (a + b),
                "placebo_rate": c / (c + d),
                "fisher_exact_p": float(stats.fisher_exact([[a, b], [c, d]]).pvalue),
            }
        )
    work.responders = pd.DataFrame(rows)


def _arm_thresholds(*, work: _ParallelWork) -> None:
    """Change of each pain threshold from first to last visit, LDN against placebo (Welch)."""
    df, cp = work.df, work.complete
    rows = []
    for col in THRESHOLDS:
        if col not in df.columns or df[col].notna().sum() == 0:
            continue
        v = df.dropna(subset=[col]).sort_values("day").groupby("patient")[col]
        change = (v.last() - v.first()).rename("change")
        j = pd.concat([change, cp["arm"]], axis=1, join="inner").dropna()
        x1 = j.loc[j["arm"] == "ldn", "change"].to_numpy()
        x0 = j.loc[j["arm"] == "placebo", "change"].to_numpy()
        if x1.size < 2 or x0.size < 2:
            continue
        t = stats.ttest_ind(x1, x0, equal_var=False)
        rows.append(
            {
                "measure": col,
                "ldn_change": float(x1.mean()),
                "placebo_change": float(x0.mean()),
                "difference": float(x1.mean() - x0.mean()),
                "welch_p": float(t.pvalue),
            }
        )
    work.thresholds = pd.DataFrame(rows)


def _arm_esr(*, work: _ParallelWork) -> None:
    """Baseline ESR against percentage reduction on LDN (seed 000's predictor), n >= 3."""
    cp = work.complete
    if "esr" in cp.columns:
        g = cp[(cp["arm"] == "ldn")].dropna(subset=["esr"])
        if len(g) >= 3:
            r, rp = stats.pearsonr(g["esr"], g["pct_reduction"])
            work.esr = {"n": float(len(g)), "pearson_r": float(r), "pearson_p": float(rp)}


def _arm_daily_course(*, work: _ParallelWork) -> None:
    """Mean severity per study day and arm, for the course plot."""
    work.daily_means = (
        work.df.merge(work.arm.rename("arm"), left_on="patient", right_index=True)
        .groupby(["day", "arm"], as_index=False)["severity"]
        .agg(["mean", "count"])
    )


PARALLEL_STEPS: tuple[Callable[..., None], ...] = (
    _arm_summaries,
    _arm_table,
    _ancova,
    _arm_responders,
    _arm_thresholds,
    _arm_esr,
    _arm_daily_course,
)
"""The parallel-trial analysis, in order: each step reads what earlier steps filled in."""


def analyze_parallel(frame: pd.DataFrame, summary_days: int = 7) -> ParallelAnalysis:
    """Parallel LDN vs placebo: ANCOVA of the end-of-treatment mean on arm and baseline mean
    (the analysis the power simulation uses for `parallel_rct`), plus descriptive outcomes;
    runs `PARALLEL_STEPS`."""
    summary_days = check_int("summary_days", summary_days, 1, 3650)
    df = validate_trial(frame)
    work = _ParallelWork(df=df, summary_days=summary_days)
    for step in PARALLEL_STEPS:
        step(work=work)
    if work.ancova is None:  # pragma: no cover - `_ancova` always fills it
        raise RuntimeError("PARALLEL_STEPS lost the ANCOVA step")
    return ParallelAnalysis(
        n_patients=int(df["patient"].nunique()),
        summary_days=summary_days,
        arm_table=work.arm_table,
        patient_table=work.patients.reset_index().rename(columns={"index": "patient"}),
        ancova=work.ancova,
        responders=work.responders,
        thresholds=work.thresholds,
        esr=work.esr,
        daily_means=work.daily_means,
        notes=work.notes,
    )
