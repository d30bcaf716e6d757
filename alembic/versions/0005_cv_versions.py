"""cv_versions: the original of every CV and each version applied or restored since

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cv_versions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("cv_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("resume", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("improvement_id", sa.Uuid(), nullable=True),
        sa.Column("accepted_change_ids", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "source in ('original', 'improvement', 'applied', 'restored')", name=op.f("ck_cv_versions_source")
        ),
        sa.CheckConstraint("number >= 1", name=op.f("ck_cv_versions_number")),
        sa.ForeignKeyConstraint(["cv_id"], ["cvs.id"], name=op.f("fk_cv_versions_cv_id_cvs"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["improvement_id"],
            ["improvements.id"],
            name=op.f("fk_cv_versions_improvement_id_improvements"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cv_versions")),
        sa.UniqueConstraint("cv_id", "number", name="uq_cv_versions_cv_number"),
    )
    op.create_index(op.f("ix_cv_versions_improvement_id"), "cv_versions", ["improvement_id"])
    # Every CV uploaded before this revision gets its original as version 1.
    op.execute(
        "INSERT INTO cv_versions (id, cv_id, number, resume, source, note, created_at) "
        "SELECT gen_random_uuid(), id, 1, resume, 'original', 'Uploaded', created_at FROM cvs"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_cv_versions_improvement_id"), table_name="cv_versions")
    op.drop_table("cv_versions")
