from helpdesk.config_schema import ConfigKey

KEYS = [
    ConfigKey(
        "imports.max_uncompressed_mb",
        int,
        50,
        "Largest uncompressed content of an XLSX or DOCX file (all its parts together), in "
        "MB; a larger one is refused before it is parsed.",
        min_value=1,
    ),
    ConfigKey(
        "imports.max_sheet_columns",
        int,
        200,
        "Most columns in the sheet of an imported spreadsheet.",
        min_value=1,
    ),
    ConfigKey(
        "imports.max_pdf_pages", int, 500, "Most pages in an imported PDF document.", min_value=1
    ),
    ConfigKey(
        "imports.concurrent_per_tenant",
        int,
        2,
        "Spreadsheet imports of one tenant read at the same time; more get a 429.",
        min_value=1,
    ),
    ConfigKey(
        "imports.queued_per_tenant",
        int,
        20,
        "Knowledge import jobs of one tenant waiting or running at once; more get a 429.",
        min_value=1,
    ),
    ConfigKey(
        "imports.failed_file_retention_days",
        int,
        7,
        "Days the uploaded file of a failed import is kept for inspection (prune_import_files "
        "deletes it after); a finished import's file is deleted at once.",
        min_value=0,
    ),
]
