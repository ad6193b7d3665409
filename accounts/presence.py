"""Whether support staff are at their desk: online, away, or gone.

The staff desk sets a user's presence when it connects and refreshes it with a
heartbeat; it lives in the shared cache for `PRESENCE_TTL_SECONDS`, so a desk that
vanished without saying goodbye drops out on its own. Every process and the admin read
the same keys. Without a working cache nobody is shown online (logged once per interval).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.core.cache import cache
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from helpdesk.outages import Outage, log_outage, outage_of
from helpdesk.roles import ROLE_RANK, Role

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


def _key(tenant_id: int | None, user_id: int) -> str:
    return f"presence:{tenant_id}:{user_id}"


# The roles that work at the staff desk (`User.has_role(Role.AGENT)`).
_DESK_ROLES = [role for role, rank in ROLE_RANK.items() if rank >= ROLE_RANK[Role.AGENT]]


def _cache_call(operation: str, *args: Any, where: str, fallback: Any = None) -> Any:
    """A call on the shared cache; `fallback` (and one logged line per interval) when the
    cache is down. Any other error is raised."""
    try:
        return getattr(cache, operation)(*args)
    except Exception as exc:
        if outage_of(exc) is not Outage.CACHE:
            raise
        log_outage(Outage.CACHE, exc, where=where)
        return fallback


def presence_set(*, user: User, presence: Presence) -> None:
    _cache_call(
        "set",
        _key(user.tenant_id, user.pk),
        presence.value,
        PRESENCE_TTL_SECONDS,
        where="presence (not saved)",
    )


def presence_clear(*, user: User) -> None:
    _cache_call("delete", _key(user.tenant_id, user.pk), where="presence (not cleared)")


def _read(keys: dict[str, int]) -> dict[int, Presence]:
    """The presence of each user id in `keys` (cache key -> user id) that is at a desk."""
    if not keys:
        return {}
    found = _cache_call("get_many", list(keys), where="presence (nobody shown)", fallback={})
    return {keys[key]: Presence(value) for key, value in found.items()}


def presence_of(users: list[User]) -> dict[int, Presence]:
    """The presence of each user who is at a desk (the others are left out)."""
    return _read({_key(user.tenant_id, user.pk): user.pk for user in users})


def _desk_staff(tenant_id: int) -> QuerySet[User]:
    """The tenant's active agents and administrators."""
    return User.objects.filter(tenant_id=tenant_id, is_active=True, role__in=_DESK_ROLES)


def staff_present(tenant_id: int) -> list[StaffPresence]:
    """The tenant's agents and administrators at a desk, online first."""
    staff = list(_desk_staff(tenant_id).only("pk", "username", "first_name", "last_name"))
    found = _read({_key(tenant_id, user.pk): user.pk for user in staff})
    present = [
        StaffPresence(user.pk, user.get_full_name() or user.username, found[user.pk])
        for user in staff
        if user.pk in found
    ]
    return sorted(present, key=lambda p: (p.presence != Presence.ONLINE, p.name))


def agents_online(tenant_id: int) -> int:
    """How many of the tenant's agents and administrators are online."""
    ids = _desk_staff(tenant_id).values_list("pk", flat=True)
    found = _read({_key(tenant_id, user_id): user_id for user_id in ids})
    return sum(presence is Presence.ONLINE for presence in found.values())
