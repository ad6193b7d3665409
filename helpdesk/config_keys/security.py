from helpdesk.config_schema import ConfigKey

KEYS = [
    ConfigKey(
        "security.login_failures_per_user",
        int,
        5,
        "Failed logins of one username within the window before 429.",
        min_value=1,
    ),
    ConfigKey(
        "security.login_failures_per_ip",
        int,
        20,
        "Failed logins from one IP address within the window before 429.",
        min_value=1,
    ),
    ConfigKey(
        "security.login_window_seconds", int, 900, "Window of the login limits.", min_value=10
    ),
    ConfigKey(
        "security.api_token_max_age_days",
        int,
        30,
        "Days an API token stays valid after login.",
        min_value=1,
    ),
]
