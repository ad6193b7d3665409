from helpdesk.config_schema import ConfigKey

KEYS = [
    ConfigKey(
        "reports.refresh_seconds",
        int,
        60,
        "How often the dashboard refreshes its numbers while it is open.",
        min_value=10,
    ),
    ConfigKey(
        "reports.settle_days",
        int,
        2,
        "Days after a day ends during which its rollup is still recomputed (late hand-offs, "
        "ratings and thumbs); afterwards the day's numbers are final.",
        min_value=0,
        max_value=31,
    ),
]
