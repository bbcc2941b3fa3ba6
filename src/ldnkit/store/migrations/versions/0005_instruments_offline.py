"""Patient-reported instruments and idempotent offline diary submissions.

Adds `instrument_responses` (PEG-3, PGIC and clinic-defined instruments with their score) and
`diary_entries.client_id`, unique per patient, so a diary entry queued offline and sent twice
is stored once.

Revision ID: 0005_instruments
Revises: 0004_security
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = "0005_instruments"
down_revision = "0004_security"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "instrument_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("instrument_id", sa.String(length=40), nullable=False),
        sa.Column("instrument_version", sa.String(length=20), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=False),
        sa.Column("answers", JSON_TYPE, nullable=False),
        sa.Column("score", sa.Numeric(precision=9, scale=4), nullable=False),
        sa.Column("client_id", sa.String(length=36), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_instrument_responses_patient_id_patients"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instrument_responses")),
        sa.UniqueConstraint("patient_id", "client_id", name="uq_instrument_responses_client"),
    )
    with op.batch_alter_table("instrument_responses", schema=None) as batch_op:
        batch_op.create_index(
            "ix_instrument_responses_patient",
            ["patient_id", "instrument_id", "completed_on"],
            unique=False,
        )
    with op.batch_alter_table("diary_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_id", sa.String(length=36), nullable=True))
        batch_op.create_unique_constraint("uq_diary_entries_client", ["patient_id", "client_id"])


def downgrade() -> None:
    with op.batch_alter_table("diary_entries", schema=None) as batch_op:
        batch_op.drop_constraint("uq_diary_entries_client", type_="unique")
        batch_op.drop_column("client_id")
    with op.batch_alter_table("instrument_responses", schema=None) as batch_op:
        batch_op.drop_index("ix_instrument_responses_patient")
    op.drop_table("instrument_responses")
