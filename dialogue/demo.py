"""Demo conversations (idempotent): answered, low-confidence, handed off to a person."""

from __future__ import annotations

from typing import Any

from dialogue import services
from dialogue.models import ChatSession, HandoffReason, Role
from knowledge.search import search

CONVERSATIONS: list[dict[str, Any]] = [
    {
        "visitor": "demo-visitor-zhang",
        "turns": [
            ("user", "你好，我想问一下退款一般多久能到账？"),
            (
                "assistant",
                "您好！退款审核通过后一般 1-3 个工作日原路退回，"
                "信用卡支付可能需要 7 个工作日左右 [1]。",
            ),
            ("user", "好的，谢谢"),
        ],
        "rating": 5,
    },
    {
        "visitor": "demo-visitor-li",
        "turns": [
            ("user", "车机 OTA 升级到 70% 就失败了，重试了好几次都不行"),
            (
                "assistant",
                "很抱歉给您带来不便。请确认车辆处于 P 挡、电量高于 50%，并保持网络良好后重试 [1]。"
                "\n\n（此回答置信度较低，仅供参考。如需帮助，可回复“转人工”联系人工客服。）",
            ),
            ("user", "都试过了，还是不行，转人工"),
        ],
        "handoff": True,
    },
    {
        "visitor": "demo-visitor-wang",
        "turns": [
            ("user", "发票可以开增值税专用发票吗？"),
            (
                "assistant",
                "可以的。请在订单详情页选择“申请发票”，"
                "发票类型选择“增值税专用发票”并填写企业信息 [1]。",
            ),
        ],
    },
]


def _citation(question: str) -> list[int]:
    hits = search(question, limit=1)
    return [hits[0].entry.pk] if hits else []


def seed(tenant: Any) -> str:
    created = 0
    for conversation in CONVERSATIONS:
        if ChatSession.objects.filter(external_user_id=conversation["visitor"]).exists():
            continue
        session, _new = services.session_open(
            channel="web", external_user_id=conversation["visitor"]
        )
        question = None
        for role, text in conversation["turns"]:
            if role == Role.USER:
                question = services.message_add_user(session=session, content=text)
                continue
            citations = _citation(question.content)
            low = "置信度较低" in text
            services.message_add_answer(
                session=session,
                reply_to=question,
                content=text if citations else text.replace(" [1]", ""),
                citations=citations,
                confidence=0.3 if low else 0.82,
                low_confidence=low,
            )
        if conversation.get("handoff"):
            services.session_handoff(session=session, reason=HandoffReason.KEYWORD)
        if conversation.get("rating"):
            services.session_rate(session=session, rating=conversation["rating"])
        created += 1
    return f"{created} demo conversations" if created else ""
