"""Run topics' rules over the business data and turn non-green hits into warnings.

A run: check the version's SQL again (parse tree), count the rows of the tables it reads,
evaluate it in DuckDB with the thresholds mapped to levels *in SQL* (only non-green hits come
back to Python), map each employee number to a person and unit, upsert the warnings, record
the run. Everything after the query happens in one operational transaction.
"""

from __future__ import annotations

import asyncio
import calendar
import logging
import time
from collections.abc import Awaitable
from datetime import datetime, timedelta
from typing import Any

import duckdb
from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.audit.service import AuditTrail
from backend.data.sandbox import check_rule_sql, warm_parser
from backend.data.service import DataService
from backend.engine.engines import RuleJob, rule_engine
from backend.engine.evaluate import Outcome
from backend.engine.models import (
    ClueItem,
    ClueSheet,
    RuleRun,
    RunPublic,
    RunStatus,
    TopicPrecision,
    TrialVerdict,
)
from backend.events.service import emit
from backend.kernel.access import Actor, Channel
from backend.kernel.errors import AppError, Conflict, NotFound
from backend.kernel.settings import Settings
from backend.kernel.timeutil import local, utcnow
from backend.org.service import OrgService
from backend.topics.models import (
    Period,
    RequestCreate,
    RequestKind,
    RequestState,
    RuleVersion,
    Thresholds,
    Topic,
    TopicState,
)
from backend.topics.service import RUNNABLE, TopicService
from backend.warnings.hits import (
    RANK,
    RunInfo,
    Stored,
    known_employees,
    record_verdict,
    store_payload,
    trial_summary,
    trial_warnings,
    verdicts,
)
from backend.warnings.linked import evaluate_run
from backend.warnings.models import Finding, Level, Verification, Warning
from backend.warnings.routing import announce

RETIRE_AFTER_MONTHS = 6
#: triggers that run at once on every engine (they already run in the scheduler or a CLI process)
DIRECT = frozenset({"schedule", "cli", "demo", "queued"})
#: a scheduled run that failed (or never finished) is tried again after this long
RETRY_AFTER = timedelta(hours=1)
log = logging.getLogger("probity.rules")
#: what a run says when a step after it fails (the stored warnings stay)
AFTER_RUN = {
    "announce": "announcing the new warnings failed ({error}); the sweep delivers them",
    "link": "evaluating linked warnings failed ({error})",
}


class EngineService:
    def __init__(self, session: AsyncSession, trail: AuditTrail, settings: Settings) -> None:
        self.session = session
        self.trail = trail
        self.settings = settings
        self.topics = TopicService(session, trail, settings)
        self.data = DataService(session, trail, settings)

    # --- running -------------------------------------------------------------------------
    async def run_codes(self, codes: list[str], actor: Actor, trigger: str = "manual") -> list[RuleRun]:
        """Run the named topics (validating ones as trial), or every online topic if none named."""
        if codes:
            chosen: list[Topic] = []
            for code in codes:
                topic = await self.topics.by_code(code)
                if topic is None:
                    raise NotFound(f"no topic {code!r}", code="topic_not_found")
                chosen.append(topic)
        else:
            chosen = [t for t in await self.topics.topics(TopicState.online) if not t.offline]
        return [await self.run_topic(topic, actor, trigger) for topic in chosen]

    async def run_topic(self, topic: Topic, actor: Actor, trigger: str = "manual") -> RuleRun:
        if topic.state not in RUNNABLE:
            raise Conflict(
                f"topic {topic.code} is {topic.state!s}: only validating and online topics run",
                code="not_runnable",
            )
        version = await self.topics.version(topic.current_version_id)
        if topic.offline or version is None or version.id is None or topic.id is None:
            raise Conflict(f"topic {topic.code} has no data rule (offline topic)", code="no_rule")
        queued = self.settings.business_engine == "spark" and trigger not in DIRECT
        run = RuleRun(
            topic_id=topic.id,
            topic_code=topic.code,
            version_id=version.id,
            trigger=trigger,
            trial=topic.state == TopicState.validating,
            person_id=actor.person_id,
            engine=self.settings.business_engine,
            status=RunStatus.queued if queued else RunStatus.running,
        )
        self.session.add(run)
        await self.session.commit()
        if queued:  # Spark runs take seconds to minutes: the scheduler's job runs it
            await self.trail.record(
                self.session,
                actor,
                action="rule.run_queued",
                object_type="rule_run",
                object_id=run.id,
                new={"topic": topic.code, "version_id": run.version_id, "engine": run.engine},
                power="rule.run",
            )
            await self.session.commit()
            return run
        return await self._execute(run, topic, version, actor)

    async def run_queued(self) -> list[RuleRun]:
        """Run the queued runs, oldest first (the ``rules.run_queued`` job). A run whose topic
        stopped being runnable meanwhile fails with the reason."""
        actor = Actor.system(Channel.system, "scheduler")
        queued = (
            await self.session.execute(
                select(col(RuleRun.id))
                .where(col(RuleRun.status) == RunStatus.queued)
                .order_by(col(RuleRun.id))
            )
        ).scalars()
        done: list[RuleRun] = []
        for run_id in list(queued):
            # claimed with one conditional UPDATE: a run is run once, whoever else looks at the queue
            claimed = await self.session.execute(
                update(RuleRun)
                .where(col(RuleRun.id) == run_id, col(RuleRun.status) == RunStatus.queued)
                .values(status=RunStatus.running, engine=self.settings.business_engine, started_at=utcnow())
            )
            await self.session.commit()
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                continue
            run = await self.get_run(int(run_id or 0))
            await self.session.refresh(run)
            topic = await self.topics.get(run.topic_id)
            version = await self.topics.version(run.version_id)
            if topic.state not in RUNNABLE or version is None:
                run.status, run.error = RunStatus.failed, f"topic {topic.code} is {topic.state!s}: not run"
                done.append(await self._close(run, topic, actor, time.perf_counter()))
                continue
            done.append(await self._execute(run, topic, version, actor))
        return done

    async def _execute(self, run: RuleRun, topic: Topic, version: RuleVersion, actor: Actor) -> RuleRun:
        started = time.perf_counter()
        try:
            await self._ready()
            outcome, started = await self._query(version)
        except (AppError, duckdb.Error) as exc:
            detail = exc.detail if isinstance(exc, AppError) else f"{type(exc).__name__}: {exc}"
            run.status, run.error = RunStatus.failed, detail[:1000]
            return await self._close(run, topic, actor, started)
        raised: list[int] = []
        try:
            raised = await self._store(run, topic, version, outcome)
        # nothing of the run is kept, and it says why (also an engine failing while its hits are read)
        except (SQLAlchemyError, AppError, duckdb.Error) as exc:
            detail = exc.detail if isinstance(exc, AppError) else f"{type(exc).__name__}: {exc}"
            await self.session.rollback()
            await self.session.refresh(run)
            await self.session.refresh(topic)
            run.status = RunStatus.failed
            run.error = f"the warnings could not be stored: {detail}"[:1000]
        run = await self._close(run, topic, actor, started)
        linked = run.status == RunStatus.done and not run.trial
        await self._after(run, actor, "announce", self._announce(raised))
        if linked:
            await self._after(run, actor, "link", self._link(run, actor))
        return run

    async def _after(self, run: RuleRun, actor: Actor, step: str, work: Awaitable[None]) -> None:
        """A step after the run is recorded (``announce``, ``link``), in a transaction of its own.

        Whatever it raises, the warnings the run stored stay: the step is rolled back, the
        traceback logged, and the run says which step failed (its error, and a trail record
        ``rule.run_step_failed``); the exception's text stays in the log."""
        try:
            await work
            await self.session.commit()
        except Exception as exc:
            await self.session.rollback()
            note = AFTER_RUN[step].format(error=type(exc).__name__)
            log.exception("run %s of %s: %s", run.id, run.topic_code, note)
            await self.session.refresh(run)
            run.error = "; ".join(e for e in (run.error, note) if e)[:1000]
            await self.trail.record(
                self.session,
                actor,
                action="rule.run_step_failed",
                object_type="rule_run",
                object_id=run.id,
                new={"step": step, "error": note},
                power="rule.run",
            )
            await self.session.commit()

    async def _link(self, run: RuleRun, actor: Actor) -> None:
        """Linked warnings (9.2.3.1) evaluated after the run: a later hit can raise the level of a
        warning already verified true (a second true red, a relapse)."""
        await evaluate_run(self.session, self.trail, run.id or 0, actor)

    async def _ready(self) -> None:
        """Start the SQL checker's parser before a run's clock starts (once per process)."""
        warm_parser()

    async def _announce(self, warning_ids: list[int]) -> None:
        """Push newly raised live warnings at once (7.3.1), right after the run is recorded.

        After the run's transaction: the run's recorded duration is the rule's (query, levels,
        warnings stored), and a warning whose announcement fails stays raised for the lifecycle
        sweep to deliver.
        """
        if warning_ids:
            await announce(self.session, self.trail, warning_ids)

    async def _query(self, version: RuleVersion) -> tuple[Outcome, float]:
        """The rule's outcome on the configured engine, and when its clock started."""
        started = time.perf_counter()
        checked = check_rule_sql(version.sql, await self.data.table_names())
        engine = rule_engine(self.settings)
        job = RuleJob(
            checked,
            dict(version.params),
            Thresholds.model_validate(version.thresholds),
            version.number,
            self.settings.rule_timeout_seconds,
            self.settings.rule_hit_page_size,
        )
        # the wait for the store (another process's import or run) and its opening are left out
        # of the run's clock: its recorded duration is the rule's own work
        outcome, waited = await engine.run(job)
        return outcome, started + waited

    async def _store(self, run: RuleRun, topic: Topic, version: RuleVersion, outcome: Outcome) -> list[int]:
        """Hits to warnings in the run's transaction; returns the new live warnings to announce.

        A few statements per page of hits whatever their number: the employee numbers are looked
        up once each, and each page of hits (a JSON array made by the engine) is upserted in one
        INSERT … SELECT. The outcome's pages are closed here, whatever happens.
        """
        try:
            return await self._store_pages(run, topic, version, outcome)
        finally:
            await asyncio.to_thread(outcome.close)

    async def _store_pages(
        self, run: RuleRun, topic: Topic, version: RuleVersion, outcome: Outcome
    ) -> list[int]:
        run.rows_scanned = outcome.levels.pop("__scanned__", 0)
        run.hits_high = outcome.levels.get("high", 0)
        run.hits_medium = outcome.levels.get("medium", 0)
        run.hits_low = outcome.levels.get("low", 0)
        run.hits_none = outcome.levels.get("none", 0)
        run.query_ms = outcome.query_ms
        known = await known_employees(self.session, [no for no, _ in outcome.by_employee])
        assigned: dict[str, int] = {}
        unknown: set[str] = set()
        for (employee_no, level), n in outcome.by_employee.items():
            if employee_no in known:
                assigned[level] = assigned.get(level, 0) + n
            else:
                unknown.add(employee_no)
                run.unassigned += n
        info = RunInfo(
            run_id=run.id or 0,
            topic_id=topic.id or 0,
            topic_code=topic.code,
            rule_version_id=version.id or 0,
            specialty=topic.specialty,
            trial=run.trial,
        )
        stored = Stored()
        pages = outcome.pages if assigned else None
        while pages is not None and (page := await asyncio.to_thread(pages.next)) is not None:
            part = await store_payload(self.session, page, info)
            stored.created += part.created
            stored.updated += part.updated
            stored.created_ids += part.created_ids
        run.warnings_created, run.warnings_updated = stored.created, stored.updated
        if run.trial and assigned:  # trial hits go to topic experts only
            await self._tell_experts(run, topic, assigned)
        if assigned:
            await self.topics.mark_raised(version.id or 0)
        if unknown:
            run.error = (
                f"{run.unassigned} hit(s) name unknown employee number(s): {', '.join(sorted(unknown)[:20])}"
            )
        run.status = RunStatus.done
        return [] if run.trial else stored.created_ids

    async def _tell_experts(self, run: RuleRun, topic: Topic, hits: dict[str, int]) -> None:
        """A trial run's hits reach topic experts only: one event per run, the clue sheet behind it."""
        org = OrgService(self.session, self.trail)
        units = [u.id for u in await org.list_units() if u.id is not None]
        experts = [p for people in (await org.holders("expert", units)).values() for p in people]
        if not experts:
            return
        top = max((Level(level) for level in hits), key=lambda level: RANK[level])
        await emit(
            self.session,
            "topic.trial_hits",
            subject_type="topic",
            subject_id=topic.id or 0,
            recipients={person_id: "expert" for person_id in experts},
            level=top.value,
            data={"topic_code": topic.code, "run_id": run.id, "hits": sum(hits.values())},
        )

    async def _close(self, run: RuleRun, topic: Topic, actor: Actor, started: float) -> RuleRun:
        run.duration_ms = round((time.perf_counter() - started) * 1000)
        run.finished_at = utcnow()
        await self.topics.touch_run(topic)
        await self.trail.record(
            self.session,
            actor,
            action="rule.run" if run.status == RunStatus.done else "rule.run_failed",
            object_type="rule_run",
            object_id=run.id,
            new={
                "topic": topic.code,
                "version_id": run.version_id,
                "trial": run.trial,
                "hits": {"high": run.hits_high, "medium": run.hits_medium, "low": run.hits_low},
                "created": run.warnings_created,
                "updated": run.warnings_updated,
                "error": run.error,
            },
            power="rule.run",
        )
        await self.session.commit()
        return run

    # --- reading -----------------------------------------------------------------------------
    async def runs(self, topic_code: str | None, limit: int, offset: int) -> list[RunPublic]:
        stmt = select(RuleRun).order_by(col(RuleRun.id).desc()).limit(limit).offset(offset)
        if topic_code:
            stmt = stmt.where(col(RuleRun.topic_code) == topic_code)
        return [
            RunPublic.model_validate(r, from_attributes=True)
            for r in (await self.session.execute(stmt)).scalars()
        ]

    async def get_run(self, run_id: int) -> RuleRun:
        run = await self.session.get(RuleRun, run_id)
        if run is None:
            raise NotFound(f"run {run_id} does not exist", code="run_not_found")
        return run

    async def validation_report(self, topic_id: int) -> dict[str, Any]:
        """Appendix D: trial runs and their hits, trial warnings, how many were checked, the true rate.

        Checked = trial warnings whose latest verification stands (not returned); true rate =
        true / checked, None while nothing is checked.
        """
        topic = await self.topics.get(topic_id)
        totals = (
            await self.session.execute(
                select(
                    func.count(),
                    func.coalesce(func.sum(RuleRun.hits_high), 0),
                    func.coalesce(func.sum(RuleRun.hits_medium), 0),
                    func.coalesce(func.sum(RuleRun.hits_low), 0),
                ).where(
                    col(RuleRun.topic_id) == topic_id,
                    col(RuleRun.trial).is_(True),
                    col(RuleRun.status) == RunStatus.done,
                )
            )
        ).one()
        summary = await trial_summary(self.session, topic_id)
        trial = summary.get("trial", {})
        found = (await verdicts(self.session, [topic_id], trial=True))[topic_id]
        return {
            "topic": topic.code,
            "state": str(topic.state),
            "trial_runs": int(totals[0]),
            "run_hits": {"high": int(totals[1]), "medium": int(totals[2]), "low": int(totals[3])},
            "by_level": {k.split(":", 1)[1]: v for k, v in trial.items() if k.startswith("level:")},
            **found.as_dict(),
        }

    async def clue_sheet(self, topic_id: int, limit: int, offset: int) -> ClueSheet:
        """The trial hits of a topic for the expert group to check offline (B.6), with their verdicts."""
        topic = await self.topics.get(topic_id)
        rows, total = await trial_warnings(self.session, topic_id, limit, offset)
        items = [clue_item(warning, verdict) for warning, verdict in rows]
        return ClueSheet(topic=topic.code, items=items, total=total, limit=limit, offset=offset)

    async def record_trial_verdict(
        self, topic_id: int, warning_id: int, data: TrialVerdict, actor: Actor
    ) -> ClueItem:
        """An expert's verdict on one trial hit; the latest verdict counts in the validation report."""
        warning = await self.session.get(Warning, warning_id)
        if warning is None or warning.topic_id != topic_id or not warning.trial:
            raise NotFound(
                f"topic {topic_id} has no trial warning {warning_id}", code="trial_warning_not_found"
            )
        if actor.person_id is None:
            raise Conflict("a verdict is given by a person", code="person_required")
        verification = await record_verdict(
            self.session, warning, actor.person_id, data.result, data.note, actor.channel.value
        )
        await self.trail.record(
            self.session,
            actor,
            action="topic.trial_verdict",
            object_type="warning_verification",
            object_id=verification.id,
            new={
                "topic_id": topic_id,
                "warning_id": warning_id,
                "result": data.result.value,
                "note": data.note,
                "round": verification.round,
            },
            power="topic.approve",
        )
        await self.session.commit()
        return clue_item(warning, verification)

    async def precision(self) -> list[TopicPrecision]:
        """The true rate of each online topic over its live warnings: how often its warnings prove true."""
        topics = [t for t in await self.topics.topics(TopicState.online) if t.id is not None]
        found = await verdicts(self.session, [t.id for t in topics if t.id is not None], trial=False)
        return [
            TopicPrecision(
                topic_id=t.id or 0,
                code=t.code,
                name=t.name,
                specialty=t.specialty,
                **found[t.id or 0].as_dict(),
            )
            for t in topics
        ]

    # --- schedule and retirement ---------------------------------------------------------------
    async def due_topics(self, now: datetime | None = None) -> list[Topic]:
        """Runnable topics with no successful run in the current monitoring period.

        Only runs of the topic's present mode count (trial runs while validating, live runs once
        online), so a topic just put online runs live at once. A failed or unfinished attempt is
        retried, but not within ``RETRY_AFTER`` of the last attempt.
        """
        now = now or utcnow()
        topics = [t for t in await self.topics.topics() if t.state in RUNNABLE and not t.offline]
        if not topics:
            return []
        done = func.max(RuleRun.started_at).filter(col(RuleRun.status) == RunStatus.done)
        rows = await self.session.execute(
            select(col(RuleRun.topic_id), col(RuleRun.trial), done, func.max(RuleRun.started_at))
            .where(col(RuleRun.topic_id).in_([t.id for t in topics]))
            .group_by(col(RuleRun.topic_id), col(RuleRun.trial))
        )
        last = {(topic_id, bool(trial)): (ok, tried) for topic_id, trial, ok, tried in rows.all()}
        due: list[Topic] = []
        for topic in topics:
            ok, tried = last.get((topic.id or 0, topic.state == TopicState.validating), (None, None))
            if not is_due(topic.monitoring_period, ok, now):
                continue
            if tried is not None and tried != ok and now - tried < RETRY_AFTER:
                continue
            due.append(topic)
        return due

    async def run_due(self, now: datetime | None = None) -> list[RuleRun]:
        """Run every due topic; one topic's failure is recorded on its run and does not stop the rest."""
        actor = Actor.system(Channel.system, "scheduler")
        runs: list[RuleRun] = []
        for topic in await self.due_topics(now):
            try:
                runs.append(await self.run_topic(topic, actor, "schedule"))
            except AppError as exc:  # e.g. the topic changed state meanwhile
                log.warning("scheduled run of %s refused: %s", topic.code, exc.detail)
        return runs

    async def propose_retirements(self, now: datetime | None = None) -> list[int]:
        """6.7.2: an online topic whose live hits were all low or none for six months gets an exit request.

        Six months means: live runs for at least that long, at least one run in the last six
        months and none of those with a high or medium hit. A pending exit request is not filed
        twice, and after one is rejected the six months start again from the rejection.
        """
        now = now or utcnow()
        since = months_before(now, RETIRE_AFTER_MONTHS)
        actor = Actor.system(Channel.system, "retirement check")
        filed: list[int] = []
        for topic in await self.topics.topics(TopicState.online):
            if topic.offline or topic.id is None or await self._exit_pending(topic.id, since):
                continue
            live = (col(RuleRun.topic_id) == topic.id, col(RuleRun.trial).is_(False))
            first, recent, raised = (
                await self.session.execute(
                    select(
                        func.min(RuleRun.started_at),
                        func.count().filter(col(RuleRun.started_at) >= since),
                        func.coalesce(
                            func.sum(RuleRun.hits_high + RuleRun.hits_medium).filter(
                                col(RuleRun.started_at) >= since
                            ),
                            0,
                        ),
                    ).where(*live, col(RuleRun.status) == RunStatus.done)
                )
            ).one()
            if first is None or first > since or not recent or int(raised) > 0:
                continue
            request = await self.topics.file_request(
                topic.id,
                RequestCreate(
                    kind=RequestKind.exit,
                    reason=f"all hits low or none since {local(since).date().isoformat()} (6.7.2)",
                ),
                actor,
            )
            filed.append(request.id or 0)
        return filed

    async def _exit_pending(self, topic_id: int, since: datetime) -> bool:
        """An exit request is open, or one was rejected within the window."""
        for request in await self.topics.requests(topic_id):
            if request.kind != RequestKind.exit:
                continue
            if request.state == RequestState.open:
                return True
            if request.state == RequestState.rejected and (request.decided_at or request.created_at) > since:
                return True
        return False


def clue_item(warning: Warning, verdict: Verification | None) -> ClueItem:
    return ClueItem(
        warning_id=warning.id or 0,
        level=str(warning.level),
        object_key=warning.object_key,
        period_key=warning.period_key,
        person_id=warning.person_id,
        unit_id=warning.unit_id,
        employee_no=warning.evidence.get("employee_no"),
        evidence=warning.evidence,
        hit_count=warning.hit_count,
        raised_at=warning.raised_at,
        last_hit_at=warning.last_hit_at,
        verdict=Finding(verdict.result) if verdict else None,
        verdict_note=verdict.cause if verdict else None,
        verdict_round=verdict.round if verdict else None,
    )


def months_before(now: datetime, months: int) -> datetime:
    """The same moment ``months`` calendar months earlier (the day clamped to the month's length)."""
    year, month = divmod(now.year * 12 + now.month - 1 - months, 12)
    day = min(now.day, calendar.monthrange(year, month + 1)[1])
    return now.replace(year=year, month=month + 1, day=day)


def is_due(period: Period, last_run_at: datetime | None, now: datetime) -> bool:
    """Due once per monitoring period (Shanghai calendar): daily, ISO week, month."""
    if last_run_at is None:
        return True
    last, today = local(last_run_at).date(), local(now).date()
    if period == Period.daily:
        return last < today
    if period == Period.weekly:
        return last.isocalendar()[:2] != today.isocalendar()[:2]
    return (last.year, last.month) != (today.year, today.month)
