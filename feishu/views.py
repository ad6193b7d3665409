"""The Feishu callbacks: /feishu/<app_id>/events/ and /feishu/<app_id>/cards/.

Plain Django views (Feishu posts JSON, not our API's envelope), exempt from CSRF because
every request is verified instead: decrypted with the app's encrypt key, its signature
and verification token checked, its timestamp within the replay window. A request that
fails gets a 4xx and nothing is recorded. A message is only recorded here and answered
by the task worker, so the callback answers well within Feishu's 3-second deadline.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from feishu import intake, selectors
from feishu.inbound import MalformedEvent
from feishu.verification import CallbackRejected, open_callback
from helpdesk.config import get_config
from helpdesk.tenancy import tenant_scope

logger = logging.getLogger(__name__)
MAX_BODY = 512 * 1024


def _handle(request: HttpRequest, app_id: str, *, cards: bool) -> JsonResponse:
    app = selectors.callback_app(app_id)
    if app is None:
        return JsonResponse({"msg": "unknown app"}, status=404)
    if len(request.body) > MAX_BODY:
        return JsonResponse({"msg": "body too large"}, status=413)
    with tenant_scope(app.tenant):
        try:
            callback = open_callback(
                body=request.body,
                headers=request.headers,
                encrypt_key=app.encrypt_key,
                verification_token=app.verification_token,
                window_seconds=get_config().get("feishu.replay_window_seconds"),
            )
        except CallbackRejected as exc:
            logger.warning("Feishu callback for %s refused: %s", app_id, exc.reason)
            return JsonResponse({"msg": exc.reason}, status=exc.status)
        if callback.challenge is not None:
            return JsonResponse({"challenge": callback.challenge})
        if cards and callback.event_type != intake.CARD_ACTION:
            return JsonResponse({"msg": "not a card action"}, status=400)
        try:
            answer = intake.dispatch(app=app, payload=callback.payload, via="http")
        except MalformedEvent as exc:
            return JsonResponse({"msg": str(exc)}, status=400)
    return JsonResponse(answer)


@csrf_exempt
@require_POST
def events(request: HttpRequest, app_id: str) -> JsonResponse:
    return _handle(request, app_id, cards=False)


@csrf_exempt
@require_POST
def card_actions(request: HttpRequest, app_id: str) -> JsonResponse:
    return _handle(request, app_id, cards=True)
