"""Initial schema: clinicians, patients, users, assessments, plans, diary, advice, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=True),
        sa.Column("details", JSON_TYPE, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index("ix_audit_log_entity", ["entity", "entity_id"], unique=False)

    op.create_table(
        "clinicians",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinicians")),
        sa.UniqueConstraint("email", name=op.f("uq_clinicians_email")),
    )
    op.create_table(
        "patients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinician_id", sa.Integer(), nullable=False),
        sa.Column("given_name", sa.String(length=200), nullable=False),
        sa.Column("family_name", sa.String(length=200), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("mrn", sa.String(length=64), nullable=True),
        sa.Column("profile", JSON_TYPE, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinician_id"], ["clinicians.id"], name=op.f("fk_patients_clinician_id_clinicians")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
        sa.UniqueConstraint("mrn", name=op.f("uq_patients_mrn")),
    )
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_patients_clinician_id"), ["clinician_id"], unique=False
        )

    op.create_table(
        "assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("payload", JSON_TYPE, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_assessments_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessments")),
    )
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assessments_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "diary_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("entry_date", sa.Date(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("superseded", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("pain", sa.SmallInteger(), nullable=False),
        sa.Column("sleep", sa.SmallInteger(), nullable=True),
        sa.Column("mood", sa.SmallInteger(), nullable=True),
        sa.Column("energy", sa.SmallInteger(), nullable=True),
        sa.Column("clarity", sa.SmallInteger(), nullable=True),
        sa.Column("dose_taken", sa.Boolean(), nullable=False),
        sa.Column("dose_time", sa.Time(), nullable=True),
        sa.Column("dose_mg", sa.Numeric(precision=6, scale=3), nullable=True),
        sa.Column("side_effects", JSON_TYPE, nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "clarity IS NULL OR clarity BETWEEN 0 AND 10",
            name=op.f("ck_diary_entries_clarity_range"),
        ),
        sa.CheckConstraint(
            "energy IS NULL OR energy BETWEEN 0 AND 10", name=op.f("ck_diary_entries_energy_range")
        ),
        sa.CheckConstraint(
            "mood IS NULL OR mood BETWEEN 0 AND 10", name=op.f("ck_diary_entries_mood_range")
        ),
        sa.CheckConstraint("pain BETWEEN 0 AND 10", name=op.f("ck_diary_entries_pain_range")),
        sa.CheckConstraint("revision >= 1", name=op.f("ck_diary_entries_revision_positive")),
        sa.CheckConstraint(
            "sleep IS NULL OR sleep BETWEEN 0 AND 10", name=op.f("ck_diary_entries_sleep_range")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_diary_entries_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["diary_entries.id"],
            name=op.f("fk_diary_entries_supersedes_id_diary_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diary_entries")),
        sa.UniqueConstraint(
            "patient_id", "entry_date", "revision", name=op.f("uq_diary_entries_patient_id")
        ),
    )
    with op.batch_alter_table("diary_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_diary_entries_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index(
            "uq_diary_entries_current",
            ["patient_id", "entry_date"],
            unique=True,
            sqlite_where=sa.text("NOT superseded"),
            postgresql_where=sa.text("NOT superseded"),
        )

    op.create_table(
        "plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("protocol_id", sa.String(length=64), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("payload", JSON_TYPE, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_plans_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
        sa.UniqueConstraint("patient_id", "version", name=op.f("uq_plans_patient_id")),
    )
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plans_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=150), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("clinician_id", sa.Integer(), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role <> 'clinician' OR clinician_id IS NOT NULL", name=op.f("ck_users_clinician_link")
        ),
        sa.CheckConstraint(
            "role <> 'patient' OR patient_id IS NOT NULL", name=op.f("ck_users_patient_link")
        ),
        sa.CheckConstraint("role IN ('clinician', 'patient', 'admin')", name=op.f("ck_users_role")),
        sa.ForeignKeyConstraint(
            ["clinician_id"], ["clinicians.id"], name=op.f("fk_users_clinician_id_clinicians")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_users_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_clinician_id"), ["clinician_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_users_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "advice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("given_on", sa.Date(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("payload", JSON_TYPE, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_advice_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], name=op.f("fk_advice_plan_id_plans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advice")),
    )
    with op.batch_alter_table("advice", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_advice_patient_id"), ["patient_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("advice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_advice_patient_id"))

    op.drop_table("advice")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_patient_id"))
        batch_op.drop_index(batch_op.f("ix_users_clinician_id"))

    op.drop_table("users")
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plans_patient_id"))

    op.drop_table("plans")
    with op.batch_alter_table("diary_entries", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_diary_entries_current",
            sqlite_where=sa.text("NOT superseded"),
            postgresql_where=sa.text("NOT superseded"),
        )
        batch_op.drop_index(batch_op.f("ix_diary_entries_patient_id"))

    op.drop_table("diary_entries")
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessments_patient_id"))

    op.drop_table("assessments")
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patients_clinician_id"))

    op.drop_table("patients")
    op.drop_table("clinicians")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_entity")
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))

    op.drop_table("audit_log")
