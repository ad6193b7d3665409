from helpdesk.config_schema import ConfigKey

KEYS = [
    ConfigKey(
        "alerts.evaluation_interval_seconds",
        int,
        60,
        "Pause between two evaluations by the periodic task.",
        min_value=5,
    ),
    ConfigKey("alerts.enabled", bool, True, "Evaluate alert rules at all."),
    ConfigKey(
        "alerts.notifiers",
        list,
        ["alerts.notifiers.InAppNotifier"],
        "Dotted paths of the notifier classes told about opened and resolved alerts.",
    ),
]
