import pytest

from dialogue.demo import seed
from dialogue.models import ChatSession, Message, SessionStatus

pytestmark = pytest.mark.django_db


def test_seed_is_idempotent(scope_a):
    assert seed(scope_a)
    counts = (ChatSession.objects.count(), Message.objects.count())
    assert seed(scope_a) == ""
    assert (ChatSession.objects.count(), Message.objects.count()) == counts
    assert ChatSession.objects.filter(status=SessionStatus.HANDED_OFF).count() == 1
