"""Mu-opioid receptor occupancy by competitive binding of naltrexone and 6-beta-naltrexol.

Two competitive antagonists at one site: with unbound brain concentrations c (nM) and
affinities Ki (nM), the fraction of receptors occupied is u / (1 + u), u = c/Ki + c_m/Ki_m.
The unbound brain concentration is plasma (or effect-site) concentration x unbound fraction x
unbound brain/plasma ratio; those ratios are the model's assumptions (see the evidence file).
"""

from __future__ import annotations

import numpy as np

from ldnkit.pharmacology.parameters import BindingParameters, FloatArray


def potency(b: BindingParameters) -> tuple[float, float]:
    """Receptor units per ng/mL of plasma naltrexone and of 6-beta-naltrexol.

    1 ng/mL = 1000 / MW nM, so u = c[ng/mL] x fu x kp x 1000 / (MW x Ki).
    """
    a = b.fu * b.kp * 1000.0 / (b.mw * b.ki_nM)
    am = b.fu_m * b.kp_m * 1000.0 / (b.mw_m * b.ki_m_nM)
    return a, am


def occupancy(
    parent_ng_ml: FloatArray | float,
    metabolite_ng_ml: FloatArray | float,
    binding: BindingParameters,
) -> FloatArray:
    """Fraction (0-1) of mu-opioid receptors occupied at the given concentrations."""
    a, am = potency(binding)
    u = a * np.asarray(parent_ng_ml, dtype=float) + am * np.asarray(metabolite_ng_ml, dtype=float)
    u = np.maximum(u, 0.0)  # rounding can leave -1e-18 where the drug is gone
    return u / (1.0 + u)


__all__ = ["occupancy", "potency"]
