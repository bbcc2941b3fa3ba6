"""N-of-1 trials: trials, sealed allocations, end-of-period answers; pharmacist role.

Revision ID: 0003_nof1
Revises: 0002_dose_overrides
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = "0003_nof1"
down_revision = "0002_dose_overrides"
branch_labels = None
depends_on = None

_OLD_ROLES = "role IN ('clinician', 'patient', 'admin')"
_NEW_ROLES = "role IN ('clinician', 'patient', 'admin', 'pharmacist')"


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_role"), type_="check")
        batch_op.create_check_constraint("role", _NEW_ROLES)

    op.create_table(
        "nof1_trials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("design", JSON_TYPE, nullable=False),
        sa.Column("stopped_on", sa.Date(), nullable=True),
        sa.Column("stop_reason", sa.String(length=64), nullable=True),
        sa.Column("unblinded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unblinded_by", sa.String(length=64), nullable=True),
        sa.Column("unblind_kind", sa.String(length=16), nullable=True),
        sa.Column("unblind_reason", sa.String(length=64), nullable=True),
        sa.Column("unblind_note", sa.Text(), nullable=True),
        sa.Column("result", JSON_TYPE, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'stopped', 'completed', 'unblinded')",
            name=op.f("ck_nof1_trials_status"),
        ),
        sa.CheckConstraint(
            "unblind_kind IS NULL OR unblind_kind IN ('final', 'emergency')",
            name=op.f("ck_nof1_trials_unblind_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_nof1_trials_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nof1_trials")),
    )
    with op.batch_alter_table("nof1_trials", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_nof1_trials_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "nof1_allocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("pack_contents", JSON_TYPE, nullable=False),
        sa.Column("orders", JSON_TYPE, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["trial_id"], ["nof1_trials.id"], name=op.f("fk_nof1_allocations_trial_id_nof1_trials")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nof1_allocations")),
        sa.UniqueConstraint("trial_id", name=op.f("uq_nof1_allocations_trial_id")),
    )

    op.create_table(
        "nof1_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("guess", sa.String(length=16), nullable=False),
        sa.Column("impression", sa.SmallInteger(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "guess IN ('ldn', 'comparator', 'unsure')", name=op.f("ck_nof1_answers_guess")
        ),
        sa.CheckConstraint(
            "impression IS NULL OR impression BETWEEN -3 AND 3",
            name=op.f("ck_nof1_answers_impression_range"),
        ),
        sa.ForeignKeyConstraint(
            ["trial_id"], ["nof1_trials.id"], name=op.f("fk_nof1_answers_trial_id_nof1_trials")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nof1_answers")),
        sa.UniqueConstraint("trial_id", "period", name=op.f("uq_nof1_answers_trial_id")),
    )
    with op.batch_alter_table("nof1_answers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_nof1_answers_trial_id"), ["trial_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("nof1_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_nof1_answers_trial_id"))
    op.drop_table("nof1_answers")
    op.drop_table("nof1_allocations")
    with op.batch_alter_table("nof1_trials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_nof1_trials_patient_id"))
    op.drop_table("nof1_trials")
    op.execute("DELETE FROM users WHERE role = 'pharmacist'")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_role"), type_="check")
        batch_op.create_check_constraint("role", _OLD_ROLES)
