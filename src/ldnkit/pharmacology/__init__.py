"""Naltrexone kinetics and mu-opioid receptor occupancy, for one patient or a population.

    from ldnkit.pharmacology import Regimen, simulate, simulate_population
    sim = simulate(Regimen.daily(4.5, days=14))          # typical adult, 0.1 h resolution
    print(sim.summary())
    pop = simulate_population(Regimen.daily(4.5, 84), n=100_000, seed=1)
    print(pop.summary())

Numbers come from `evidence/data/pharmacokinetics.yaml` (values, ranges, sources); the
closed form in `model` is checked against the ODE reference in `reference`.
"""

from ldnkit.pharmacology.model import propagate, system_matrix, trajectories, transition
from ldnkit.pharmacology.occupancy import occupancy
from ldnkit.pharmacology.parameters import BindingParameters, PKParameters
from ldnkit.pharmacology.population import (
    PopulationModel,
    PopulationResult,
    simulate_population,
)
from ldnkit.pharmacology.published import (
    binding_parameters,
    pk_evidence,
    plasma_parameters,
    typical_parameters,
)
from ldnkit.pharmacology.reference import solve_reference
from ldnkit.pharmacology.regimen import Regimen, regimen_from_plan
from ldnkit.pharmacology.simulation import Simulation, simulate
from ldnkit.pharmacology.table import occupancy_table
from ldnkit.table import Table

__all__ = [
    "BindingParameters",
    "PKParameters",
    "PopulationModel",
    "PopulationResult",
    "Regimen",
    "Simulation",
    "Table",
    "binding_parameters",
    "occupancy",
    "occupancy_table",
    "pk_evidence",
    "plasma_parameters",
    "propagate",
    "regimen_from_plan",
    "simulate",
    "simulate_population",
    "solve_reference",
    "system_matrix",
    "trajectories",
    "transition",
    "typical_parameters",
]
