"""Medication text and codes -> ingredients, classes, washout windows, and why.

A chart's medication list is written by clinicians and patients, not by a terminology server:
"OXYCODONE HCL 5 MG PO TABS", "oxycodone, as needed", "Tylenol #3", "co-codamol 30/500",
"Suboxone film 8/2", "tramodol". Screening must never read such a line as "no opioid" because
the exact word was missing, so recognition works on tokens:

1. normalise (accents, case, "w/" and "#"), split into word and number tokens, and split glued
   strengths ("oxycodone5mg") unless the glued token is itself a name ("df118", "b12");
2. match the longest known name at each position (names of several tokens included: "tylenol
   with codeine", "ms contin", "co codamol"), over a vocabulary that knows opioids, naltrexone
   products *and* the common non-opioids, all from cited data (`evidence/data/medications.yaml`);
3. for a leftover word that looks like a drug name, try an adjacent-token join and then a
   near-miss spelling with rapidfuzz (length >= 5, a high score; an opioid and a non-opioid
   scoring alike is called ambiguous, never guessed);
4. words form segments between combination separators ("/", "+", "with", "and", a hyphen
   between names): a segment naming nothing known leaves the medication *partly* unrecognised.

Codes (ATC, RxNorm) win over text: a coding the vocabulary knows names the ingredients; text
can only add an opioid or naltrexone the codes missed (the safe direction), never remove one.
Nothing is silent: a medication naming no known ingredient comes back `recognised=False`, and
screening asks the clinician to confirm it. Results are memoised per distinct input.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from rapidfuzz import process
from rapidfuzz.distance import OSA

from ldnkit.clinical.models import Coding, Medication
from ldnkit.errors import EvidenceError
from ldnkit.evidence import Evidence, default_evidence
from ldnkit.evidence.models import DoseRange

__all__ = [
    "Concern",
    "Ingredient",
    "MatchEvidence",
    "MedClass",
    "Recogniser",
    "Recognition",
    "Washout",
    "find_opioid",
    "is_naltrexone_bupropion",
    "recognise",
    "recognise_text",
    "recogniser",
]

Concern = Literal["opioid", "peripheral", "naltrexone", "none"]
NaltrexoneForm = Literal["ldn", "standard_naltrexone", "naltrexone_depot", "naltrexone_bupropion"]
Via = Literal["code", "exact", "joined", "fuzzy"]

# -- the data file's shape -------------------------------------------------------------------


class _Rec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _ClassData(_Rec):
    id: str
    concern: Concern
    label: str
    reason: str
    sources: list[str] = Field(min_length=1)


class _WashoutData(_Rec):
    id: str
    days: DoseRange
    basis: str
    sources: list[str] = Field(min_length=1)


class _IngredientData(_Rec):
    id: str
    klass: str = Field(alias="class")
    washout: Literal["standard", "long_acting"]
    atc: list[str]
    rxnorm: list[str]
    snomed: list[str] = Field(default_factory=list)
    names: list[str] = Field(min_length=1)
    sources: list[str] = Field(min_length=1)


class _ProductData(_Rec):
    names: list[str] = Field(min_length=1)
    ingredients: list[str] = Field(min_length=1)
    klass: str | None = Field(default=None, alias="class")
    washout: str | None = None
    form: NaltrexoneForm | None = None
    strength_mg: Decimal | None = None
    sources: list[str] = Field(min_length=1)


class _MarkerData(_Rec):
    ingredient: str
    washout: str
    any_of: list[list[str]]
    sources: list[str] = Field(min_length=1)


class _AtcRule(_Rec):
    prefix: str
    klass: str = Field(alias="class")
    sources: list[str] = Field(min_length=1)


class _NonOpioidGroup(_Rec):
    group: str
    sources: list[str] = Field(min_length=1)
    drugs: dict[str, list[str]]


class _MedicationsData(_Rec):
    version: int
    classes: list[_ClassData]
    washouts: list[_WashoutData]
    ingredients: list[_IngredientData]
    products: list[_ProductData]
    depot_markers: list[_MarkerData]
    atc_rules: list[_AtcRule]
    non_opioids: list[_NonOpioidGroup]


# -- public result types ---------------------------------------------------------------------


@dataclass(frozen=True)
class MedClass:
    """A pharmacological class and what naltrexone screening does with it."""

    id: str
    concern: Concern
    label: str
    reason: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Washout:
    """Days from the last dose (injection, implant removal) before naltrexone may start."""

    id: str
    min_days: int
    max_days: int
    basis: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Ingredient:
    """One active ingredient the vocabulary knows."""

    id: str
    klass: MedClass
    washout: str
    sources: tuple[str, ...]

    @property
    def concern(self) -> Concern:
        return self.klass.concern


@dataclass(frozen=True)
class MatchEvidence:
    """Why an ingredient was read from the input: which text or code, how, how sure."""

    ingredient: str
    via: Via
    matched: str
    found: str
    score: float = 100.0

    def describe(self) -> str:
        if self.via == "code":
            return f"code {self.found}"
        if self.via == "fuzzy":
            return f"read '{self.found}' as '{self.matched}', spelling match {self.score:.0f}%"
        if self.via == "joined":
            return f"read '{self.found}' as '{self.matched}'"
        return f"'{self.matched}'"


@dataclass(frozen=True)
class Recognition:
    """What one medication line (and its codes) contains, with the evidence for each part.

    `strength_mg` is read only where it matters (naltrexone lines: LDN or standard dose)."""

    ingredients: tuple[Ingredient, ...]
    matches: tuple[MatchEvidence, ...]
    form: NaltrexoneForm | None = None
    washout: Washout | None = None
    klass_override: MedClass | None = None
    strength_mg: Decimal | None = None
    unknown: tuple[str, ...] = ()
    ambiguous: tuple[str, ...] = ()
    sources: tuple[str, ...] = field(default=())

    # Derived once at construction (a Recognition is memoised and read many times).
    opioids: tuple[Ingredient, ...] = field(init=False, repr=False, compare=False)
    peripheral: tuple[Ingredient, ...] = field(init=False, repr=False, compare=False)
    has_naltrexone: bool = field(init=False, repr=False, compare=False)
    opioid_summary: str = field(init=False, repr=False, compare=False)
    opioid_sources: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        put = object.__setattr__
        opioids = tuple(i for i in self.ingredients if i.concern == "opioid")
        put(self, "opioids", opioids)
        put(self, "peripheral", tuple(i for i in self.ingredients if i.concern == "peripheral"))
        put(self, "has_naltrexone", any(i.concern == "naltrexone" for i in self.ingredients))
        put(self, "opioid_summary", self.describe(opioids) if opioids else "")
        srcs = [s for i in opioids for s in (*self.klass_of(i).sources, *i.sources)]
        if opioids and self.washout is not None:
            srcs += self.washout.sources
        put(self, "opioid_sources", tuple(dict.fromkeys(srcs)))

    @property
    def recognised(self) -> bool:
        """True when at least one ingredient was named and no part was left unexplained."""
        return bool(self.ingredients) and not self.unknown and not self.ambiguous

    def klass_of(self, ingredient: Ingredient) -> MedClass:
        """The class a finding names: a product may say more (a cough syrup) than the drug."""
        if self.klass_override is not None and ingredient.concern == "opioid":
            return self.klass_override
        return ingredient.klass

    def describe(self, ingredients: Sequence[Ingredient] | None = None) -> str:
        """'oxycodone: full opioid agonist (read 'oxycodon' as 'oxycodone', 94%)' and so on."""
        parts = []
        for ing in ingredients if ingredients is not None else self.ingredients:
            how = "; ".join(
                dict.fromkeys(m.describe() for m in self.matches if m.ingredient == ing.id)
            )
            parts.append(f"{ing.id}: {self.klass_of(ing).label}" + (f", {how}" if how else ""))
        return "; ".join(parts)


# -- text normalisation ----------------------------------------------------------------------

# Words that say how, how much and how often, never what: units, forms, release, salts,
# routes, frequencies and chart instructions. They never count as an unknown drug name.
_NOISE_WORDS = """
    mg mgs mcg mcgs ug microgram micrograms milligram milligrams g gm gram grams ml mls l iu
    unit units meq mmol h hr hrs hour hours percent pct dose doses dosing mcghr mgml
    tab tabs tablet tablets cap caps capsule capsules soln solution sol oral liquid syrup syr
    susp suspension elixir film films strip strips patch patches transdermal td spray sprays
    nasal ns inj injection injectable inh inhaler inhalation neb nebuliser nebulizer cream gel
    ointment oint lotion drop drops lozenge lozenges troche buccal sublingual sl powder sachet
    sachets granules supp suppository suppositories pen pens vial vials amp amps ampoule kit
    tincture concentrate intensol dispersible effervescent chewable odt orodispersible ec dr
    enteric coated er ir sr cr xr xl la mr cd extended immediate sustained controlled modified
    delayed release released prolonged retard forte max maximum strength extra junior
    pediatric paediatric adult adults generic brand otc rx
    hcl hydrochloride hbr hydrobromide sulfate sulphate sulf bitartrate tartrate phosphate
    citrate acetate sodium mesylate maleate besylate succinate fumarate gluconate malate
    napsylate bromide chloride dihydrate monohydrate anhydrous base salt trihydrate
    po by mouth orally iv im sc sq subq subcut topical topically pr apply take takes taking
    use using give inject place dissolve chew swallow insert route
    prn as needed required when necessary daily once twice thrice three four times a an day
    days per each every q qd od bid bd tid tds qid qds qhs hs qam qpm am pm nightly night
    nights nocte mane morning mornings evening evenings bedtime weekly monthly week weeks
    month months hourly stat x
    with without food meals meal water milk after before for of the to and or in on at up
    not do exceed one two half quarter refill refills disp dispense qty quantity sig
    home med meds medication medications medicine medicines patient reported historical
    hold held holding stop stopped discontinued dc active inactive prescribed prescription
    taper tapering clinic program programme pharmacy directed see instructions label note
    breakthrough severe moderate mild pain pains nerve back neuropathy neuropathic sleep
    anxiety mood depression headache headaches spasm spasms muscle cough cold allergy
    allergies blood pressure bp cholesterol sugar diabetes thyroid stomach heartburn reflux
    constipation diarrhea diarrhoea nausea vomiting inflammation arthritis joint joints knee
    fibromyalgia supplement supplements vitamin vitamins only also then if until total
    maintenance prn  approx about usual current currently ongoing long term short
    mouthwash unknown other system systems pamoate hfa bit
"""
_NOISE = frozenset(_NOISE_WORDS.split())

# A line that only says there is nothing ("none", "no current medications", "nil").
_NOTHING_WORDS = frozenset(
    [
        "none",
        "nil",
        "no",
        "not",
        "any",
        "na",
        "n",
        "a",
        "current",
        "currently",
        "regular",
        "known",
        "medications",
        "medication",
        "meds",
        "med",
        "taking",
        "takes",
    ]
)
_NOTHING_MARKERS = frozenset({"none", "nil", "no", "na"})

_SEPARATORS = re.compile(r"[/+&;|]|\bwith\b|\band\b|(?<=[a-z])-(?=[a-z])")
_RAW_TOKEN = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")
# One pass over a line: a separator (group 1) or a raw token (group 2).
_LEXER = re.compile(rf"({_SEPARATORS.pattern})|({_RAW_TOKEN.pattern})")
_SPLIT_GLUED = re.compile(r"[0-9]+(?:\.[0-9]+)?|[a-z]+")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_UNIT_FACTOR = {"mg": Decimal(1), "milligram": Decimal(1), "milligrams": Decimal(1)}
_UNIT_FACTOR |= {u: Decimal("0.001") for u in ("mcg", "ug", "microgram", "micrograms")}
_UNIT_FACTOR |= {u: Decimal(1000) for u in ("g", "gm", "gram", "grams")}

_ATC_SYSTEMS = {
    "http://www.whocc.no/atc",
    "https://www.whocc.no/atc",
    "atc",
    "whocc",
    "urn:oid:2.16.840.1.113883.6.73",
}
_SNOMED_SYSTEMS = {
    "http://snomed.info/sct",
    "https://snomed.info/sct",
    "snomed",
    "sct",
    "snomed ct",
}
_RXNORM_SYSTEMS = {
    "http://www.nlm.nih.gov/research/umls/rxnorm",
    "https://www.nlm.nih.gov/research/umls/rxnorm",
    "rxnorm",
    "rxcui",
    "urn:oid:2.16.840.1.113883.6.88",
}


_WITH = re.compile(r"\bw/(?=\s|[a-z])")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")


def _normalise(text: str) -> str:
    """Lower-case ASCII with chart shorthands spelled out ("w/" -> with, "#3" -> 3)."""
    if not text.isascii():
        text = text.replace("\u00b5", "u").replace("\u03bc", "u")  # micro sign: 25 ug/h
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    low = text.lower().replace("#", " ")
    if "w/" in low:
        low = _WITH.sub(" with ", low)
    if "," in low:
        low = _THOUSANDS.sub("", low)  # 50,000 units -> 50000
    return low


def _split_names(name: str) -> tuple[str, ...]:
    """A vocabulary name as the token tuple the recogniser compares against (separator
    words such as "with" dropped, as they are from chart text)."""
    return tuple(_SPLIT_GLUED.findall(_SEPARATORS.sub(" ", _normalise(name))))


def _system_kind(system: str) -> str | None:
    s = system.strip().lower().rstrip("/")
    if s in _ATC_SYSTEMS or s.endswith("whocc.no/atc"):
        return "atc"
    if s in _RXNORM_SYSTEMS:
        return "rxnorm"
    if s in _SNOMED_SYSTEMS:
        return "snomed"
    return None


class _Token:
    """A word of a medication line while it is being matched."""

    __slots__ = ("segment", "text", "used")

    def __init__(self, text: str, segment: int) -> None:
        self.text = text
        self.segment = segment
        self.used = False


# (matches, unexplained words, ambiguous spellings, all words, names naltrexone)
_Stage = tuple[
    tuple[tuple[tuple[str, ...], "_ProductData | None", "MatchEvidence"], ...],
    tuple[str, ...],
    tuple[str, ...],
    frozenset[str],
    bool,
]


class Recogniser:
    """The vocabulary of one evidence base, compiled for fast lookups.

    Build it once per `Evidence` (see `recogniser`); `text` and `codes` are memoised, so a
    clinic's few hundred distinct medication strings cost one parse each.
    """

    def __init__(self, ev: Evidence) -> None:
        data = ev.section("medications", _MedicationsData)
        self.classes = {
            c.id: MedClass(c.id, c.concern, c.label, c.reason, tuple(c.sources))
            for c in data.classes
        }
        safety = ev.dosing.safety
        std_src = tuple(safety.opioid_free_sources)
        self.washouts: dict[str, Washout] = {
            "standard": Washout(
                "standard",
                int(safety.opioid_free_days.min),
                int(safety.opioid_free_days.max),
                "opioid-free window before naltrexone",
                std_src,
            ),
            "long_acting": Washout(
                "long_acting",
                safety.long_acting_opioid_free_days,
                safety.long_acting_opioid_free_days,
                "buprenorphine or methadone: withdrawal can be precipitated for up to two weeks",
                std_src,
            ),
        }
        for w in data.washouts:
            self.washouts[w.id] = Washout(
                w.id, int(w.days.min), int(w.days.max), w.basis, tuple(w.sources)
            )
        self.ingredients: dict[str, Ingredient] = {}
        self._names: dict[tuple[str, ...], tuple[tuple[str, ...], _ProductData | None]] = {}
        self._atc_exact: dict[str, str] = {}
        self._rxnorm: dict[str, str] = {}
        self._snomed: dict[str, str] = {}
        for i in data.ingredients:
            klass = self._class(i.klass, f"ingredients.{i.id}.class")
            self.ingredients[i.id] = Ingredient(i.id, klass, i.washout, tuple(i.sources))
            for name in (i.id, *i.names):
                self._add_name(name, (i.id,), None)
            self._atc_exact.update({code.upper(): i.id for code in i.atc})
            self._rxnorm.update({code: i.id for code in i.rxnorm})
            self._snomed.update({code: i.id for code in i.snomed})
        non_opioid = self._class("non_opioid", "classes")
        for group in data.non_opioids:
            for generic, others in group.drugs.items():
                key = generic.replace(" ", "_")
                if key not in self.ingredients:
                    self.ingredients[key] = Ingredient(
                        key, non_opioid, "standard", tuple(group.sources)
                    )
                for name in (generic, *others):
                    if _split_names(name) not in self._names:
                        self._add_name(name, (key,), None)
        for p in data.products:
            for ing in p.ingredients:
                if ing not in self.ingredients:
                    raise EvidenceError(f"medications.yaml: products: unknown ingredient {ing!r}")
            if p.klass is not None:
                self._class(p.klass, "products.class")
            if p.washout is not None and p.washout not in self.washouts:
                raise EvidenceError(f"medications.yaml: products: unknown washout {p.washout!r}")
            for name in p.names:
                self._add_name(name, tuple(p.ingredients), p)
        self._markers = data.depot_markers
        for m in self._markers:
            if m.washout not in self.washouts or m.ingredient not in self.ingredients:
                raise EvidenceError(f"medications.yaml: depot_markers: {m.ingredient}/{m.washout}")
        self._atc_rules = sorted(data.atc_rules, key=lambda r: -len(r.prefix))
        for r in self._atc_rules:
            self._class(r.klass, f"atc_rules.{r.prefix}")
        lengths: dict[str, set[int]] = {}
        for k in self._names:
            lengths.setdefault(k[0], set()).add(len(k))
        # For each first token, the name lengths to try, longest first.
        self._lengths = {t: tuple(sorted(ls, reverse=True)) for t, ls in lengths.items()}
        # Numbers that are part of a name ("tylenol 3", "df 118") or a marker ("380").
        self._kept_numbers = frozenset(
            w
            for words in (*self._names, *(o for m in data.depot_markers for o in m.any_of))
            for w in words
            if w[:1].isdigit()
        )
        single = {k[0] for k in self._names if len(k) == 1 and len(k[0]) >= 4 and k[0].isalpha()}
        # Candidates by length: an 82% similarity leaves at most a 2-letter length difference
        # for words up to 13 letters, 3 beyond, so only nearby lengths are scored.
        self._single_by_len: dict[int, list[str]] = {}
        for name in sorted(single):
            self._single_by_len.setdefault(len(name), []).append(name)
        self._single_owner = {k[0]: v[0] for k, v in self._names.items() if len(k) == 1}
        self._first_tokens = {k[0] for k in self._names}
        self._fuzzy_choices = lru_cache(maxsize=None)(self._fuzzy_choices_uncached)
        self.ldn_max_mg = ev.dosing.general.maximum_mg.max
        # Bounded memos: a clinic has a few thousand distinct lines; larger caches only add
        # objects for the garbage collector to walk when every line is new.
        self.text = lru_cache(maxsize=4_096)(self._text)
        self.codes = lru_cache(maxsize=4_096)(self._codes)
        self._match = lru_cache(maxsize=16_384)(self._match_uncached)
        self._assembled = lru_cache(maxsize=16_384)(self._assembled_uncached)
        self._plain = lru_cache(maxsize=16_384)(self._plain_uncached)
        self._coded = lru_cache(maxsize=16_384)(self._medication)

    def _class(self, klass: str, where: str) -> MedClass:
        if klass not in self.classes:
            raise EvidenceError(f"medications.yaml: {where}: unknown class {klass!r}")
        return self.classes[klass]

    def _add_name(
        self, name: str, ingredients: tuple[str, ...], product: _ProductData | None
    ) -> None:
        key = _split_names(name)
        if key:
            self._names[key] = (ingredients, product)

    # -- text -----------------------------------------------------------------------------
    def _tokens(self, text: str) -> list[tuple[str, int]]:
        """(token, segment) pairs; segments are the parts between combination separators."""
        out: list[tuple[str, int]] = []
        segment = 0
        first = self._first_tokens
        for sep, raw in _LEXER.findall(_normalise(text)):
            if sep:
                segment += 1
            elif raw.isalpha() or raw in first or _NUMBER.fullmatch(raw):
                out.append((raw, segment))
            else:  # glued: oxycodone5mg, q6h
                out += [(t, segment) for t in _SPLIT_GLUED.findall(raw)]
        return out

    def _key(self, text: str) -> tuple[tuple[str, int], ...]:
        """The matching key of a line: its (token, segment) pairs with every number that no
        name or marker uses masked as "#", so lines differing only in strength share it.

        Same tokens as `_tokens`, built in one pass with the common case (a plain word) tested
        first: a line the recogniser has never seen (a per-patient strength makes every chart
        line new) pays only for this pass and one memo lookup."""
        key: list[tuple[str, int]] = []
        segment = 0
        first, kept = self._first_tokens, self._kept_numbers
        for sep, raw in _LEXER.findall(_normalise(text)):
            if sep:
                segment += 1
            elif raw.isalpha():
                key.append((raw, segment))
            elif raw in first or _NUMBER.fullmatch(raw):
                key.append((raw if raw in kept or not raw[0].isdigit() else "#", segment))
            else:  # glued: oxycodone5mg, q6h
                key += [
                    (t if t in kept or not t[0].isdigit() else "#", segment)
                    for t in _SPLIT_GLUED.findall(raw)
                ]
        return tuple(key)

    def says_nothing(self, text: str) -> bool:
        """True for a line that records no medication at all ("none", "no current meds")."""
        words = [w for w, _ in self._tokens(text)]
        if words == ["n", "a"]:  # N/A
            return True
        return bool(words) and set(words) <= _NOTHING_WORDS and bool(set(words) & _NOTHING_MARKERS)

    def _text(self, text: str) -> Recognition:
        """Recognise one line. Numbers that no name or marker uses are masked before the
        (memoised) matching, so lines differing only in strength or frequency share it; the
        strength itself is read per line, and matters only for naltrexone."""
        key = self._key(text)
        plain = self._plain(key)
        if plain is not None:
            return plain
        return self._assembled(key, _strength_mg(self._tokens(text)))

    def _plain_uncached(self, key: tuple[tuple[str, int], ...]) -> Recognition | None:
        """The recognition of a key that names no naltrexone (its strength is never read, so
        one lookup answers every line with this key), or None for a naltrexone key."""
        if self._match(key)[4]:
            return None
        return self._assembled_uncached(key, None)

    def _match_uncached(self, key: tuple[tuple[str, int], ...]) -> _Stage:
        tokens = [_Token(w, seg) for w, seg in key]
        found: list[tuple[tuple[str, ...], _ProductData | None, MatchEvidence]] = []
        i = 0
        while i < len(tokens):
            hit = None
            for length in self._lengths.get(tokens[i].text, ()):
                if i + length > len(tokens):
                    continue
                names_key = tuple(t.text for t in tokens[i : i + length])
                if names_key in self._names:
                    hit = (names_key, length)
                    break
            if hit is None:
                i += 1
                continue
            names_key, length = hit
            ings, product = self._names[names_key]
            for t in tokens[i : i + length]:
                t.used = True
            alias = " ".join(names_key)
            found += [(ings, product, MatchEvidence(ing, "exact", alias, alias)) for ing in ings]
            i += length
        ambiguous: list[str] = []
        # Leftover words that look like drug names: a split name, then a near-miss spelling.
        for j, tok in enumerate(tokens):
            if tok.used or not _drug_like(tok.text):
                continue
            nxt = tokens[j + 1] if j + 1 < len(tokens) else None
            if nxt is not None and not nxt.used and nxt.text.isalpha():
                joined = tok.text + nxt.text
                if (joined,) in self._names:
                    ings, product = self._names[(joined,)]
                    tok.used = nxt.used = True
                    found += [
                        (
                            ings,
                            product,
                            MatchEvidence(ing, "joined", joined, f"{tok.text} {nxt.text}"),
                        )
                        for ing in ings
                    ]
                    continue
            if len(tok.text) < 5:
                continue
            guess = self._fuzzy(tok.text)
            if guess is None:
                continue
            if isinstance(guess, str):
                ambiguous.append(guess)
                tok.used = True
                continue
            alias, score = guess
            ings, product = self._names[(alias,)]
            tok.used = True
            found += [
                (ings, product, MatchEvidence(ing, "fuzzy", alias, tok.text, score)) for ing in ings
            ]
        has_naltrexone = any("naltrexone" in ings for ings, _, _ in found)
        return (
            tuple(found),
            self._unexplained(tokens),
            tuple(ambiguous),
            frozenset(t.text for t in tokens),
            has_naltrexone,
        )

    def _assembled_uncached(
        self, key: tuple[tuple[str, int], ...], strength: Decimal | None
    ) -> Recognition:
        found, unknown, ambiguous, words, _ = self._match(key)
        return self._assemble(words, found, unknown, ambiguous, strength)

    def _fuzzy(self, token: str) -> tuple[str, float] | str | None:
        """The one name `token` misspells, a description of a tie, or None.

        The score is the optimal-string-alignment similarity (an edit or a swap of two
        neighbouring letters costs one) over the longer word, in percent. Seven letters or more
        may carry one slip (85%); five or six letters need 83%, so only a six-letter word with
        one slip passes and a five-letter word must be exact. When an opioid and a non-opioid
        score within 3 points the token is not read as either: screening asks instead.
        """
        cutoff = 85.0 if len(token) >= 7 else 83.0
        spread = 2 if len(token) <= 13 else 3
        choices = self._fuzzy_choices(len(token), spread)
        hits = process.extract(
            token,
            choices,
            scorer=OSA.normalized_similarity,
            processor=None,
            limit=4,
            score_cutoff=(cutoff - 3) / 100,
        )
        if not hits or hits[0][1] * 100 < cutoff:
            return None
        best, score, _ = hits[0]
        score *= 100
        best_concern = self._concern_of(best)
        for other, other_score, _ in hits[1:]:
            if score - other_score * 100 > 3:
                break
            if self._concern_of(other) != best_concern:
                return f"'{token}' could be '{best}' or '{other}'"
        return best, float(score)

    def _fuzzy_choices_uncached(self, length: int, spread: int) -> tuple[str, ...]:
        """The single-word names within `spread` letters of `length`, shortest first (as
        `_fuzzy` scores them). Memoised: rebuilding the list cost more than scoring it."""
        return tuple(
            c
            for n in range(length - spread, length + spread + 1)
            for c in self._single_by_len.get(n, ())
        )

    def _concern_of(self, name: str) -> frozenset[Concern]:
        return frozenset(self.ingredients[i].concern for i in self._single_owner[name])

    @staticmethod
    def _unexplained(tokens: list[_Token]) -> tuple[str, ...]:
        """Drug-like words in segments that named nothing known (e.g. 'paracetamol/xyzzy')."""
        explained = {t.segment for t in tokens if t.used}
        return tuple(
            dict.fromkeys(
                t.text
                for t in tokens
                if not t.used and t.segment not in explained and _drug_like(t.text)
            )
        )

    def _assemble(
        self,
        words: frozenset[str],
        found: Sequence[tuple[tuple[str, ...], _ProductData | None, MatchEvidence]],
        unknown: tuple[str, ...],
        ambiguous: Sequence[str],
        strength: Decimal | None,
    ) -> Recognition:
        ids = list(dict.fromkeys(m.ingredient for _, _, m in found))
        ingredients = tuple(self.ingredients[i] for i in ids)
        products = [p for _, p, _ in found if p is not None]
        sources: list[str] = []
        for ing in ingredients:
            sources += ing.klass.sources
        form: NaltrexoneForm | None = None
        washout: Washout | None = None
        klass_override: MedClass | None = None
        for p in products:
            sources += p.sources
            if p.klass is not None:
                klass_override = self.classes[p.klass]
            if p.washout is not None:
                washout = _longer(washout, self.washouts[p.washout])
            if p.form is not None:
                form = _stronger_form(form, p.form)
            if p.strength_mg is not None and strength is None:
                strength = p.strength_mg
        for m in self._markers:
            if m.ingredient in ids and any(all(w in words for w in opt) for opt in m.any_of):
                if m.ingredient == "naltrexone" and form in ("ldn", "naltrexone_bupropion"):
                    continue
                sources += m.sources
                if m.ingredient == "naltrexone":
                    form = _stronger_form(form, "naltrexone_depot")
                washout = _longer(washout, self.washouts[m.washout])
        if "naltrexone" in ids and form is None:
            if "bupropion" in ids:
                form = "naltrexone_bupropion"
            elif strength is not None:
                form = "ldn" if strength <= self.ldn_max_mg else "standard_naltrexone"
        opioids = [i for i in ingredients if i.concern == "opioid"]
        if opioids or form == "naltrexone_depot":
            base = [self.washouts[i.washout] for i in opioids]
            for w in base:
                washout = _longer(washout, w)
        if washout is not None:
            sources += washout.sources
        return Recognition(
            ingredients=ingredients,
            matches=tuple(m for _, _, m in found),
            form=form,
            washout=washout,
            klass_override=klass_override,
            strength_mg=strength,
            unknown=unknown,
            ambiguous=tuple(ambiguous),
            sources=tuple(dict.fromkeys(sources)),
        )

    # -- codes ----------------------------------------------------------------------------
    def _codes(self, codes: tuple[Coding, ...]) -> tuple[tuple[str, MatchEvidence], ...]:
        """(ingredient id, evidence) for every coding the vocabulary knows."""
        out: list[tuple[str, MatchEvidence]] = []
        for c in codes:
            kind = _system_kind(c.system)
            code = c.code.strip()
            if kind == "atc":
                atc = code.upper().replace(" ", "")
                ing = self._atc_exact.get(atc) or self._atc_class_ingredient(atc)
                if ing is not None:
                    out.append((ing, MatchEvidence(ing, "code", atc, f"ATC {atc}")))
            elif kind == "rxnorm" and code in self._rxnorm:
                ing = self._rxnorm[code]
                out.append((ing, MatchEvidence(ing, "code", code, f"RxNorm {code}")))
            elif kind == "snomed" and code in self._snomed:
                ing = self._snomed[code]
                out.append((ing, MatchEvidence(ing, "code", code, f"SNOMED CT {code}")))
        return tuple(out)

    def _atc_class_ingredient(self, atc: str) -> str | None:
        """An ATC code with no listed ingredient: its class from the longest prefix rule."""
        rule = next((r for r in self._atc_rules if atc.startswith(r.prefix)), None)
        if rule is None:
            return None
        key = f"ATC {atc}"
        if key not in self.ingredients:
            washout = "long_acting" if atc.startswith("N07BC") else "standard"
            self.ingredients[key] = Ingredient(
                key, self.classes[rule.klass], washout, tuple(rule.sources)
            )
        return key

    def medication(self, name: str, codes: tuple[Coding, ...] = ()) -> Recognition:
        """Recognise a medication line and its codes (memoised per distinct name and codes).

        A line without codes is its text's recognition, so it goes straight to the `text`
        memo: a second memo over the same lines would only add a miss per new line."""
        return self._coded(name, codes) if codes else self.text(name)

    def _medication(self, name: str, codes: tuple[Coding, ...] = ()) -> Recognition:
        """Recognise a medication line and its codes; codes win, text can only add risk."""
        from_text = self.text(name) if not codes else self._text_with_displays(name, codes)
        coded = self.codes(codes) if codes else ()
        if not coded:
            return from_text
        ids = list(dict.fromkeys(i for i, _ in coded))
        matches = [m for _, m in coded]
        # Text may add what codes missed only in the safe direction: an opioid or naltrexone.
        for ing in from_text.ingredients:
            if ing.id not in ids and ing.concern in ("opioid", "naltrexone"):
                ids.append(ing.id)
                matches += [m for m in from_text.matches if m.ingredient == ing.id]
        ingredients = tuple(self.ingredients[i] for i in ids)
        sources = [s for i in ingredients for s in i.klass.sources]
        washout = from_text.washout
        for ing in ingredients:
            if ing.concern == "opioid":
                washout = _longer(washout, self.washouts[ing.washout])
        form = from_text.form
        if "naltrexone" in ids and form is None and from_text.strength_mg is not None:
            form = "ldn" if from_text.strength_mg <= self.ldn_max_mg else "standard_naltrexone"
        if washout is not None:
            sources += washout.sources
        return Recognition(
            ingredients=ingredients,
            matches=tuple(matches),
            form=form,
            washout=washout,
            klass_override=from_text.klass_override,
            strength_mg=from_text.strength_mg,
            sources=tuple(dict.fromkeys([*sources, *from_text.sources])),
        )

    def _text_with_displays(self, name: str, codes: tuple[Coding, ...]) -> Recognition:
        """Text recognition of the name, falling back to the codings' display texts."""
        rec = self.text(name)
        if rec.recognised:
            return rec
        for c in codes:
            if c.display:
                alt = self.text(c.display)
                if alt.recognised:
                    return alt
        return rec


def _drug_like(word: str) -> bool:
    return len(word) >= 3 and word.isalpha() and word not in _NOISE


def _strength_mg(pairs: Sequence[tuple[str, int]]) -> Decimal | None:
    """The first strength written with a unit (4.5 mg, 50mg, 500 mcg) in milligrams."""
    for (a, _), (b, _) in itertools.pairwise(pairs):
        if b in _UNIT_FACTOR and _NUMBER.fullmatch(a):
            try:
                return Decimal(a) * _UNIT_FACTOR[b]
            except InvalidOperation:
                return None
    return None


def _longer(a: Washout | None, b: Washout) -> Washout:
    return b if a is None or b.max_days > a.max_days else a


_FORM_RANK = {"ldn": 0, "standard_naltrexone": 1, "naltrexone_depot": 2, "naltrexone_bupropion": 3}


def _stronger_form(a: NaltrexoneForm | None, b: NaltrexoneForm) -> NaltrexoneForm:
    return b if a is None or _FORM_RANK[b] > _FORM_RANK[a] else a


@lru_cache(maxsize=8)
def recogniser(ev: Evidence | None = None) -> Recogniser:
    """The compiled vocabulary of `ev` (default: the bundled evidence), built once."""
    return Recogniser(ev or default_evidence())


def recognise_text(text: str, evidence: Evidence | None = None) -> Recognition:
    """Recognise a medication written as text only."""
    return recogniser(evidence or default_evidence()).text(text)


def recognise(med: Medication, evidence: Evidence | None = None) -> Recognition:
    """Recognise a chart medication: its codes first, then its name."""
    return recogniser(evidence or default_evidence()).medication(med.name, med.codes)


def find_opioid(drug_name: str, evidence: Evidence | None = None) -> Ingredient | None:
    """The first opioid a medication line names (any wording), or None: for callers that only
    need a yes/no; screening uses the full `Recognition` with its evidence."""
    opioids = recogniser(evidence or default_evidence()).text(drug_name).opioids
    return opioids[0] if opioids else None


def is_naltrexone_bupropion(drug_name: str, evidence: Evidence | None = None) -> bool:
    """True for naltrexone-bupropion (Contrave, Mysimba) however it is written."""
    return recogniser(evidence or default_evidence()).text(drug_name).form == "naltrexone_bupropion"
