"""The template's Athena tables and named queries, run with DuckDB over exported objects.

moto has no Athena engine, so the local stack (tests, ``make demo``) runs the very SQL of the
``AWS::Athena::NamedQuery`` resources in DuckDB, over the export downloaded from S3 in its
``<table>/dt=<day>/*.json.gz`` layout, with the column types of the Glue tables. DuckDB is a
development dependency only; it never ships in the layer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .template import Template

GLUE_TABLES = {"responses": "ResponsesGlueTable", "invitations": "InvitationsGlueTable"}
GLUE_TYPES = {
    "string": "VARCHAR",
    "int": "INTEGER",
    "boolean": "BOOLEAN",
    "map<string,string>": "MAP(VARCHAR, VARCHAR)",
    "array<string>": "VARCHAR[]",
}


def named_query(template: Template, logical_id: str) -> str:
    """The SQL of a named query, straight from the template (the single source of truth)."""
    return str(template.resources[logical_id]["Properties"]["QueryString"])


def glue_columns(template: Template, logical_id: str) -> dict[str, str]:
    """A Glue table's columns with their DuckDB types."""
    table = template.resources[logical_id]["Properties"]["TableInput"]
    return {column["Name"]: GLUE_TYPES[column["Type"]] for column in table["StorageDescriptor"]["Columns"]}


def connect(template: Template, directory: Path) -> Any:
    """A DuckDB connection with one view per Glue table over ``directory/<table>/dt=*/*.json.gz``."""
    import duckdb

    connection = duckdb.connect()
    for table, logical_id in GLUE_TABLES.items():
        pattern = (directory / table / "*" / "*.json.gz").as_posix()
        if not list((directory / table).glob("*/*.json.gz")):
            raise FileNotFoundError(f"nothing exported under {directory / table}")
        columns = ", ".join(f"'{name}': '{kind}'" for name, kind in glue_columns(template, logical_id).items())
        connection.execute(
            f"CREATE VIEW {table} AS SELECT * FROM read_json('{pattern}', columns = {{{columns}}}, "  # noqa: S608 - our template
            "format = 'newline_delimited', compression = 'gzip', hive_partitioning = true, "
            "hive_types = {'dt': 'VARCHAR'})"
        )
    return connection


def run_named_query(template: Template, directory: Path, logical_id: str) -> list[dict[str, Any]]:
    """Run a named query over an export directory; rows as dicts."""
    cursor = connect(template, directory).execute(named_query(template, logical_id))
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
