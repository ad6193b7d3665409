"""Writes of Bitable sync configurations."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from feishu.bitable.mapping import check_mapping
from feishu.models import BitableSync

SYNC_FIELDS = {
    "app",
    "name",
    "app_token",
    "table_id",
    "field_mapping",
    "status_map",
    "priority_map",
    "modified_time_column",
    "enabled",
    "push_enabled",
    "interval_minutes",
}


def bitable_sync_save(*, sync: BitableSync) -> BitableSync:
    errors = check_mapping(sync.field_mapping, sync.status_map, sync.priority_map)
    if errors:
        raise ValidationError(errors)
    sync.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            sync.save()
    except IntegrityError:
        raise ValidationError({"table_id": _("This table is already synced.")}) from None
    return sync


def bitable_sync_create(**fields: Any) -> BitableSync:
    unknown = set(fields) - SYNC_FIELDS
    if unknown:
        raise ValidationError({key: _("Unknown field.") for key in unknown})
    return bitable_sync_save(sync=BitableSync(**fields))
