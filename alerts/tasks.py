"""Background evaluation: one self-rescheduling chain, one task per tenant and tick.

`manage.py start_alert_scheduler` writes a fresh chain token and enqueues the first tick.
Each tick re-enqueues itself `alerts.evaluation_interval_seconds` later (a deferred task,
which django_tasks_db's worker runs on time) and enqueues `evaluate_tenant_alerts` for
every active tenant. A tick whose token is no longer the current one ends without
re-enqueueing, so starting the scheduler again replaces the chain instead of adding one.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.db import transaction
from django.tasks import task
from django.utils import timezone

from accounts.models import Tenant
from alerts.evaluation import alerts_evaluate_tenant, summarise
from alerts.models import SchedulerChain
from helpdesk.config import get_config
from helpdesk.tasks import tenant_task
from helpdesk.tenancy import current_tenant

logger = logging.getLogger(__name__)

CHAIN_NAME = "alerts"


@task()
@tenant_task
def evaluate_tenant_alerts(*, tenant_id: int) -> dict[str, int]:
    return summarise(alerts_evaluate_tenant(tenant=current_tenant()))


@task()
def alerts_tick(*, token: str) -> str:
    if not SchedulerChain.objects.filter(name=CHAIN_NAME, token=token).exists():
        return "superseded"
    now = timezone.now()
    interval = timedelta(seconds=get_config().get("alerts.evaluation_interval_seconds"))
    # Re-enqueue first, so that a failure below cannot end the chain.
    if alerts_tick.get_backend().supports_defer:
        alerts_tick.using(run_after=now + interval).enqueue(token=token)
    else:
        logger.warning("The task backend cannot defer tasks; the alert chain stops here.")
    SchedulerChain.objects.filter(name=CHAIN_NAME, token=token).update(last_run_at=now)
    if not get_config().get("alerts.enabled"):
        return "disabled"
    tenant_ids = list(Tenant.objects.filter(is_active=True).values_list("pk", flat=True))
    for tenant_id in tenant_ids:
        evaluate_tenant_alerts.enqueue(tenant_id=tenant_id)
    return f"enqueued {len(tenant_ids)}"


def chain_is_alive(chain: SchedulerChain | None) -> bool:
    """A chain that ran (or started) within three intervals is taken as running."""
    if chain is None:
        return False
    interval = timedelta(seconds=get_config().get("alerts.evaluation_interval_seconds"))
    seen = chain.last_run_at or chain.started_at
    return timezone.now() - seen < 3 * interval + timedelta(seconds=60)


def scheduler_start(*, force: bool = False) -> tuple[bool, str]:
    """Start the chain unless a live one is running (or always, with force).

    Returns (started, token of the chain now current).
    """
    with transaction.atomic():
        chain = SchedulerChain.objects.select_for_update().filter(name=CHAIN_NAME).first()
        if not force and chain_is_alive(chain):
            return False, chain.token
        token = uuid.uuid4().hex
        SchedulerChain.objects.update_or_create(
            name=CHAIN_NAME,
            defaults={"token": token, "started_at": timezone.now(), "last_run_at": None},
        )
    alerts_tick.enqueue(token=token)
    return True, token
