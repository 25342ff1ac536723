"""The template copy must give a schema indistinguishable from one made by running migrations."""

import pytest
from django.core.management import call_command
from django.db import connection

from society.schema_copy import schema_copy
from society.services import group_schema_migrate_fresh


def signature(schema: str) -> dict[str, set]:
    """Columns, constraints and indexes of `schema`, rendered as if it were on search_path."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('search_path', %s, false)", [schema])
        cursor.execute(
            "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,"
            " a.attidentity, pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a"
            " JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
            " LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum"
            " WHERE n.nspname = %s AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped",
            [schema],
        )
        columns = set(cursor.fetchall())
        cursor.execute(
            "SELECT c.relname, k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k"
            " JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s",
            [schema],
        )
        constraints = set(cursor.fetchall())
        cursor.execute(
            "SELECT indexname, replace(indexdef, schemaname || '.', '') FROM pg_indexes"
            " WHERE schemaname = %s",
            [schema],
        )
        indexes = set(cursor.fetchall())
        cursor.execute("SELECT app, name FROM django_migrations")
        migrations = set(cursor.fetchall())
        cursor.execute("SELECT set_config('search_path', 'public', false)")
    return {
        "columns": columns,
        "constraints": constraints,
        "indexes": indexes,
        "migrations": migrations,
    }


def test_a_copy_of_the_template_equals_a_schema_made_by_migrations(db, world):
    schema_copy(source="group_template", target="g_copied")
    group_schema_migrate_fresh(schema_name="g_migrated")

    copied, migrated = signature("g_copied"), signature("g_migrated")
    assert copied["columns"] and copied["indexes"] and copied["constraints"]
    for part in ("columns", "constraints", "indexes", "migrations"):
        assert copied[part] == migrated[part], part
    # nothing left to apply on the copy (--check exits non-zero when something is)
    call_command(
        "migrate_schemas",
        tenant=True,
        schema_name="g_copied",
        check_unapplied=True,
        interactive=False,
        verbosity=0,
    )


def test_identity_columns_continue_after_copied_rows(db, world):
    schema_copy(source="group_template", target="g_rows")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), max(id) FROM g_rows.django_migrations")
        count, highest = cursor.fetchone()
        assert count > 0
        cursor.execute(
            "INSERT INTO g_rows.django_migrations (app, name, applied) VALUES ('x', 'y', now())"
            " RETURNING id"
        )
        assert cursor.fetchone()[0] == highest + 1


def test_copy_refuses_objects_it_does_not_know(db):
    with connection.cursor() as cursor:
        cursor.execute("CREATE SCHEMA g_odd; CREATE VIEW g_odd.v AS SELECT 1 AS one")
    with pytest.raises(NotImplementedError):
        schema_copy(source="g_odd", target="g_odd_copy")
