"""The shipped lexicon as one vocabulary: domain words, domain synonym groups and the
bilingual glossary merged (a glossary group whose Chinese term belongs to a domain group
joins that group, so each term is in exactly one group)."""

from __future__ import annotations

import functools

from knowledge.lexicon.domain import SYNONYMS, VERSION, WORDS
from knowledge.lexicon.glossary import GLOSSARY
from knowledge.text import normalise

__all__ = ["VERSION", "shipped_vocabulary"]


@functools.cache
def shipped_vocabulary() -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """(words, synonym groups) of the shipped lexicon; the first term of a group is canonical."""
    groups = [list(group) for group in SYNONYMS]
    group_of = {normalise(term): group for group in groups for term in group}
    for chinese, *english in GLOSSARY:
        group = group_of.get(normalise(chinese))
        if group is None:
            group = [chinese]
            groups.append(group)
            group_of[normalise(chinese)] = group
        for term in english:
            if normalise(term) not in group_of:
                group.append(term)
                group_of[normalise(term)] = group
    words = tuple(dict.fromkeys(WORDS.split()))
    return words, tuple(tuple(group) for group in groups if len(group) > 1)
