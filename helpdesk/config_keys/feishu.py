from helpdesk.config_schema import ConfigKey, OutboundURLKey

KEYS = [
    ConfigKey("feishu.enabled", bool, False, "Accept messages from Feishu."),
    ConfigKey("feishu.app_id", str, "", "Feishu app id (cli_...)."),
    ConfigKey("feishu.app_secret", str, "", "Feishu app secret.", secret=True),
    ConfigKey(
        "feishu.verification_token", str, "", "Event subscription verification token.", secret=True
    ),
    ConfigKey("feishu.encrypt_key", str, "", "Event subscription encrypt key.", secret=True),
    OutboundURLKey(
        "feishu.domain",
        str,
        "https://open.feishu.cn",
        "Open platform base URL (https://open.larksuite.com for Lark).",
    ),
]
