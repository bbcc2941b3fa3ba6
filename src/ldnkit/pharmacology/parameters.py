"""Kinetic and binding parameters of oral naltrexone, as arrays over patients.

The numbers themselves live in `evidence/data/pharmacokinetics.yaml`, each with its published
value, range and source ids; this module holds the typed containers the pure core computes
with. Every field is a float or a 1-D array over patients, so one parameter set describes one
patient or a whole virtual population and the same code path serves both.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ldnkit.errors import ValidationError

FloatArray = NDArray[np.float64]
Value = float | FloatArray


@dataclass(frozen=True)
class PKParameters:
    """Oral naltrexone with first-pass formation of 6-beta-naltrexol.

    Model (amounts in mg of naltrexone base, time in hours, volumes in litres):
    gut --ka--> naltrexone central (fraction `F` of the absorbed dose) and, presystemically,
    6-beta-naltrexol (fraction `fm` of the first-pass loss); central <-> peripheral (Q); central
    elimination CL, of which fraction `fm` forms 6-beta-naltrexol; 6-beta-naltrexol has one
    compartment (CLm, Vm). `Q = 0` gives a one-compartment parent. Effect-site (brain
    equilibration) rate constants `ke0` and `ke0m` are per hour; 0 means "no delay" (receptor
    occupancy follows plasma directly).
    """

    ka: Value  # absorption rate constant (1/h)
    F: Value  # systemic bioavailability of naltrexone (fraction)
    CL: Value  # naltrexone clearance (L/h)
    Vc: Value  # naltrexone central volume (L)
    Q: Value  # intercompartmental clearance (L/h)
    Vp: Value  # naltrexone peripheral volume (L)
    fm: Value  # fraction of metabolised naltrexone forming 6-beta-naltrexol
    CLm: Value  # 6-beta-naltrexol clearance (L/h)
    Vm: Value  # 6-beta-naltrexol volume (L)
    salt_fraction: Value = 341.41 / 377.87  # mg base per mg naltrexone hydrochloride
    ke0: Value = 0.0  # naltrexone plasma-brain equilibration (1/h); 0 = instantaneous
    ke0m: Value = 0.0  # 6-beta-naltrexol plasma-brain equilibration (1/h); 0 = instantaneous

    def __post_init__(self) -> None:
        for f in fields(self):
            v = np.asarray(getattr(self, f.name), dtype=float)
            if v.ndim > 1:
                raise ValidationError(f.name, "must be a number or a 1-D array over patients")
            if not np.all(np.isfinite(v)):
                raise ValidationError(f.name, "must be finite")
        positive = ("ka", "CL", "Vc", "Vp", "CLm", "Vm", "salt_fraction")
        for name in positive:
            if np.any(np.asarray(getattr(self, name)) <= 0):
                raise ValidationError(name, "must be greater than zero")
        for name in ("Q", "ke0", "ke0m"):
            if np.any(np.asarray(getattr(self, name)) < 0):
                raise ValidationError(name, "must not be negative")
        for name in ("F", "fm"):
            v = np.asarray(getattr(self, name))
            if np.any(v <= 0) or np.any(v > 1):
                raise ValidationError(name, "must be a fraction in (0, 1]")
        if np.any(np.asarray(self.salt_fraction) > 1):
            raise ValidationError("salt_fraction", "must be a fraction in (0, 1]")

    @property
    def n(self) -> int:
        """Number of patients described (1 for scalar parameters)."""
        sizes = {np.asarray(getattr(self, f.name)).size for f in fields(self)} - {1}
        if len(sizes) > 1:
            raise ValidationError("parameters", f"arrays of different lengths {sorted(sizes)}")
        return sizes.pop() if sizes else 1

    @property
    def effect_site(self) -> bool:
        """True when occupancy is driven by delayed (effect-site) rather than plasma levels."""
        return bool(np.any(np.asarray(self.ke0) > 0) or np.any(np.asarray(self.ke0m) > 0))

    def broadcast(self) -> PKParameters:
        """The same parameters with every field a float array of length `n`."""
        n = self.n
        return replace(
            self,
            **{
                f.name: np.broadcast_to(np.asarray(getattr(self, f.name), float), (n,)).copy()
                for f in fields(self)
            },
        )

    def take(self, index: slice | NDArray[np.int64]) -> PKParameters:
        """A subset of patients (used to split a population into chunks)."""
        b = self.broadcast()
        return replace(b, **{f.name: getattr(b, f.name)[index] for f in fields(b)})

    def patient(self, i: int) -> PKParameters:
        """One patient's scalar parameters (for the ODE reference and reports)."""
        b = self.broadcast()
        return replace(b, **{f.name: float(getattr(b, f.name)[i]) for f in fields(b)})

    def as_dict(self) -> dict[str, Any]:
        return {f.name: np.asarray(getattr(self, f.name)).tolist() for f in fields(self)}


@dataclass(frozen=True)
class BindingParameters:
    """Competitive binding of naltrexone and 6-beta-naltrexol at the mu-opioid receptor.

    Occupancy = sum(c_i / Ki_i) / (1 + sum(c_i / Ki_i)), where c_i is the unbound brain
    concentration, taken as plasma (or effect-site) concentration x unbound fraction x the
    unbound brain/plasma ratio `kp`. The ratios are assumptions stated in the evidence file and
    adjustable here; `kp` of naltrexone is calibrated against PET occupancy.
    """

    ki_nM: float = 1.0  # naltrexone Ki at MOR (nM)
    ki_m_nM: float = 2.12  # 6-beta-naltrexol Ki at MOR (nM)
    fu: float = 0.79  # unbound fraction of naltrexone in plasma
    fu_m: float = 0.79  # unbound fraction of 6-beta-naltrexol (assumed equal to parent)
    kp: float = 1.0  # unbound brain/plasma ratio, naltrexone
    kp_m: float = 0.01  # unbound brain/plasma ratio, 6-beta-naltrexol
    mw: float = 341.41  # g/mol naltrexone
    mw_m: float = 343.42  # g/mol 6-beta-naltrexol

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if not np.isfinite(v):
                raise ValidationError(f.name, "must be finite")
            if f.name in ("kp_m",):
                if v < 0:
                    raise ValidationError(f.name, "must not be negative")
            elif v <= 0:
                raise ValidationError(f.name, "must be greater than zero")
        for name in ("fu", "fu_m"):
            if getattr(self, name) > 1:
                raise ValidationError(name, "must be a fraction in (0, 1]")


__all__ = ["BindingParameters", "FloatArray", "PKParameters", "Value"]
