"""Bitable calls through lark-oapi: permission check, record search pages, record writes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.utils.translation import gettext as _
from lark_oapi.api.bitable.v1 import (
    AppTableRecord,
    Condition,
    FilterInfo,
    GetAppTableRecordRequest,
    SearchAppTableRecordRequest,
    SearchAppTableRecordRequestBody,
    UpdateAppTableRecordRequest,
)

from feishu import sending
from feishu.client import FeishuAPIError
from feishu.models import BitableSync

BITABLE_SCOPE = "bitable:app"
NO_PERMISSION_CODES = {91403, 1254302, 99991672}
PAGE_SIZE = 500
DAY_MS = 86_400_000


class BitableRefused(Exception):
    """The app may not use this table; the message tells the administrator what to do."""


def refusal_message() -> str:
    return _(
        "The Feishu app lacks the Bitable permission (bitable:app) or access to this table. "
        "Grant the permission in the Feishu developer console, publish the app version, and "
        "add the app to the Bitable as a collaborator."
    )


def check_permission(sync: BitableSync) -> None:
    if BITABLE_SCOPE not in sending.granted_scopes(sync.app):
        raise BitableRefused(refusal_message())


def _refused_or_raise(exc: FeishuAPIError) -> None:
    if exc.code in NO_PERMISSION_CODES or exc.status == 403:
        raise BitableRefused(refusal_message()) from exc
    raise exc


def search_page(
    sync: BitableSync, *, page_token: str, modified_after_ms: int | None
) -> tuple[list[Any], str]:
    """One page of records (with their modified time), and the next page's token."""
    body = SearchAppTableRecordRequestBody.builder().automatic_fields(True)
    if modified_after_ms is not None:
        # Bitable compares dates by day: ask from the day before, then compare exactly.
        day_before = (modified_after_ms // DAY_MS - 1) * DAY_MS
        condition = (
            Condition.builder()
            .field_name(sync.modified_time_column)
            .operator("isGreater")
            .value(["ExactDate", str(day_before)])
            .build()
        )
        body = body.filter(FilterInfo.builder().conjunction("and").conditions([condition]).build())
    builder = (
        SearchAppTableRecordRequest.builder()
        .app_token(sync.app_token)
        .table_id(sync.table_id)
        .page_size(PAGE_SIZE)
        .request_body(body.build())
    )
    if page_token:
        builder = builder.page_token(page_token)
    request = builder.build()
    try:
        response = sending.call(
            sync.app,
            lambda client, option: client.bitable.v1.app_table_record.search(request, option),
        )
    except FeishuAPIError as exc:
        _refused_or_raise(exc)
    data = response.data
    return list(data.items or []), (data.page_token or "") if data.has_more else ""


def get_record(sync: BitableSync, record_id: str) -> Any:
    request = (
        GetAppTableRecordRequest.builder()
        .app_token(sync.app_token)
        .table_id(sync.table_id)
        .record_id(record_id)
        .build()
    )
    try:
        response = sending.call(
            sync.app, lambda client, option: client.bitable.v1.app_table_record.get(request, option)
        )
    except FeishuAPIError as exc:
        _refused_or_raise(exc)
    return response.data.record


def update_record(sync: BitableSync, record_id: str, cells: dict[str, Any]) -> Any:
    request = (
        UpdateAppTableRecordRequest.builder()
        .app_token(sync.app_token)
        .table_id(sync.table_id)
        .record_id(record_id)
        .request_body(AppTableRecord.builder().fields(cells).build())
        .build()
    )
    try:
        response = sending.call(
            sync.app,
            lambda client, option: client.bitable.v1.app_table_record.update(request, option),
        )
    except FeishuAPIError as exc:
        _refused_or_raise(exc)
    return response.data.record


def modified_ms(record: Any) -> int:
    return int(record.last_modified_time or 0)


def as_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)
