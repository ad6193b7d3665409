from helpdesk.config_schema import ConfigKey

# Apps and their credentials are per tenant (the FeishuApp model); these are the
# deployment-wide rules every app follows.
KEYS = [
    ConfigKey(
        "feishu.replay_window_seconds",
        int,
        300,
        "Callbacks whose X-Lark-Request-Timestamp is further than this from now are refused.",
        min_value=30,
        max_value=3600,
    ),
    ConfigKey(
        "feishu.chat_messages_per_second",
        int,
        5,
        "Messages sent to one chat per second (Feishu allows 5).",
        min_value=1,
        max_value=5,
    ),
    ConfigKey(
        "feishu.app_messages_per_second",
        int,
        50,
        "Calls one app makes per second, across processes (Feishu allows 50).",
        min_value=1,
        max_value=50,
    ),
    ConfigKey(
        "feishu.max_attempts",
        int,
        5,
        "Attempts of one outbound call before it is recorded as failed.",
        min_value=1,
        max_value=10,
    ),
    ConfigKey(
        "feishu.card_update_interval_ms",
        int,
        500,
        "Least time between two updates of a streaming answer card.",
        min_value=200,
        max_value=10000,
    ),
    ConfigKey(
        "feishu.token_refresh_margin_seconds",
        int,
        600,
        "The tenant access token is refreshed this long before it expires.",
        min_value=60,
        max_value=3600,
    ),
    ConfigKey(
        "feishu.request_timeout_seconds",
        float,
        10.0,
        "Timeout of one call to the Feishu open platform.",
        min_value=1.0,
        max_value=60.0,
    ),
]
