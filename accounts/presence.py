"""Whether support staff are at their desk: online, away, or gone.

The staff desk sets a user's presence when it connects and refreshes it with a
heartbeat; it lives in the shared cache for `PRESENCE_TTL_SECONDS`, so a desk that
vanished without saying goodbye drops out on its own. Every process and the admin read
the same keys. Without a working cache nobody is shown online (logged).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from helpdesk.roles import Role

logger = logging.getLogger(__name__)

PRESENCE_TTL_SECONDS = 60
HEARTBEAT_SECONDS = 20


class Presence(StrEnum):
    ONLINE = "online"
    AWAY = "away"

    @property
    def label(self) -> str:
        return str(_("Online") if self is Presence.ONLINE else _("Away"))


@dataclass(frozen=True)
class StaffPresence:
    user_id: int
    name: str
    presence: Presence


def _key(user: User) -> str:
    return f"presence:{user.tenant_id}:{user.pk}"


def presence_set(*, user: User, presence: Presence) -> None:
    try:
        cache.set(_key(user), presence.value, timeout=PRESENCE_TTL_SECONDS)
    except Exception as exc:
        logger.warning("Presence of user %s not saved (cache unavailable: %s).", user.pk, exc)


def presence_clear(*, user: User) -> None:
    try:
        cache.delete(_key(user))
    except Exception as exc:
        logger.warning("Presence of user %s not cleared (cache unavailable: %s).", user.pk, exc)


def presence_of(users: list[User]) -> dict[int, Presence]:
    """The presence of each user who is at a desk (the others are left out)."""
    keys = {_key(user): user.pk for user in users}
    try:
        found = cache.get_many(list(keys))
    except Exception as exc:
        logger.warning("Presence not read (cache unavailable: %s).", exc)
        return {}
    return {keys[key]: Presence(value) for key, value in found.items()}


def staff_present(tenant_id: int) -> list[StaffPresence]:
    """The tenant's agents and administrators at a desk, online first."""
    staff = [
        user
        for user in User.objects.filter(tenant_id=tenant_id, is_active=True)
        if user.has_role(Role.AGENT)
    ]
    found = presence_of(staff)
    present = [
        StaffPresence(user.pk, user.get_full_name() or user.username, found[user.pk])
        for user in staff
        if user.pk in found
    ]
    return sorted(present, key=lambda p: (p.presence != Presence.ONLINE, p.name))


def agents_online(tenant_id: int) -> int:
    return sum(p.presence == Presence.ONLINE for p in staff_present(tenant_id))
