"""Patient language: the language the patient's pages, documents and reminders are written in.

Revision ID: 0007_patient_language
Revises: 0006_reminders
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_patient_language"
down_revision = "0006_reminders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: no choice yet means "follow the browser" (Accept-Language), else English.
    with op.batch_alter_table("patients") as batch:
        batch.add_column(sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("patients") as batch:
        batch.drop_column("language")
