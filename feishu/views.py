"""The Feishu callbacks as Django views: /feishu/<app_id>/events/ and /feishu/<app_id>/cards/.

Plain views (Feishu posts its own JSON, not our API's envelope), exempt from CSRF
because every request is verified instead (feishu.callbacks). Under ASGI the fast path
(feishu.fast_callback) answers these URLs before Django's middleware; these views serve
the same URLs everywhere else (WSGI, the test client).
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from feishu.callbacks import handle_callback


@csrf_exempt
@require_POST
def events(request: HttpRequest, app_id: str) -> JsonResponse:
    status, answer = handle_callback(
        app_id=app_id, body=request.body, headers=request.headers, cards=False
    )
    return JsonResponse(answer, status=status)


@csrf_exempt
@require_POST
def card_actions(request: HttpRequest, app_id: str) -> JsonResponse:
    status, answer = handle_callback(
        app_id=app_id, body=request.body, headers=request.headers, cards=True
    )
    return JsonResponse(answer, status=status)
