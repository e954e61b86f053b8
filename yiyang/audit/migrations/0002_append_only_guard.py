"""Append-only at the database level (ADR 0004).

Triggers refuse UPDATE, DELETE (and on PostgreSQL TRUNCATE) of audit events, and let the
chain head only advance by one, to the hash of the newest event. The SQL is frozen here on
purpose (migrations never import app code).

On SQLite, a later migration that makes Django rebuild ``audit_auditevent`` (most column
changes) drops these triggers with the old table: such a migration must re-create them
(``yiyang.audit.tests.test_guard`` fails until it does).
"""

from django.db import migrations

SQLITE_FORWARD = [
    """
    CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent
    BEGIN
        SELECT RAISE(ABORT, 'audit_auditevent is append-only: UPDATE refused');
    END
    """,
    """
    CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_auditevent
    BEGIN
        SELECT RAISE(ABORT, 'audit_auditevent is append-only: DELETE refused');
    END
    """,
    """
    CREATE TRIGGER audit_head_genesis BEFORE INSERT ON audit_audithead
    WHEN NEW.seq <> 0 OR NEW.hash <> '0000000000000000000000000000000000000000000000000000000000000000'
    BEGIN
        SELECT RAISE(ABORT, 'audit_audithead starts at the genesis (seq 0)');
    END
    """,
    """
    CREATE TRIGGER audit_head_advance BEFORE UPDATE ON audit_audithead
    WHEN NEW.id <> OLD.id
        OR NEW.seq <> OLD.seq + 1
        OR NEW.hash IS NOT (SELECT e.hash FROM audit_auditevent e WHERE e.seq = NEW.seq)
    BEGIN
        SELECT RAISE(ABORT, 'audit_audithead only advances by one, to the newest audit event');
    END
    """,
    """
    CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_audithead
    BEGIN
        SELECT RAISE(ABORT, 'audit_audithead: DELETE refused');
    END
    """,
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS audit_event_no_update",
    "DROP TRIGGER IF EXISTS audit_event_no_delete",
    "DROP TRIGGER IF EXISTS audit_head_genesis",
    "DROP TRIGGER IF EXISTS audit_head_advance",
    "DROP TRIGGER IF EXISTS audit_head_no_delete",
]

# ERRCODE restrict_violation (23001): Django raises IntegrityError, as on SQLite.
POSTGRESQL_FORWARD = [
    """
    CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION USING
            ERRCODE = 'restrict_violation',
            MESSAGE = 'audit_auditevent is append-only: ' || TG_OP || ' refused';
    END
    $$
    """,
    """
    CREATE TRIGGER audit_event_no_update_delete BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()
    """,
    """
    CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()
    """,
    """
    CREATE FUNCTION audit_head_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            IF NEW.seq <> 0 OR NEW.hash <> repeat('0', 64) THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'restrict_violation',
                    MESSAGE = 'audit_audithead starts at the genesis (seq 0)';
            END IF;
            RETURN NEW;
        ELSIF TG_OP = 'UPDATE' THEN
            IF NEW.id <> OLD.id
                OR NEW.seq <> OLD.seq + 1
                OR NEW.hash IS DISTINCT FROM
                    (SELECT e.hash FROM audit_auditevent e WHERE e.seq = NEW.seq)
            THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'restrict_violation',
                    MESSAGE = 'audit_audithead only advances by one, to the newest audit event';
            END IF;
            RETURN NEW;
        END IF;
        RAISE EXCEPTION USING
            ERRCODE = 'restrict_violation',
            MESSAGE = 'audit_audithead: ' || TG_OP || ' refused';
    END
    $$
    """,
    """
    CREATE TRIGGER audit_head_guard BEFORE INSERT OR UPDATE OR DELETE ON audit_audithead
    FOR EACH ROW EXECUTE FUNCTION audit_head_guard()
    """,
    """
    CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_audithead
    FOR EACH STATEMENT EXECUTE FUNCTION audit_head_guard()
    """,
]
POSTGRESQL_BACKWARD = [
    "DROP TRIGGER IF EXISTS audit_head_no_truncate ON audit_audithead",
    "DROP TRIGGER IF EXISTS audit_head_guard ON audit_audithead",
    "DROP FUNCTION IF EXISTS audit_head_guard()",
    "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_auditevent",
    "DROP TRIGGER IF EXISTS audit_event_no_update_delete ON audit_auditevent",
    "DROP FUNCTION IF EXISTS audit_event_append_only()",
]

SQL = {
    "sqlite": (SQLITE_FORWARD, SQLITE_BACKWARD),
    "postgresql": (POSTGRESQL_FORWARD, POSTGRESQL_BACKWARD),
}


def _run(schema_editor, forward: bool) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in SQL:
        raise NotImplementedError(f"the audit trail's append-only guard has no SQL for {vendor}")
    for statement in SQL[vendor][0 if forward else 1]:
        schema_editor.execute(statement, params=None)


def forwards(apps, schema_editor):
    _run(schema_editor, forward=True)


def backwards(apps, schema_editor):
    _run(schema_editor, forward=False)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
