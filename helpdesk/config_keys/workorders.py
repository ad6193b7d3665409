from helpdesk.config_schema import ConfigKey

KEYS = [
    ConfigKey(
        "workorders.sla_hours",
        dict,
        {"urgent": 4, "high": 24, "medium": 72, "low": 168},
        "Hours until a work order is due, by priority (low, medium, high, urgent). A priority "
        "left out falls back to its default.",
    ),
    ConfigKey(
        "workorders.number_prefix", str, "WO", "Prefix of work-order numbers (WO-20261126-0001)."
    ),
    ConfigKey(
        "workorders.import_max_rows", int, 5000, "Most rows in one import file.", min_value=1
    ),
    ConfigKey(
        "workorders.export_max_rows",
        int,
        50000,
        "Most rows in one export; narrow the filters to export fewer.",
        min_value=1,
    ),
]
