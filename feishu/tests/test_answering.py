"""The answer card's sources: the titles the pipeline already has, read only when not."""

import pytest

from dialogue import pipeline
from dialogue.models import Message
from feishu import answering
from helpdesk.tenancy import tenant_scope
from knowledge.services import entry_create

pytestmark = pytest.mark.django_db


def test_the_sources_are_the_replys_titles_without_a_query(django_assert_num_queries):
    answer = Message(content="…", citations=[3, 1, 9, "x"])
    reply = pipeline.Reply(None, None, answer, titles={3: "C?", 1: "A?", 9: ""})
    with django_assert_num_queries(0):
        assert answering._sources(reply) == ["C?", "A?"]


def test_a_duplicate_reply_reads_the_titles(tenant_a):
    with tenant_scope(tenant_a):
        first = entry_create(question="如何退款？", answer="…", verified=True)
        second = entry_create(question="如何开票？", answer="…", verified=True)
        answer = Message(content="…", citations=[second.pk, first.pk])
        reply = pipeline.Reply(None, None, answer, duplicate=True)
        assert answering._sources(reply) == ["如何开票？", "如何退款？"]
    assert answering._sources(pipeline.Reply(None, None, None)) == []
