"""How long provisioning a group takes: by copying the template schema vs by running migrations.

Both ways go through the same service (crossschema.provisioning.group_provision); only the step that
makes the schema differs. Runs in a scratch database of its own, alternating the two ways in
each round so machine noise hits both alike, and ends with one line:

    provision: template 0.31 s, migrate 1.42 s, ratio 4.6

Before it, a line for --batch groups provisioned back to back (median and worst).

Usage: make bench   (or: DJANGO_SETTINGS_MODULE=config.settings.test python bench/provision.py)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def scratch_database(name: str) -> str:
    """Point DATABASE_URL at a fresh database `name`; return the maintenance URL."""
    url = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/horizontal"))
    maintenance = urlunsplit((url.scheme, url.netloc, "/postgres", url.query, ""))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    os.environ["DATABASE_URL"] = urlunsplit((url.scheme, url.netloc, "/" + name, url.query, ""))
    return maintenance


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--batch", type=int, default=50, help="groups provisioned back to back")
    parser.add_argument("--database", default="horizontal_bench", help="scratch database name")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    maintenance = scratch_database(args.database)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from crossschema import provisioning
    from society import services

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    services.template_schema_migrate()

    clone = provisioning.group_schema_clone

    def by_migrations(*, schema_name: str) -> None:
        services.group_schema_migrate_fresh(schema_name=schema_name)

    def provision(slug: str, make_schema) -> float:
        provisioning.group_schema_clone = make_schema
        try:
            group = services.group_create(name=slug, slug=slug)
            start = time.perf_counter()
            provisioning.group_provision(group=group)
            return time.perf_counter() - start
        finally:
            provisioning.group_schema_clone = clone

    times: dict[str, list[float]] = {"template": [], "migrate": []}
    for i in range(args.rounds):
        order = [("template", clone), ("migrate", by_migrations)]
        if i % 2:
            order.reverse()
        for label, make_schema in order:
            times[label].append(provision(f"bench-{label}-{i}", make_schema))

    batch = [provision(f"batch-{i}", clone) for i in range(args.batch)]

    connection.close()
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(args.database))
        )

    template = statistics.median(times["template"])
    migrate = statistics.median(times["migrate"])
    print(f"rounds: {args.rounds}; template runs {[round(t, 3) for t in times['template']]}")
    print(f"rounds: {args.rounds}; migrate runs  {[round(t, 3) for t in times['migrate']]}")
    if batch:
        print(
            f"batch: {len(batch)} groups back to back, median {statistics.median(batch):.3f} s, "
            f"worst {max(batch):.3f} s"
        )
    ratio = migrate / template
    print(f"provision: template {template:.2f} s, migrate {migrate:.2f} s, ratio {ratio:.1f}")


if __name__ == "__main__":
    main()
