"""YAML reading that refuses duplicate mapping keys.

PyYAML's `safe_load` keeps the last of two equal keys without a word, so a patient file with
`pregnancy: pregnant` and later `pregnancy: not_pregnant` would be screened as not pregnant.
Every YAML input of ldnkit (patient files, diaries, the evidence base) is read through
`load_yaml`, which fails with the duplicated key named, its line, and the line of the first one;
JSON inputs (FHIR Bundles, CDS requests, regimen files) go through `load_json` likewise.
"""

from __future__ import annotations

import json
from typing import IO, Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode

_MERGE_TAG = "tag:yaml.org,2002:merge"


class DuplicateKeyError(ConstructorError):
    """A mapping holds the same key twice; `key` is the key, as written."""

    def __init__(self, key: Any, first: yaml.Mark, again: yaml.Mark) -> None:
        self.key = key
        super().__init__(
            "while reading a mapping",
            first,
            f"duplicate key {key!r} (first on line {first.line + 1})",
            again,
        )


#: libyaml's safe loader when PyYAML was built with it (same results, several times faster on
#: the large evidence files such as medications.yaml), else the pure-Python one.
_SafeBase: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class UniqueKeyLoader(_SafeBase):  # type: ignore[misc,valid-type]
    """A safe YAML loader that raises `DuplicateKeyError` instead of keeping the last value.

    Merge keys (`<<: *defaults`) keep their YAML meaning: explicit keys may override merged
    ones; only keys written twice in the same mapping are refused.
    """

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            seen: dict[Any, yaml.Mark] = {}
            for key_node, _ in node.value:
                if key_node.tag == _MERGE_TAG:
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:
                    continue  # an unhashable key: the base class reports it
                if first is not None:
                    raise DuplicateKeyError(key, first, key_node.start_mark)
                seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


def load_yaml(stream: str | bytes | IO[str] | IO[bytes]) -> Any:
    """Parse one YAML document safely, refusing duplicate keys (`yaml.YAMLError` subclasses)."""
    return yaml.load(stream, Loader=UniqueKeyLoader)


class DuplicateJsonKeyError(json.JSONDecodeError):
    """A JSON object holds the same key twice (`json.loads` would keep the last silently).

    A `JSONDecodeError`, so every existing "not valid JSON" handler refuses it too.
    """

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"duplicate key {key!r}", "", 0)

    def __str__(self) -> str:
        return self.msg


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DuplicateJsonKeyError(key)
        out[key] = value
    return out


def load_json(text: str | bytes) -> Any:
    """`json.loads` that refuses duplicate keys, for the JSON inputs (FHIR Bundles, files)."""
    return json.loads(text, object_pairs_hook=_unique_pairs)


def describe_error(exc: yaml.YAMLError) -> str:
    """One line for a YAML error: what is wrong and where (line numbers from 1)."""
    problem = getattr(exc, "problem", None)
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}" if mark is not None else ""
    if isinstance(exc, DuplicateKeyError):
        return f"{problem}{where}"
    return f"not valid YAML{where} ({problem})" if problem else f"not valid YAML{where}"


__all__ = [
    "DuplicateJsonKeyError",
    "DuplicateKeyError",
    "UniqueKeyLoader",
    "describe_error",
    "load_json",
    "load_yaml",
]
