"""The patient's on-screen handout: no source keys after each sentence, sources kept at the end."""

from __future__ import annotations

import re

from ldnkit.interop.documents import document_view, without_inline_citations


def test_inline_keys_go_and_the_reference_list_stays(patient, surgery_plan):
    view = document_view("handout", surgery_plan, patient)
    assert any(re.search(r"\[[\w.:, -]+\]$", b) for s in view.sections for b in s.bullets)
    plain = without_inline_citations(view)
    texts = [t for s in plain.sections for t in (*s.bullets, *s.paragraphs)]
    assert texts and not any(re.search(r"\[[\w.:, -]+\]$", t) for t in texts)
    assert plain.references == view.references and len(plain.sections) == len(view.sections)
    # Only the trailing keys go: each statement still starts the same way.
    for before, after in zip(view.sections, plain.sections, strict=True):
        for b, a in zip(before.bullets, after.bullets, strict=True):
            assert b.startswith(a)
