"""Fast bulk inserts for synthetic data: rows as plain tuples, primary keys given up front.

``BulkWriter`` buffers rows per model and writes them in large batches: on PostgreSQL with
``COPY … FROM STDIN`` (psycopg 3's ``cursor.copy``), elsewhere (SQLite: the demo preset and
the tests) with one ``executemany`` of a plain ``INSERT`` per batch, the values prepared by
each field's own ``get_db_prep_value`` (so dates, datetimes and UUIDs are stored exactly as
the ORM stores them). Both skip the ORM's per-object work, which dominates at a million
rows.

Primary keys are allocated by the writer (``next_id``) so that rows can reference each other
before any of them is written; ``finish`` moves each table's id sequence past the last id
used. Call everything inside one transaction: on PostgreSQL the writer takes an ``EXCLUSIVE``
lock on every table it writes (reads go on, other writers wait), so nobody else can take the
ids it hands out. Foreign keys are checked by the database (Django declares them deferred:
at commit).

Encrypted fields are written as they are given: callers pass ``crypto.encrypt(value)``,
exactly what ``EncryptedCharField.get_prep_value`` stores.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection as default_connection
from django.db import models

from yiyang.common.fields import EncryptedCharField

BATCH_ROWS = 20_000


@dataclass
class Table:
    """One model's pending rows: ``fields`` named by the caller, then every other concrete
    field with its default (so a column added to the model later is still filled)."""

    model: type[models.Model]
    fields: tuple[str, ...]
    columns: tuple[str, ...]
    tail: tuple[Any, ...]  # values of the columns the caller does not name
    prepare: tuple[Any, ...]  # per column: a function turning a value into its db value
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    next_pk: int = 1
    written: int = 0
    seconds: float = 0.0  # spent writing its rows

    @property
    def db_table(self) -> str:
        return self.model._meta.db_table


class BulkWriter:
    def __init__(self, connection: Any = None, batch_rows: int = BATCH_ROWS) -> None:
        self.connection = connection or default_connection
        self.postgres = self.connection.vendor == "postgresql"
        self.batch_rows = batch_rows
        self.tables: dict[type[models.Model], Table] = {}
        self.seconds = 0.0  # spent writing (COPY or INSERT), as opposed to making rows
        self.rebuild_seconds = 0.0  # spent rebuilding deferred indexes and constraints
        self.deferred: list[str] = []  # SQL restoring what defer_indexes dropped, in order
        self.analyze_seconds = 0.0

    # -- set-up ------------------------------------------------------------------------
    def table(self, model: type[models.Model], fields: Sequence[str]) -> Table:
        """Register ``model`` with the fields each row gives, in order (``id`` first)."""
        if model in self.tables:
            return self.tables[model]
        meta = model._meta
        by_name: dict[str, models.Field] = {}
        for f in meta.concrete_fields:
            by_name[f.name] = by_name[f.attname] = f
        unknown = [name for name in fields if name not in by_name]
        if unknown:
            raise ValueError(f"{meta.label} has no field {', '.join(unknown)}")
        named = [by_name[name] for name in fields]
        # The primary key, when not named, is the database's to number.
        rest = [f for f in meta.concrete_fields if f not in named and f is not meta.pk]
        tail = tuple(f.get_default() for f in rest)
        for f, value in zip(rest, tail, strict=True):
            if value is None and not f.null:
                raise ValueError(f"{meta.label}.{f.name} has no default: give it in each row")
        all_fields = named + rest
        table = Table(
            model=model,
            fields=tuple(fields),
            columns=tuple(f.column for f in all_fields),
            tail=tail,
            prepare=tuple(self._preparer(f) for f in all_fields),
        )
        if "id" in fields:
            table.next_pk = self._first_free_pk(model)
        self.tables[model] = table
        return table

    def _preparer(self, f: models.Field) -> Any:
        """None (use as is) on PostgreSQL, where psycopg adapts Python values; elsewhere the
        backend's own conversion of dates, datetimes and UUIDs (what the ORM stores; a
        datetime's conversion remembered, as many rows share one)."""
        if self.postgres or isinstance(f, EncryptedCharField):
            return None
        ops = self.connection.ops
        if isinstance(f, models.DateTimeField):
            memo: dict[Any, Any] = {}

            def datetime_value(value: Any) -> Any:
                found = memo.get(value)
                if found is None:
                    found = memo[value] = ops.adapt_datetimefield_value(value)
                return found

            return datetime_value
        if isinstance(f, models.DateField):
            return ops.adapt_datefield_value
        if isinstance(f, models.TimeField):
            return ops.adapt_timefield_value
        if isinstance(f, models.UUIDField) and not self.connection.features.has_native_uuid_field:
            return lambda value: value.hex
        if isinstance(f, models.DecimalField):
            return lambda value: ops.adapt_decimalfield_value(
                f.to_python(value), f.max_digits, f.decimal_places
            )
        return None

    def _first_free_pk(self, model: type[models.Model]) -> int:
        table = model._meta.db_table
        quoted = self.connection.ops.quote_name(table)
        with self.connection.cursor() as cursor:
            if self.postgres:
                cursor.execute(f"LOCK TABLE {quoted} IN EXCLUSIVE MODE")
            cursor.execute(f"SELECT MAX(id) FROM {quoted}")  # noqa: S608 - our table name
            (last,) = cursor.fetchone()
        return (last or 0) + 1

    # -- rows --------------------------------------------------------------------------
    def next_id(self, table: Table) -> int:
        pk = table.next_pk
        table.next_pk += 1
        return pk

    def add(self, table: Table, row: tuple[Any, ...]) -> None:
        table.rows.append(row)
        if len(table.rows) >= self.batch_rows:
            self.flush(table)

    def extend(self, table: Table, rows: Iterable[tuple[Any, ...]]) -> None:
        table.rows.extend(rows)
        if len(table.rows) >= self.batch_rows:
            self.flush(table)

    def flush(self, table: Table | None = None) -> None:
        """Write the pending rows of ``table`` (of every table when None, in the order they
        were registered)."""
        for t in [table] if table is not None else list(self.tables.values()):
            if not t.rows:
                continue
            rows, t.rows = t.rows, []
            started = time.perf_counter()
            if self.postgres:
                self._copy(t, rows)
            else:
                self._insert(t, rows)
            spent = time.perf_counter() - started
            self.seconds += spent
            t.seconds += spent
            t.written += len(rows)

    def _copy(self, table: Table, rows: list[tuple[Any, ...]]) -> None:
        quote = self.connection.ops.quote_name
        columns = ", ".join(quote(c) for c in table.columns)
        sql = f"COPY {quote(table.db_table)} ({columns}) FROM STDIN"
        tail = table.tail
        with self.connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            write = copy.write_row
            for row in rows:
                write(row + tail)

    def _insert(self, table: Table, rows: list[tuple[Any, ...]]) -> None:
        quote = self.connection.ops.quote_name
        columns = ", ".join(quote(c) for c in table.columns)
        marks = ", ".join(["%s"] * len(table.columns))
        sql = f"INSERT INTO {quote(table.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
        tail = table.tail
        convert = [(i, fn) for i, fn in enumerate(table.prepare) if fn is not None]
        prepared = []
        for row in rows:
            values = list(row + tail)
            for i, fn in convert:
                value = values[i]
                if value is not None:
                    values[i] = fn(value)
            prepared.append(values)
        with self.connection.cursor() as cursor:
            cursor.executemany(sql, prepared)

    # -- indexes and constraints ---------------------------------------------------------
    def defer_indexes(self) -> None:
        """PostgreSQL, before a load much bigger than the tables: drop the registered tables'
        secondary indexes, unique constraints and foreign keys, and build them again in
        ``finish`` — one sort per index instead of a million random inserts into it, one
        join per foreign key instead of a trigger per row (how ``pg_restore`` loads). In the
        caller's transaction, so a failure puts them all back; other sessions wait for these
        tables until it commits. Primary keys and check constraints stay, and so does a
        unique constraint some foreign key points at."""
        if not self.postgres:
            return
        quote = self.connection.ops.quote_name
        drop_foreign: list[str] = []
        drop_other: list[str] = []
        restore: dict[str, list[str]] = {"index": [], "unique": [], "foreign": []}
        with self.connection.cursor() as cursor:
            for t in self.tables.values():
                table = quote(t.db_table)
                cursor.execute(
                    """
                    SELECT c.conname, c.contype, pg_get_constraintdef(c.oid)
                    FROM pg_constraint c
                    WHERE c.conrelid = %s::regclass AND c.contype IN ('f', 'u')
                      AND (c.contype = 'f' OR NOT EXISTS (
                        SELECT 1 FROM pg_constraint r
                        WHERE r.contype = 'f' AND r.conindid = c.conindid))
                    ORDER BY c.conname
                    """,
                    [t.db_table],
                )
                for name, kind, definition in cursor.fetchall():
                    drop = f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}"
                    (drop_foreign if kind == "f" else drop_other).append(drop)
                    restore["foreign" if kind == "f" else "unique"].append(
                        f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}"
                    )
                cursor.execute(
                    """
                    SELECT ci.relname, pg_get_indexdef(i.indexrelid)
                    FROM pg_index i JOIN pg_class ci ON ci.oid = i.indexrelid
                    WHERE i.indrelid = %s::regclass AND NOT i.indisprimary
                      AND NOT EXISTS (
                        SELECT 1 FROM pg_constraint c
                        WHERE c.conrelid = i.indrelid AND c.conindid = i.indexrelid)
                    ORDER BY ci.relname
                    """,
                    [t.db_table],
                )
                for name, definition in cursor.fetchall():
                    drop_other.append(f"DROP INDEX {quote(name)}")
                    restore["index"].append(definition)
            # Tables with pending deferred checks (rows written earlier in the transaction,
            # e.g. the network) cannot be altered: run those checks now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            for sql in drop_foreign + drop_other:
                cursor.execute(sql)
        self.deferred = restore["index"] + restore["unique"] + restore["foreign"]

    def _rebuild(self) -> None:
        if not self.deferred:
            return
        started = time.perf_counter()
        with self.connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for sql in self.deferred:
                cursor.execute(sql)
        self.deferred = []
        self.rebuild_seconds += time.perf_counter() - started

    def finish(self) -> dict[str, int]:
        """Flush everything, move each id sequence past the ids used, refresh the planner's
        statistics (PostgreSQL) and rebuild what ``defer_indexes`` dropped; return the rows
        written per table."""
        self.flush()
        if self.postgres:
            with self.connection.cursor() as cursor:
                for t in self.tables.values():
                    if t.written and "id" in t.fields:
                        cursor.execute(
                            "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)",
                            [t.db_table, t.next_pk - 1],
                        )
            # Statistics first: validating a foreign key is a join, planned with them.
            self.analyze()
            self._rebuild()
        return {t.db_table: t.written for t in self.tables.values()}

    def analyze(self) -> None:
        """Refresh the planner's statistics of every table written (PostgreSQL; after a
        bulk load the old ones say "empty" and plans go wrong). Inside the transaction
        the statistics count its own rows and are committed with them."""
        if not self.postgres:
            return
        started = time.perf_counter()
        with self.connection.cursor() as cursor:
            for t in self.tables.values():
                if t.written:
                    cursor.execute(f"ANALYZE {self.connection.ops.quote_name(t.db_table)}")
        self.analyze_seconds = time.perf_counter() - started
