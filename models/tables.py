"""PostgreSQL tables (SQLAlchemy 2.0 typed declarative). Alembic migrations under alembic/ build them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names so migrations can refer to them.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSONB, list[dict[str, Any]]: JSONB}


def _now() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class Plan(Base):
    __tablename__ = "plans"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    monthly_quota: Mapped[int] = mapped_column(Integer)
    stripe_price_monthly: Mapped[str | None] = mapped_column(String(255))
    stripe_price_yearly: Mapped[str | None] = mapped_column(String(255))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class User(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # stored lower-cased
    name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    plan_code: Mapped[str] = mapped_column(ForeignKey("plans.code"), server_default="free")
    created_at: Mapped[datetime] = _now()
    # Set by AccountDeletionWorkflow's first step: the account counts as gone (no sign-in, tokens answer 401).
    deletion_requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Blob(Base):
    """Uploaded files and rendered PDFs, addressed by content (SHA-256)."""

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(127))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = _now()


class Cv(Base):
    __tablename__ = "cvs"
    __table_args__ = (Index("ix_cvs_user_created", "user_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32))
    content_type: Mapped[str] = mapped_column(String(127))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    file_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    pages: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    resume: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = _now()


class Improvement(Base):
    __tablename__ = "improvements"
    __table_args__ = (Index("ix_improvements_user_created", "user_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    cv_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cvs.id", ondelete="CASCADE"))
    workflow_id: Mapped[str] = mapped_column(String(200))
    target: Mapped[dict[str, Any]]
    stage: Mapped[str] = mapped_column(String(32), server_default="queued")
    percent: Mapped[int] = mapped_column(Integer, server_default="0")
    engine: Mapped[str | None] = mapped_column(String(100))
    original_resume: Mapped[dict[str, Any] | None]
    result_resume: Mapped[dict[str, Any] | None]
    changes: Mapped[list[dict[str, Any]] | None]
    warnings: Mapped[list[dict[str, Any]] | None]
    scores: Mapped[dict[str, Any] | None]
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Rendition(Base):
    """One rendered PDF of an improvement, per theme and paper size."""

    __tablename__ = "renditions"
    __table_args__ = (UniqueConstraint("improvement_id", "theme", "paper", name="uq_renditions_variant"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    improvement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("improvements.id", ondelete="CASCADE"))
    theme: Mapped[str] = mapped_column(String(50))
    paper: Mapped[str] = mapped_column(String(16))
    pdf_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    pages: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = _now()


class Usage(Base):
    """One unit of monthly quota per improvement: reserved, then consumed or refunded."""

    __tablename__ = "usage"
    __table_args__ = (
        CheckConstraint("status in ('reserved', 'consumed', 'refunded')", name="status"),
        Index("ix_usage_user_period", "user_id", "period_start"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    improvement_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    period_start: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class QuotaGrant(Base):
    """Extra improvements an operator gave a user for one month (`cvimprover ops quota grant`)."""

    __tablename__ = "quota_grants"
    __table_args__ = (
        CheckConstraint("units > 0", name="units_positive"),
        Index("ix_quota_grants_user_period", "user_id", "period_start"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    period_start: Mapped[date] = mapped_column(Date)
    units: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text, server_default="")
    created_at: Mapped[datetime] = _now()


class RefreshToken(Base):
    """A rotating refresh token, stored hashed. Tokens of one sign-in share a family; reuse revokes it."""

    __tablename__ = "refresh_tokens"
    __table_args__ = (Index("ix_refresh_tokens_family", "family_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[uuid.UUID]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _now()


class PasswordResetToken(Base):
    """A single-use password reset token, stored hashed."""

    __tablename__ = "password_reset_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _now()


class OAuthIdentity(Base):
    """A sign-in identity from an outside provider (Google), linked to one user."""

    __tablename__ = "oauth_identities"
    __table_args__ = (UniqueConstraint("provider", "subject", name="uq_oauth_identities_provider_subject"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = _now()


class Subscription(Base):
    """The projection of a user's SubscriptionWorkflow; only its activities write it."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        CheckConstraint(
            "status in ('none', 'checkout_pending', 'active', 'past_due', 'canceling', 'canceled')", name="status"
        ),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(32))
    plan_code: Mapped[str | None] = mapped_column(ForeignKey("plans.code"))
    billing_interval: Mapped[str | None] = mapped_column(String(8))
    current_period_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, server_default="false")
    past_due_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    grace_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    renewals: Mapped[int] = mapped_column(Integer, server_default="0")
    events_applied: Mapped[int] = mapped_column(Integer, server_default="0")
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class StripeEvent(Base):
    """Audit of every Stripe event a subscription workflow took in, once per event id."""

    __tablename__ = "stripe_events"
    __table_args__ = (Index("ix_stripe_events_user_received", "user_id", "received_at"),)

    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(100))
    object_id: Mapped[str] = mapped_column(String(255))
    stripe_created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(String(16))  # applied | stale | ignored
    reason: Mapped[str] = mapped_column(Text, server_default="")
    status_after: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime] = _now()


class CvVersion(Base):
    """One version of a CV: 1 is the upload, then every set of chosen changes applied and every restore."""

    __tablename__ = "cv_versions"
    __table_args__ = (
        UniqueConstraint("cv_id", "number", name="uq_cv_versions_cv_number"),
        CheckConstraint("source in ('original', 'improvement', 'applied', 'restored')", name="source"),
        CheckConstraint("number >= 1", name="number"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    cv_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cvs.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    resume: Mapped[dict[str, Any]]
    source: Mapped[str] = mapped_column(String(16))
    # Kept when the improvement is deleted: the version stays, its origin is forgotten.
    improvement_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("improvements.id", ondelete="SET NULL"), index=True
    )
    accepted_change_ids: Mapped[list[str] | None] = mapped_column(JSONB)
    note: Mapped[str] = mapped_column(Text, server_default="")
    created_at: Mapped[datetime] = _now()
