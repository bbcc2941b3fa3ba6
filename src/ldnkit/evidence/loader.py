"""Load and cross-check the evidence base.

Loading is the moment to fail loudly: a dangling source id, an unknown key, a dose outside its
published range or a protocol pointing nowhere raises `EvidenceError` naming the file and
field, so no rule without a resolvable citation ever reaches a patient.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from ldnkit.errors import EvidenceError, NotFound
from ldnkit.evidence.models import (
    Condition,
    Conditions,
    Dosing,
    PainType,
    Protocol,
    Protocols,
    Reference,
    ScreeningRule,
    ScreeningRules,
    SideEffects,
    StandardDose,
    Studies,
)
from ldnkit.yamlio import describe_error, load_yaml

DATA_DIR = Path(__file__).parent / "data"
_CORE_FILES = (
    "references",
    "dosing",
    "protocols",
    "conditions",
    "screening",
    "side_effects",
    "standard_dose",
    "studies",
)
_M = TypeVar("_M", bound=BaseModel)


class Evidence:
    """The whole evidence base, validated, with lookups by id.

    Holds no patient data and does no I/O after construction, so the pure core can take it
    as an argument.
    """

    def __init__(
        self,
        references: list[Reference],
        dosing: Dosing,
        protocols: Protocols,
        conditions: Conditions,
        screening: ScreeningRules,
        side_effects: SideEffects,
        standard_dose: StandardDose,
        studies: Studies,
        sections: dict[str, Any] | None = None,
    ) -> None:
        self.references = {r.id: r for r in references}
        self.dosing = dosing
        self.protocols = {p.id: p for p in protocols.protocols}
        self.conditions = {c.id: c for c in conditions.conditions}
        self.pain_types = {p.id: p for p in conditions.pain_types}
        self.rules = {r.code: r for r in screening.rules}
        self.side_effects = side_effects
        self.standard_dose = standard_dose
        self.studies = studies
        self._sections = sections or {}

    def section(self, name: str, model: type[_M]) -> _M:
        """Parse an area's own data file (e.g. `pharmacokinetics.yaml`) into its model.

        Its source ids were already checked at load time, like the core files'.
        """
        if name not in self._sections:
            raise NotFound("evidence section", name, sorted(self._sections))
        return _parse(model, self._sections[name], f"{name}.yaml")

    # -- lookups ---------------------------------------------------------------------------
    def reference(self, ref_id: str) -> Reference:
        try:
            return self.references[ref_id]
        except KeyError:
            raise NotFound("source", ref_id) from None

    def cite(self, ids: Iterable[str]) -> list[Reference]:
        """Resolve source ids to their reference records."""
        return [self.reference(i) for i in ids]

    def protocol(self, protocol_id: str) -> Protocol:
        try:
            return self.protocols[protocol_id]
        except KeyError:
            raise NotFound("protocol", protocol_id, sorted(self.protocols)) from None

    def rule(self, code: str) -> ScreeningRule:
        try:
            return self.rules[code]
        except KeyError:
            raise NotFound("screening rule", code) from None

    def condition(self, condition_id: str) -> Condition | None:
        return self.conditions.get(condition_id)

    def pain_type(self, pain_type_id: str) -> PainType | None:
        return self.pain_types.get(pain_type_id)


def _read(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return load_yaml(fh)
    except FileNotFoundError:
        raise EvidenceError(f"{path.name}: evidence file missing") from None
    except yaml.YAMLError as exc:
        raise EvidenceError(f"{path.name}: {describe_error(exc)}") from None


def _parse(model: type[_M], data: Any, filename: str) -> _M:
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(root)"
        raise EvidenceError(f"{filename}: {where}: {err['msg']}") from None


def _source_ids(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Yield (field path, source id) for every `sources`-like list anywhere in a file."""
    if isinstance(node, dict):
        for key, value in node.items():
            sub = f"{path}.{key}" if path else str(key)
            if str(key).endswith("sources") and isinstance(value, list):
                for item in value:
                    yield sub, str(item)
            else:
                yield from _source_ids(value, sub)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _source_ids(item, f"{path}[{i}]")


def _check_unique(ids: list[str], what: str, filename: str) -> None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise EvidenceError(f"{filename}: duplicate {what} id {i!r}")
        seen.add(i)


def load_evidence(data_dir: Path | str | None = None) -> Evidence:
    """Read, validate and cross-check every evidence file in `data_dir`."""
    root = Path(data_dir) if data_dir is not None else DATA_DIR
    raw = {name: _read(root / f"{name}.yaml") for name in _CORE_FILES}
    # Areas (pharmacology, research, ...) add their own files: references_<area>.yaml for
    # citations, <name>.yaml for data read through `Evidence.section`. All are cross-checked.
    ref_files = ["references", *sorted(p.stem for p in root.glob("references_*.yaml"))]
    extra = sorted(
        p.stem for p in root.glob("*.yaml") if p.stem not in _CORE_FILES and p.stem not in ref_files
    )
    raw.update({name: _read(root / f"{name}.yaml") for name in (*ref_files[1:], *extra)})
    refs: list[Reference] = []
    for name in ref_files:
        data = raw[name]
        if not isinstance(data, dict) or "references" not in data:
            raise EvidenceError(f"{name}.yaml: missing top-level 'references' list")
        refs += [_parse(Reference, r, f"{name}.yaml") for r in data["references"]]
    _check_unique([r.id for r in refs], "reference", "references*.yaml")
    known = {r.id for r in refs}
    for name, data in raw.items():
        if name in ref_files:
            continue
        for where, ref_id in _source_ids(data):
            if ref_id not in known:
                raise EvidenceError(f"{name}.yaml: {where}: dangling source id {ref_id!r}")

    evidence = Evidence(
        references=refs,
        dosing=_parse(Dosing, raw["dosing"], "dosing.yaml"),
        protocols=_parse(Protocols, raw["protocols"], "protocols.yaml"),
        conditions=_parse(Conditions, raw["conditions"], "conditions.yaml"),
        screening=_parse(ScreeningRules, raw["screening"], "screening.yaml"),
        side_effects=_parse(SideEffects, raw["side_effects"], "side_effects.yaml"),
        standard_dose=_parse(StandardDose, raw["standard_dose"], "standard_dose.yaml"),
        studies=_parse(Studies, raw["studies"], "studies.yaml"),
        sections={name: raw[name] for name in extra},
    )
    _cross_check(evidence, raw)
    return evidence


def _cross_check(ev: Evidence, raw: dict[str, Any]) -> None:
    """Rules that span files: ids unique, links resolve, protocol ceilings inside the maximum."""
    _check_unique([p["id"] for p in raw["protocols"]["protocols"]], "protocol", "protocols.yaml")
    _check_unique(
        [c["id"] for c in raw["conditions"]["conditions"]], "condition", "conditions.yaml"
    )
    _check_unique([r["code"] for r in raw["screening"]["rules"]], "rule", "screening.yaml")
    general = ev.dosing.general
    ldn_max = ev.dosing.ldn_definition.standard_dose_mg
    for p in ev.protocols.values():
        if p.options.ceiling_mg.max > general.maximum_mg.max:
            raise EvidenceError(
                f"protocols.yaml: {p.id}.options.ceiling_mg: {p.options.ceiling_mg.max} mg "
                f"exceeds the published maximum {general.maximum_mg}"
            )
        if p.ceiling_mg >= ldn_max:
            raise EvidenceError(f"protocols.yaml: {p.id}.ceiling_mg: not a low dose")
    for c in ev.conditions.values():
        if c.protocol not in ev.protocols:
            raise EvidenceError(f"conditions.yaml: {c.id}.protocol: unknown {c.protocol!r}")
        if c.pain_type not in ev.pain_types:
            raise EvidenceError(f"conditions.yaml: {c.id}.pain_type: unknown {c.pain_type!r}")
    for t in ev.studies.trials:
        if t.dose_mg is not None and t.dose_mg > general.maximum_mg.max:
            raise EvidenceError(f"studies.yaml: {t.id}.dose_mg: {t.dose_mg} mg is not a low dose")
    if ev.dosing.general.maximum_mg.min < ev.dosing.general.target_mg.max:
        raise EvidenceError("dosing.yaml: general.maximum_mg below the target range")
    if Decimal(0) in (ev.dosing.safety.opioid_free_days.min,):
        raise EvidenceError("dosing.yaml: safety.opioid_free_days must be positive")


@lru_cache(maxsize=1)
def default_evidence() -> Evidence:
    """The bundled evidence base, loaded once per process."""
    return load_evidence()
