"""Search indexes for number/title/description (PostgreSQL only).

- Trigram GIN indexes serve `icontains` with 3+ characters. Their expressions
  match what Django generates for `icontains` (UPPER(col) LIKE UPPER(%s)).
- pg_trgm cannot index 2-character terms, and 2-character Chinese words are the
  most common searches, so title+description also get a GIN index of their
  character bigrams. The selector uses it for 2-character terms
  (workorders.selectors.search).

The extension operation does nothing on other databases, and the SQL runs only on
PostgreSQL; SQLite searches with plain LIKE.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

TRIGRAM_COLUMNS = ("number", "title", "description")

BIGRAMS_FUNCTION = """
CREATE OR REPLACE FUNCTION workorder_bigrams(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT substr(upper(value), i, 2)), '{}')
    FROM generate_series(1, length(value) - 1) AS i
$$
"""


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in TRIGRAM_COLUMNS:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "workorder_{column}_trgm" ON "workorders_workorder" '
            f'USING gin (UPPER("{column}") gin_trgm_ops)'
        )
    schema_editor.execute(BIGRAMS_FUNCTION)
    schema_editor.execute(
        'CREATE INDEX IF NOT EXISTS "workorder_text_bigrams" ON "workorders_workorder" '
        "USING gin (workorder_bigrams(title || ' ' || description))"
    )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in TRIGRAM_COLUMNS:
        schema_editor.execute(f'DROP INDEX IF EXISTS "workorder_{column}_trgm"')
    schema_editor.execute('DROP INDEX IF EXISTS "workorder_text_bigrams"')
    schema_editor.execute("DROP FUNCTION IF EXISTS workorder_bigrams(text)")


class Migration(migrations.Migration):
    dependencies = [("workorders", "0001_initial")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create_indexes, drop_indexes),
    ]
