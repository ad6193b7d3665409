"""Demo knowledge base for `manage.py seed_demo` (idempotent: keyed by content hash).

The entries, dictionary and synonyms are those of the development evaluation set (on
top of the shipped lexicon), so the demo tenant searches the way the evaluation measures.
"""

from __future__ import annotations

from knowledge import entries, services
from knowledge.evaluation.run import load_dataset
from knowledge.models import KnowledgeEntry

UNVERIFIED_EVERY = 7  # leave some drafts for the verify workflow


def seed(tenant) -> str:
    dataset = load_dataset()
    services.vocabulary_seed_shipped()
    services.vocabulary_add(words=dataset["dictionary"], synonyms=dataset["synonyms"])
    existing = set(KnowledgeEntry.objects.values_list("content_hash", flat=True))
    created = 0
    for number, item in enumerate(dataset["entries"]):
        if entries.content_hash(item["question"], item["answer"]) in existing:
            continue
        services.entry_create(
            question=item["question"],
            answer=item["answer"],
            category=item["category"],
            tags=item["tags"],
            verified=number % UNVERIFIED_EVERY != 0,
        )
        created += 1
    return f"{created} knowledge entries"
