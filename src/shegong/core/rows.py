"""Write helpers below the ORM: inserts for the hot write paths and fresh planner
statistics after bulk writes.

Inserts for the hot write paths (the audit trail, service records): one statement each,
with the values prepared by the model's own fields exactly as the ORM's insert prepares
them (``pre_save`` — e.g. ``auto_now_add`` —, then ``get_db_prep_save``: encryption, JSON,
addresses), but without the ORM's per-call query building. No model signals are sent; the
project connects none to these models.

``insert_parts`` gives the pieces of the statement, for callers that wrap the insert in a
larger one (the audit trail's data-modifying WITH on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.apps import apps
from django.db import connection
from django.db.models import Model


def _columns(model: type[Model], names: Sequence[str] | None = None):
    fields = [
        f
        for f in model._meta.concrete_fields
        if not f.primary_key and (names is None or f.name in names or f.attname in names)
    ]
    return fields, ", ".join(connection.ops.quote_name(f.column) for f in fields)


def insert_parts(instance: Model) -> tuple[str, str, list]:
    """``(table, "col, col, …", [values])`` of an INSERT of ``instance`` (a new row)."""
    fields, columns = _columns(type(instance))
    values = [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]
    return connection.ops.quote_name(instance._meta.db_table), columns, values


def insert_row(instance: Model) -> Model:
    """Insert ``instance`` as a new row and set its primary key; it is then a saved row."""
    table, columns, values = insert_parts(instance)
    marks = ", ".join(["%s"] * len(values))
    pk = connection.ops.quote_name(instance._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING {pk}",  # noqa: S608
            values,
        )
        instance.pk = cursor.fetchone()[0]
    mark_saved(instance)
    return instance


def insert_values(model: type[Model], names: Sequence[str], rows: Iterable[Sequence]) -> None:
    """Insert plain rows of the fields ``names`` (values ready for the database, e.g. ids)
    in one statement; nothing is returned."""
    fields, columns = _columns(model, names)
    if [f.name for f in fields] != list(names) and [f.attname for f in fields] != list(names):
        raise ValueError(f"give {model.__name__}'s fields in their order: {names}")
    rows = list(rows)
    if not rows:
        return
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * len(rows))}",  # noqa: S608
            [value for values in rows for value in values],
        )


def mark_saved(instance: Model) -> None:
    """What the ORM's save does to an instance it has inserted."""
    instance._state.adding = False
    instance._state.db = connection.alias


def refresh_statistics(*app_labels: str) -> None:
    """``ANALYZE`` the tables of these apps, after a bulk write has been committed (``setup
    --demo``): PostgreSQL's planner otherwise plans for the empty tables it last saw until
    autovacuum comes round (the national compliance query took 7 s instead of 7 ms right
    after the demo network was made). Not inside a transaction that may roll back: the
    table sizes ANALYZE records stay behind (PostgreSQL updates them in place), and plans
    made from sizes that are no longer true can be far slower than plans from none."""
    tables = [
        connection.ops.quote_name(model._meta.db_table)
        for label in app_labels
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {', '.join(tables)}")
        else:
            for table in tables:
                cursor.execute(f"ANALYZE {table}")
