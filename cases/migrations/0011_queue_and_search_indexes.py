"""City-scale reads (issue 11): an ordered index for the work-queue tabs, a covering index for
their counts, and a bigram index for Chinese search in place of the two trigram indexes.

The bigram function and index are PostgreSQL's (``cases.search`` explains them); on SQLite the
search stays a plain scan. ``xn_bigrams`` is IMMUTABLE (it reads nothing but its text; it folds
case with ``upper`` as Django's ``icontains`` does, so the index never misses what ILIKE finds)
and costed high, so that the planner tests it after the cheap conditions. The index's statistics
target is raised so that ANALYZE lists a few thousand common bigrams with the share of cases
holding each: ``cases.search`` reads them to choose between the index and the ordered walk.

Every index is built CONCURRENTLY on PostgreSQL (each build reads the whole case table; a plain
CREATE INDEX would hold up intake and every transition meanwhile).
"""

from django.db import migrations, models

from xining_issues.migration_operations import AddIndexConcurrentlyOnPostgres

BIGRAMS = """
CREATE OR REPLACE FUNCTION xn_bigrams(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 1000 AS $$
  SELECT coalesce(array(
    SELECT a[i] || a[i + 1] FROM generate_series(1, cardinality(a) - 1) i
    WHERE a[i] <> ' ' AND a[i + 1] <> ' '), '{}')
  FROM regexp_split_to_array(upper(regexp_replace(t, '[[:space:]]+', ' ', 'g')), '') a
$$
"""
JIT_OFF = """
DO $$ BEGIN
  EXECUTE format('ALTER DATABASE %I SET jit = off', current_database());
EXCEPTION WHEN insufficient_privilege THEN
  RAISE NOTICE 'jit left as it is: only the owner may ALTER DATABASE … SET jit = off';
END $$
"""
JIT_DEFAULT = """
DO $$ BEGIN
  EXECUTE format('ALTER DATABASE %I RESET jit', current_database());
EXCEPTION WHEN insufficient_privilege THEN NULL;
END $$
"""
FORWARD = [
    BIGRAMS,
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS case_text_bigrams ON cases_case "
    "USING gin (xn_bigrams((title)::text || ' ' || description))",
    "ALTER INDEX case_text_bigrams ALTER COLUMN 1 SET STATISTICS 400",
    # No JIT for this database's sessions: compiling a plan's expressions costs tens of
    # milliseconds, more than a web request's short queries save by it. Set on the database
    # rather than per connection, which a connection pooler (PgBouncer) may refuse.
    JIT_OFF,
    "DROP INDEX CONCURRENTLY IF EXISTS case_title_trgm",
    "DROP INDEX CONCURRENTLY IF EXISTS case_description_trgm",
]
BACKWARD = [
    JIT_DEFAULT,
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS case_description_trgm ON cases_case "
    "USING gin (UPPER(description::text) gin_trgm_ops)",
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS case_title_trgm ON cases_case "
    "USING gin (UPPER(title::text) gin_trgm_ops)",
    "DROP INDEX CONCURRENTLY IF EXISTS case_text_bigrams",
    "DROP FUNCTION IF EXISTS xn_bigrams(text)",
]


def on_postgres(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement, params=None)  # no placeholders: %I is SQL

    return apply


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cases", "0010_supervision_scan_indexes"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="case",
            index=models.Index(
                fields=["status", "created_at", "id"], name="case_status_created"
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="case",
            index=models.Index(
                condition=models.Q(
                    (
                        "status__in",
                        [
                            "submitted",
                            "accepted",
                            "dispatched",
                            "handling",
                            "replied",
                            "evaluated",
                            "review",
                        ],
                    )
                ),
                fields=["status"],
                include=(
                    "id",
                    "district",
                    "street",
                    "region",
                    "lead_unit",
                    "complainant",
                    "accept_by",
                    "resolve_by",
                    "supervision_level",
                ),
                name="case_open_counts",
            ),
        ),
        migrations.RunPython(on_postgres(FORWARD), on_postgres(BACKWARD), elidable=False),
    ]
