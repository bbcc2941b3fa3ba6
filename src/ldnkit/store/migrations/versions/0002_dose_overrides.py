"""Dose overrides: a clinician's audited decision to allow a dose found intolerable.

Revision ID: 0002_dose_overrides
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_dose_overrides"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dose_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("dose_mg", sa.Numeric(precision=6, scale=3), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint("dose_mg > 0", name=op.f("ck_dose_overrides_dose_positive")),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_dose_overrides_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dose_overrides")),
    )
    with op.batch_alter_table("dose_overrides", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dose_overrides_patient_id"), ["patient_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("dose_overrides", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dose_overrides_patient_id"))
    op.drop_table("dose_overrides")
