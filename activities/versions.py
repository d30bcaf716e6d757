"""Versions of a CV as the API sees them: list, read, compare, restore, and apply the changes a user chose from
an improvement. Scoped to their owner; numbers are given out under a lock on the CV row."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from uuid6 import uuid7

from activities.blobs import delete_orphan_blobs
from activities.database import Sessions
from activities.errors import Conflict, DomainError, NotFound
from activities.scoring import score_keywords
from activities.tailoring import ats_score
from activities.verification import verify_rewrite
from models.improvement import Change, RewriteResult, Stage, VerificationWarning
from models.resume import Resume
from models.tables import Cv, CvVersion, Improvement, Rendition
from models.target import ImprovementTarget
from models.versions import ChangeNotApplicable, Difference, VersionSource, apply_changes, diff_documents


class ChangeRefused(DomainError):
    """Chosen changes that cannot make a version: unknown, reverted by the fact check, or not applicable."""

    status = 422
    title = "These changes cannot be applied"

    def __init__(self, code: str, message: str, change_ids: Sequence[str]) -> None:
        super().__init__(message)
        self.code = code
        self.change_ids = list(change_ids)


@dataclass(frozen=True)
class VersionRecord:
    cv_id: uuid.UUID
    number: int
    source: str
    improvement_id: uuid.UUID | None
    accepted_change_ids: list[str] | None
    note: str
    created_at: datetime
    resume: dict[str, Any]


@dataclass(frozen=True)
class AppliedVersion:
    version: VersionRecord
    created: bool  # False when the same changes were applied before: that version is answered again
    theme: str  # the improvement's own PDF variant
    paper: str
    language: str
    rerender: list[tuple[str, str]]  # (theme, paper) whose PDFs were dropped because the result changed


def _record(row: CvVersion) -> VersionRecord:
    return VersionRecord(
        cv_id=row.cv_id,
        number=row.number,
        source=row.source,
        improvement_id=row.improvement_id,
        accepted_change_ids=row.accepted_change_ids,
        note=row.note,
        created_at=row.created_at,
        resume=row.resume,
    )


def original_version(cv_id: uuid.UUID, resume: dict[str, Any]) -> CvVersion:
    """Version 1 of a CV: what was uploaded, as parsed."""
    return CvVersion(
        id=uuid7(), cv_id=cv_id, number=1, resume=resume, source=VersionSource.ORIGINAL.value, note="Uploaded"
    )


def chosen_changes(
    changes: Sequence[Change], warnings: Sequence[VerificationWarning], accepted: Sequence[str]
) -> list[Change]:
    """The improvement's changes named in `accepted`, in the improvement's order; refuses unknown ids and
    changes the fact check reverted."""
    wanted = list(dict.fromkeys(accepted))
    offered = {c.id for c in changes}
    reverted = {w.change_id for w in warnings if w.change_id} - offered
    unknown = [i for i in wanted if i not in offered and i not in reverted]
    if unknown:
        raise ChangeRefused(
            "unknown_change", f"This improvement has no change with the id {', '.join(unknown)}.", unknown
        )
    refused = [i for i in wanted if i in reverted]
    if refused:
        raise ChangeRefused(
            "change_reverted",
            f"The fact check reverted {', '.join(refused)}: a reverted change cannot be applied.",
            refused,
        )
    return [c for c in changes if c.id in wanted]


def build_version(original: Resume, chosen: Sequence[Change]) -> Resume:
    """The original with exactly the chosen changes, fact-checked again: a change's `after` is the engine's
    word, and only what passes the check may become a version."""
    try:
        built = apply_changes(original, chosen)
    except ChangeNotApplicable as exc:
        raise ChangeRefused("change_not_applicable", str(exc), [exc.change_id]) from None
    data = built.model_dump(mode="json")
    # `meta` carries the chosen section order, which is no fact: the check sees the original's.
    if "meta" in (original.model_extra or {}):
        data["meta"] = (original.model_extra or {})["meta"]
    else:
        data.pop("meta", None)
    checked = verify_rewrite(
        original, RewriteResult(resume=Resume.model_validate(data), changes=list(chosen), engine="")
    )
    if checked.warnings:
        ids = [w.change_id for w in checked.warnings if w.change_id]
        raise ChangeRefused("change_rejected", " ".join(w.message for w in checked.warnings), ids)
    return built


class VersionStore:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    async def _owned_cv(self, session: AsyncSession, user_id: uuid.UUID, cv_id: uuid.UUID, *, lock: bool) -> None:
        """Refuses another user's CV; with `lock`, holds the CV row so version numbers are given out in turn."""
        query = select(Cv.user_id).where(Cv.id == cv_id)
        owner = await session.scalar(query.with_for_update() if lock else query)
        if owner != user_id:
            raise NotFound("No CV with this id.")
        # CVs stored without version 1 (written around this feature's migration) get it now.
        if await session.scalar(select(CvVersion.id).where(CvVersion.cv_id == cv_id, CvVersion.number == 1)) is None:
            resume = await session.scalar(select(Cv.resume).where(Cv.id == cv_id))
            await session.execute(
                insert(CvVersion)
                .values(
                    id=uuid7(),
                    cv_id=cv_id,
                    number=1,
                    resume=resume or {},
                    source=VersionSource.ORIGINAL.value,
                    note="Uploaded",
                )
                .on_conflict_do_nothing(constraint="uq_cv_versions_cv_number")
            )

    async def _version(self, session: AsyncSession, cv_id: uuid.UUID, number: int) -> CvVersion:
        row = await session.scalar(select(CvVersion).where(CvVersion.cv_id == cv_id, CvVersion.number == number))
        if row is None:
            raise NotFound(f"This CV has no version {number}.")
        return row

    async def _add(self, session: AsyncSession, cv_id: uuid.UUID, **values: Any) -> CvVersion:
        latest = await session.scalar(select(func.max(CvVersion.number)).where(CvVersion.cv_id == cv_id))
        row = CvVersion(id=uuid7(), cv_id=cv_id, number=(latest or 0) + 1, **values)
        session.add(row)
        await session.flush()
        await session.refresh(row)
        return row

    async def list_for_cv(self, user_id: uuid.UUID, cv_id: uuid.UUID) -> list[VersionRecord]:
        async with self._sessions.begin() as session:
            await self._owned_cv(session, user_id, cv_id, lock=False)
            rows = await session.scalars(select(CvVersion).where(CvVersion.cv_id == cv_id).order_by(CvVersion.number))
            return [_record(row) for row in rows]

    async def get(self, user_id: uuid.UUID, cv_id: uuid.UUID, number: int) -> VersionRecord:
        async with self._sessions.begin() as session:
            await self._owned_cv(session, user_id, cv_id, lock=False)
            return _record(await self._version(session, cv_id, number))

    async def diff(
        self, user_id: uuid.UUID, cv_id: uuid.UUID, from_number: int | None, to_number: int | None
    ) -> tuple[int, int, list[Difference]]:
        """What changed from one version to another; by default from the original to the latest."""
        async with self._sessions.begin() as session:
            await self._owned_cv(session, user_id, cv_id, lock=False)
            latest = await session.scalar(select(func.max(CvVersion.number)).where(CvVersion.cv_id == cv_id))
            first = await self._version(session, cv_id, from_number or 1)
            second = await self._version(session, cv_id, to_number or latest or 1)
            return first.number, second.number, diff_documents(first.resume, second.resume)

    async def restore(self, user_id: uuid.UUID, cv_id: uuid.UUID, number: int) -> VersionRecord:
        """A new version that copies an older one: history is never rewritten."""
        async with self._sessions.begin() as session:
            await self._owned_cv(session, user_id, cv_id, lock=True)
            source = await self._version(session, cv_id, number)
            row = await self._add(
                session,
                cv_id,
                resume=source.resume,
                source=VersionSource.RESTORED.value,
                note=f"Restored from version {number}",
            )
            return _record(row)

    async def apply(self, user_id: uuid.UUID, improvement_id: uuid.UUID, accepted: Sequence[str]) -> AppliedVersion:
        """A version made of the improvement's original CV and exactly the chosen changes, stored as the
        improvement's result. The same choice again answers the version it made the first time."""
        async with self._sessions.begin() as session:
            owner = (
                await session.execute(
                    select(Improvement.user_id, Improvement.cv_id).where(Improvement.id == improvement_id)
                )
            ).first()
            if owner is None or owner.user_id != user_id:
                raise NotFound("No improvement with this id.")
            # The CV first, then the improvement: the order deleting a CV takes them in.
            await self._owned_cv(session, user_id, owner.cv_id, lock=True)
            improvement = await session.get(Improvement, improvement_id, with_for_update=True)
            if improvement is None:
                raise NotFound("No improvement with this id.")
            if improvement.stage != Stage.COMPLETED.value:
                raise Conflict(
                    f"Only a completed improvement's changes can be applied; this one is {improvement.stage}."
                )
            changes = [Change.model_validate(c) for c in improvement.changes or []]
            warnings = [VerificationWarning.model_validate(w) for w in improvement.warnings or []]
            chosen = chosen_changes(changes, warnings, accepted)
            ids = [c.id for c in chosen]
            row = await session.scalar(
                select(CvVersion)
                .where(
                    CvVersion.improvement_id == improvement_id,
                    CvVersion.source == VersionSource.APPLIED.value,
                    CvVersion.accepted_change_ids == ids,
                )
                .order_by(CvVersion.number)
                .limit(1)
            )
            created = row is None
            if row is None:
                original = Resume.model_validate(improvement.original_resume or {})
                row = await self._add(
                    session,
                    improvement.cv_id,
                    resume=build_version(original, chosen).model_dump(mode="json"),
                    source=VersionSource.APPLIED.value,
                    improvement_id=improvement_id,
                    accepted_change_ids=ids,
                    note=f"{len(ids)} of the {len(changes)} changes of improvement {improvement_id}",
                )
            target = ImprovementTarget.model_validate(improvement.target)
            rerender: list[tuple[str, str]] = []
            if improvement.result_resume != row.resume:
                applied = Resume.model_validate(row.resume)
                after = score_keywords(applied, target.job_description, position=target.position)
                improvement.result_resume = row.resume
                # The "after" figures describe the applied version; "before" and the tailoring report stay.
                improvement.scores = {
                    **(improvement.scores or {}),
                    "after": after.model_dump(mode="json"),
                    "ats_after": ats_score(applied, target.job_description).model_dump(mode="json"),
                }
                rerender = await self._drop_renditions(session, improvement_id, target)
            return AppliedVersion(
                version=_record(row),
                created=created,
                theme=target.theme,
                paper=target.paper.value,
                language=target.output_language,
                rerender=rerender,
            )

    async def _drop_renditions(
        self, session: AsyncSession, improvement_id: uuid.UUID, target: ImprovementTarget
    ) -> list[tuple[str, str]]:
        """Remove the PDFs of the old result, so none is served stale; returns the variants to render again."""
        renditions = (await session.scalars(select(Rendition).where(Rendition.improvement_id == improvement_id))).all()
        variants = {(r.theme, r.paper) for r in renditions} | {(target.theme, target.paper.value)}
        await session.execute(delete(Rendition).where(Rendition.improvement_id == improvement_id))
        await session.flush()
        await delete_orphan_blobs(session, {r.pdf_sha256 for r in renditions})
        return sorted(variants)
