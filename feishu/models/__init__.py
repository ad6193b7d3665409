from feishu.models.bitable import BitableRecordLink, BitableSync, BitableSyncRun
from feishu.models.channel import DOMAINS, FeishuApp, InboundEvent, OutboundMessage, ReplyCard

__all__ = [
    "DOMAINS",
    "BitableRecordLink",
    "BitableSync",
    "BitableSyncRun",
    "FeishuApp",
    "InboundEvent",
    "OutboundMessage",
    "ReplyCard",
]
