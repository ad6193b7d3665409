from helpdesk.config_schema import ConfigKey

KEYS = [
    ConfigKey(
        "dialogue.system_prompt",
        str,
        "你是一名专业、礼貌的客服助手。只根据提供的知识库内容回答，并用 [编号] 标注引用；"
        "知识库没有答案时如实说明，并建议转人工客服。",
        "Default system prompt; a tenant may override it.",
    ),
    ConfigKey("dialogue.max_message_chars", int, 2000, "Longest user message.", min_value=1),
    ConfigKey(
        "dialogue.session_idle_minutes",
        int,
        30,
        "A session idle for longer starts a new one.",
        min_value=1,
    ),
    ConfigKey(
        "dialogue.history_token_budget",
        int,
        1500,
        "Tokens of recent turns in the prompt.",
        min_value=0,
    ),
    ConfigKey(
        "dialogue.confidence_threshold",
        float,
        0.45,
        "Answers below this confidence say so and offer a person.",
        min_value=0,
        max_value=1,
    ),
    ConfigKey(
        "dialogue.handoff_keywords",
        list,
        ["转人工", "人工客服", "人工服务", "找人工", "真人客服"],
        "Messages containing one of these hand the session over to a person.",
    ),
    ConfigKey(
        "dialogue.handoff_after_low_confidence",
        int,
        2,
        "Hand over after this many low-confidence answers in a row (0: never).",
        min_value=0,
    ),
    ConfigKey("dialogue.knowledge_top_k", int, 3, "Knowledge entries in the prompt.", min_value=1),
    ConfigKey(
        "dialogue.visitor_token_max_age_seconds",
        int,
        7 * 86400,
        "Lifetime of a signed visitor token.",
        min_value=60,
    ),
    ConfigKey(
        "dialogue.visitor_rate_per_minute",
        int,
        30,
        "Requests per minute one web visitor may make to the chat API.",
        min_value=1,
    ),
    ConfigKey(
        "dialogue.max_output_tokens",
        int,
        800,
        "Upper bound of the tokens of one assistant answer.",
        min_value=16,
    ),
]
