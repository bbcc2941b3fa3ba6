"""The JSON nesting bound: the byte-level depth count agrees with the parsed document's depth,
whatever strings (with brackets, quotes and escapes) the document holds."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ldnkit import jsonbounds

documents = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab\n\u00e9', max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(alphabet='[]{}"\\k', max_size=4), inner, max_size=3)
    ),
    max_leaves=20,
)


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


@settings(max_examples=300, deadline=None)
@given(documents, st.booleans())
def test_depth_matches_the_parsed_document(doc: Any, ascii_only: bool) -> None:
    raw = json.dumps(doc, ensure_ascii=ascii_only)
    assert jsonbounds.json_depth(raw) == _depth(doc)
    assert jsonbounds.json_depth(raw.encode()) == _depth(doc)


@pytest.mark.parametrize("depth", [64, 65, 5000, 200_000])
def test_loads_refuses_deep_documents_without_recursion_error(depth: int) -> None:
    raw = "[" * depth + "]" * depth
    if depth <= jsonbounds.MAX_DEPTH:
        assert jsonbounds.loads(raw) is not None
        return
    with pytest.raises(jsonbounds.JsonTooDeep) as err:
        jsonbounds.loads(raw)
    assert err.value.depth == depth


def test_a_raised_limit_still_never_leaks_recursion_error() -> None:
    with pytest.raises(jsonbounds.JsonTooDeep):
        jsonbounds.loads("[" * 200_000 + "]" * 200_000, limit=10**9)


def test_invalid_json_is_one_error() -> None:
    for raw in (b"{oops", b"\xff\xfe", b'["unterminated'):
        with pytest.raises(jsonbounds.JsonInvalid):
            jsonbounds.loads(raw)
