"""The employee inbox as JSON bytes: the phone's most frequent request, kept short.

:func:`own_inbox_json` answers ``GET /api/warnings`` (view *mine*) with the bytes of an
``InboxPage``. On SQLite, unfiltered or filtered by level only (what the phone asks), SQLite writes
the whole page's JSON itself (JSON1: counts per level from the covering index person/trial/level,
the page from the index person/raised_at, local times and flags as the API gives them) in one
statement, compiled once and run on a plain ``sqlite3`` connection on the loop's thread
(``read_stored``): no rows, dicts or encoder in Python. PostgreSQL writes the same page with
json_build_object / json_agg. Other filters take ``own_inbox_values`` and encode its values. All
give the same JSON (tested against each other on both databases, and against the unit view).
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from datetime import datetime
from typing import Any, NamedTuple

from litestar.serialization import encode_json
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.kernel.access import Principal
from backend.kernel.db import is_inline, read_rows, read_stored
from backend.kernel.encoding import encoded
from backend.kernel.timeutil import SHANGHAI, as_utc, utcnow
from backend.kernel.watch import change_watch
from backend.warnings.evidence import pick_lang
from backend.warnings.inbox import (
    CASE_ROLES,
    InboxFilters,
    base_days,
    next_midnight,
    own_inbox_values,
    today_local,
)
from backend.warnings.models import OPEN_STATES
from backend.warnings.schemas import InboxBox

#: the topic of the change watch (PostgreSQL) a person's warnings are told under, and its table
INBOX = "inbox"
#: a topic's name and instruction show on every inbox page of its warnings
WATCHED = {"warning": INBOX, "topic": INBOX}
#: of those, the tables whose rows are a person's (a warning): a person's own writes to them end
#: their own pages only (``backend/kernel/watch.py acting_person``); a topic's change ends all
BY_PERSON = frozenset({"warning"})
#: fields of a WarningSummary shown in local time (LocalDateTime)
LOCAL_FIELDS = ("raised_at", "due_at")
_OPEN = frozenset(s.value for s in OPEN_STATES)


def inbox_json(page: dict[str, Any]) -> bytes:
    """An InboxPage's JSON straight from ``own_inbox_values`` (no models)."""
    for item in page["items"]:
        for name in LOCAL_FIELDS:
            if item[name] is not None:
                item[name] = item[name].astimezone(SHANGHAI).isoformat()
    return encode_json(page)


def _local_sql(column: str) -> str:
    """SQLite: a stored naive-UTC timestamp as Python's ``isoformat()`` of it in Asia/Shanghai (which
    has kept +08:00 all year since 1992): seconds shifted, the stored microseconds kept, none if 0."""
    return (
        f"CASE WHEN {column} IS NULL THEN NULL ELSE "
        f"replace(datetime(substr({column}, 1, 19), '+8 hours'), ' ', 'T') || "
        f"CASE WHEN substr({column}, 20) IN ('', '.000000') THEN '' ELSE substr({column}, 20) END"
        " || '+08:00' END"
    )


def _flag_sql(condition: str) -> str:
    return f"json(CASE WHEN {condition} THEN 'true' ELSE 'false' END)"


_OPEN_SQL = ", ".join(f"'{s}'" for s in sorted(_OPEN))
_RANK_SQL = "CASE level WHEN 'high' THEN 0 WHEN 'medium' THEN 1 WHEN 'low' THEN 2 ELSE 3 END"
#: which items a box holds (no box: all)
_BOX_SQL = {
    None: "",
    InboxBox.todo: f" AND state IN ({_OPEN_SQL})",
    InboxBox.done: f" AND state NOT IN ({_OPEN_SQL})",
}


def _order_sql(box: InboxBox | None, now: str) -> str:
    """As ``inbox.order_by``: 待办 overdue first, then red, orange, yellow, then the nearest deadline."""
    newest = "raised_at DESC, id DESC"
    if box is not InboxBox.todo:
        return newest
    late = f"CASE WHEN due_at IS NOT NULL AND due_at < {now} THEN 0 ELSE 1 END"
    return f"{late}, {_RANK_SQL}, CASE WHEN due_at IS NULL THEN 1 ELSE 0 END, due_at, {newest}"


#: the topic's shown columns only (none of its names collide with the warning's)
_TOPIC = "(SELECT id AS topic_pk, name, name_en, instruction, instruction_en FROM topic) AS t"


def _shown_sql(en: bool) -> str:
    """The topic's name and instruction in the language (zh-CN where no English is given)."""
    if en:
        return (
            "coalesce(nullif(t.name_en, ''), t.name) AS shown_name, "
            "coalesce(nullif(t.instruction_en, ''), t.instruction) AS shown_instruction"
        )
    return "t.name AS shown_name, t.instruction AS shown_instruction"


def _page_sql(has_level: bool, box: InboxBox | None = None, en: bool = False) -> str:
    """The whole InboxPage as one JSON text, built by SQLite (JSON1): counts per level, the page
    (its topic's name and instruction joined, working days left counted over ``cal``: the days
    handed in as ``:days``, the overrides read here)."""
    mine = "person_id = :person_id AND trial IS 0"
    is_open = f"state IN ({_OPEN_SQL})"
    due_on = "date(substr(due_at, 1, 19), '+8 hours')"
    late = f"due_at IS NOT NULL AND due_at < :now AND {is_open}"
    item = ", ".join(
        [
            "'id', id", "'topic_id', topic_id", "'topic_code', topic_code", "'specialty', specialty",
            "'level', level", "'state', state", "'person_id', person_id", "'unit_id', unit_id",
            "'object_key', object_key", "'period_key', period_key",
            "'evidence', CASE WHEN evidence IS NULL OR evidence = 'null' THEN json('{}') "
            "ELSE json(evidence) END",
            f"'raised_at', {_local_sql('raised_at')}", f"'due_at', {_local_sql('due_at')}",
            f"'due_on', CASE WHEN due_at IS NULL THEN NULL ELSE {due_on} END",
            f"'deadline_provisional', {_flag_sql('deadline_provisional')}",
            f"'overdue', {_flag_sql(late)}",
            f"'open', {_flag_sql(is_open)}",
            "'finding', nullif(finding, '')", "'submissions', coalesce(submissions, 0)",
            "'hit_count', hit_count",
            "'topic_name', nullif(shown_name, '')", "'instruction', nullif(shown_instruction, '')",
            "'person_name', NULL",
            f"'days_left', CASE WHEN due_at IS NULL OR NOT ({is_open}) OR due_at < :now THEN NULL "  # noqa: S608
            f"ELSE (SELECT count(*) FROM cal WHERE cal.day <= {due_on}) END",
            f"'overdue_days', CASE WHEN {late} "
            f"THEN CAST(julianday(:today) - julianday({due_on}) AS INTEGER) END",
        ]
    )  # fmt: skip
    level = " AND level = :level" if has_level else ""
    inside = _BOX_SQL[box].removeprefix(" AND ") or "1"
    total = "CASE :level WHEN 'high' THEN h WHEN 'medium' THEN m ELSE l END" if has_level else "h + m + l"
    # built from constants only (no caller's value is ever pasted in: those are bound parameters);
    # besides the page: the person's inbox version (same snapshot), the ids shown (the trail), and
    # the earliest deadline still ahead of any open item of the person (it turns overdue then and
    # moves up the 待办 list, on this page or onto it)
    return (
        "WITH cal AS MATERIALIZED (SELECT json_extract(d.value, '$[0]') AS day "  # noqa: S608
        "FROM json_each(:days) AS d LEFT JOIN calendar_override o ON o.day = json_extract(d.value, '$[0]') "
        "WHERE coalesce(o.kind = 'workday', json_extract(d.value, '$[1]') = 1)), "
        f"page AS MATERIALIZED (SELECT w.*, {_shown_sql(en)} FROM warning w "
        f"LEFT JOIN {_TOPIC} ON t.topic_pk = w.topic_id WHERE w.{mine}{_BOX_SQL[box]}{level} "
        f"ORDER BY {_order_sql(box, ':now')} LIMIT :limit OFFSET :offset) "
        "SELECT json_object('items', (SELECT json_group_array(json_object("
        f"{item})) FROM page), "
        f"'total', {total}, 'counts', json_object('high', h, 'medium', m, 'low', l), "
        "'limit', :limit, 'offset', :offset, 'todo', o, 'done', n - o), "
        "(SELECT version FROM inbox_version WHERE person_id = :person_id), "
        "(SELECT group_concat(id) FROM page), "
        f"(SELECT min(due_at) FROM warning WHERE {mine} AND {is_open} AND due_at >= :now) FROM ("
        f"SELECT coalesce(sum(level = 'high' AND {inside}), 0) AS h, "
        f"coalesce(sum(level = 'medium' AND {inside}), 0) AS m, "
        f"coalesce(sum(level = 'low' AND {inside}), 0) AS l, coalesce(sum({is_open}), 0) AS o, "
        f"count(*) AS n FROM warning WHERE {mine})"
    )


_VARIANTS = [(has_level, box, en) for has_level in (False, True) for box in _BOX_SQL for en in (False, True)]
_PAGE = {variant: text(_page_sql(*variant)) for variant in _VARIANTS}


def _pg_local(column: str) -> str:
    """PostgreSQL: a timestamptz as Python's ``isoformat()`` of it in Asia/Shanghai (+08:00)."""
    local = f"({column} AT TIME ZONE 'Asia/Shanghai')"
    return (
        f"CASE WHEN {column} IS NULL THEN NULL ELSE to_char({local}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
        f"CASE WHEN extract(microseconds FROM {local})::bigint % 1000000 = 0 THEN '' "
        f"ELSE to_char({local}, '.US') END || '+08:00' END"
    )


def _pg_page_sql(has_level: bool, box: InboxBox | None = None, en: bool = False) -> str:
    """The same page as :func:`_page_sql`, written by PostgreSQL (json_build_object, json_agg)."""
    mine = "person_id = :person_id AND trial = false"
    is_open = f"state IN ({_OPEN_SQL})"
    # the local due day, made once per item in ``page`` (not once per day of ``cal`` it is
    # compared with, as an expression of the outer row would be)
    due_on = "page_due_on"
    late = f"due_at IS NOT NULL AND due_at < now() AND {is_open}"
    item = ", ".join(
        [
            "'id', id", "'topic_id', topic_id", "'topic_code', topic_code", "'specialty', specialty",
            "'level', level", "'state', state", "'person_id', person_id", "'unit_id', unit_id",
            "'object_key', object_key", "'period_key', period_key",
            "'evidence', CASE WHEN evidence IS NULL OR evidence::text = 'null' THEN '{}'::json "
            "ELSE evidence END",
            f"'raised_at', {_pg_local('raised_at')}", f"'due_at', {_pg_local('due_at')}",
            f"'due_on', {due_on}",
            "'deadline_provisional', deadline_provisional",
            f"'overdue', ({late})",
            f"'open', ({is_open})",
            "'finding', nullif(finding, '')", "'submissions', coalesce(submissions, 0)",
            "'hit_count', hit_count",
            "'topic_name', nullif(shown_name, '')", "'instruction', nullif(shown_instruction, '')",
            "'person_name', NULL",
            f"'days_left', CASE WHEN due_at IS NULL OR NOT ({is_open}) OR due_at < now() THEN NULL "  # noqa: S608
            f"ELSE (SELECT count(*) FROM cal WHERE cal.day <= {due_on}) END",
            f"'overdue_days', CASE WHEN {late} THEN CAST(CAST(:today AS text) AS date) - "
            "CAST(due_at AT TIME ZONE 'Asia/Shanghai' AS date) END",
        ]
    )  # fmt: skip
    level = " AND level = :level" if has_level else ""
    inside = _BOX_SQL[box].removeprefix(" AND ") or "true"
    total = "CASE CAST(:level AS text) WHEN 'high' THEN h WHEN 'medium' THEN m ELSE l END"
    order = _order_sql(box, "now()")
    return (
        "WITH cal AS MATERIALIZED (SELECT d->>0 AS day "  # noqa: S608
        "FROM json_array_elements(CAST(CAST(:days AS text) AS json)) AS d "
        "LEFT JOIN calendar_override o ON o.day = CAST(d->>0 AS date) "
        "WHERE coalesce(o.kind = 'workday', d->>1 = '1')), "
        f"page AS MATERIALIZED (SELECT w.*, {_shown_sql(en)}, "
        "to_char(w.due_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD') AS page_due_on FROM warning w "
        f"LEFT JOIN {_TOPIC} ON t.topic_pk = w.topic_id WHERE w.{mine}{_BOX_SQL[box]}{level} "
        f"ORDER BY {order} LIMIT :limit OFFSET :offset) "
        "SELECT json_build_object('items', (SELECT coalesce(json_agg(json_build_object("
        f"{item}) ORDER BY {order}), '[]'::json) FROM page), "
        f"'total', {total if has_level else 'h + m + l'}, "
        "'counts', json_build_object('high', h, 'medium', m, 'low', l), "
        "'limit', CAST(:limit AS integer), 'offset', CAST(:offset AS integer), "
        "'todo', o, 'done', n - o)::text, "
        f"(SELECT string_agg(id::text, ',' ORDER BY {order}) FROM page), "
        f"(SELECT min(due_at) FROM warning WHERE {mine} AND {is_open} AND due_at > now()) FROM ("
        f"SELECT count(*) FILTER (WHERE level = 'high' AND {inside}) AS h, "
        f"count(*) FILTER (WHERE level = 'medium' AND {inside}) AS m, "
        f"count(*) FILTER (WHERE level = 'low' AND {inside}) AS l, "
        f"count(*) FILTER (WHERE {is_open}) AS o, count(*) AS n FROM warning WHERE {mine}) AS tally"
    )


_PG_PAGE = {variant: text(_pg_page_sql(*variant)) for variant in _VARIANTS}


_VERSION = text("SELECT version FROM inbox_version WHERE person_id = :person_id")


class _Kept(NamedTuple):
    #: SQLite: the person's inbox_version (None: no row yet); PostgreSQL: ChangeWatch.version
    version: object
    #: until when the page holds without a change (SQLite: naive-UTC text as stored; PostgreSQL: an
    #: aware datetime): the earliest deadline still ahead of the person's open items (it turns
    #: overdue and moves up the 待办 list), or the next local midnight (days left change)
    fresh_until: Any
    body: bytes
    ids: tuple[int, ...]
    #: the body compressed, per encoding, made when first asked for (backend/kernel/encoding.py)
    packed: dict[str, bytes]


#: person, level, box, language, limit, offset
PageKey = tuple[int, str | None, str | None, str, int, int]


class PageCache:
    """Own-inbox pages kept per database, least recently used dropped beyond ``size``.

    A kept page is answered again only while (a) the person's ``inbox_version`` — raised by
    triggers in the same transaction as any change to their warnings, by any process, and for
    everyone when a topic's name or instruction changes — is the one it was made at, and (b) no
    open item of the person has passed its deadline since (``overdue`` turns and the 待办 order
    changes, on this page or onto it) and the day has not turned (days left count down).
    The version is read before the page is made, in the page's own statement, so a page is never
    kept under a version older than what it shows."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._pages: OrderedDict[PageKey, _Kept] = OrderedDict()

    def get(self, key: PageKey, version: object, now: Any) -> _Kept | None:
        kept = self._pages.get(key)
        if (
            kept is None
            or kept.version != version
            or (kept.fresh_until is not None and now >= kept.fresh_until)
        ):
            return None
        self._pages.move_to_end(key)
        return kept

    def put(self, key: PageKey, kept: _Kept) -> None:
        self._pages[key] = kept
        self._pages.move_to_end(key)
        while len(self._pages) > self.size:
            self._pages.popitem(last=False)

    def __len__(self) -> int:
        return len(self._pages)


_CACHES: weakref.WeakKeyDictionary[AsyncEngine, PageCache] = weakref.WeakKeyDictionary()


def page_cache(engine: AsyncEngine, size: int) -> PageCache | None:
    """This database's kept pages (None when ``size`` is 0)."""
    if size <= 0:
        return None
    cache = _CACHES.get(engine)
    if cache is None or cache.size != size:
        cache = _CACHES[engine] = PageCache(size)
    return cache


def _ids(text_ids: Any) -> tuple[int, ...]:
    return tuple(int(x) for x in str(text_ids).split(",")) if text_ids else ()


def _stored(moment: datetime) -> str:
    """An aware time as SQLite stores it (naive UTC text)."""
    return as_utc(moment).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _params(
    principal: Principal, filters: InboxFilters, limit: int, offset: int, now: datetime
) -> dict[str, Any]:
    today = today_local(now)
    params: dict[str, Any] = {
        "person_id": principal.person_id,
        "limit": limit,
        "offset": offset,
        "today": today.isoformat(),
        "days": base_days(today),
    }
    if filters.level:
        params["level"] = filters.level.value
    return params


def _key(principal: Principal, filters: InboxFilters, lang: str, limit: int, offset: int) -> PageKey:
    level = filters.level.value if filters.level else None
    box = filters.box.value if filters.box else None
    return (principal.person_id, level, box, pick_lang(lang), limit, offset)


def _variant(filters: InboxFilters, lang: str) -> tuple[bool, InboxBox | None, bool]:
    return (filters.level is not None, filters.box, pick_lang(lang) == "en")


async def _stored_page(
    engine: AsyncEngine,
    principal: Principal,
    filters: InboxFilters,
    limit: int,
    offset: int,
    keep: int,
    lang: str,
) -> OwnInbox:
    """The page's JSON as SQLite wrote it (SQLite only), kept while unchanged (``PageCache``)."""
    moment = utcnow()
    now = _stored(moment)
    cache = page_cache(engine, keep)
    key = _key(principal, filters, lang, limit, offset)
    if cache is not None:
        found = await read_stored(engine, _VERSION, {"person_id": principal.person_id})
        kept = cache.get(key, found[0][0] if found else None, now)
        if kept is not None:
            return OwnInbox(kept.body, kept.ids, kept.packed)
    params = _params(principal, filters, limit, offset, moment) | {"now": now}
    body, version, ids, deadline = (await read_stored(engine, _PAGE[_variant(filters, lang)], params))[0]
    packed: dict[str, bytes] = {}
    page = OwnInbox(str(body).encode(), _ids(ids), packed)
    if cache is not None:
        midnight = _stored(next_midnight(moment))
        fresh_until = min(str(deadline), midnight) if deadline is not None else midnight
        cache.put(key, _Kept(version, fresh_until, page.body, page.ids, packed))
    return page


async def _pg_page(
    engine: AsyncEngine,
    principal: Principal,
    filters: InboxFilters,
    limit: int,
    offset: int,
    keep: int,
    lang: str,
) -> OwnInbox:
    """The page's JSON as PostgreSQL wrote it, kept while the database has told no change of the
    person's warnings (``backend/kernel/watch.py``), no deadline has passed and the day holds."""
    watch = change_watch(engine) if keep > 0 else None
    cache = page_cache(engine, keep) if watch is not None else None
    version = watch.version(INBOX, principal.person_id) if watch is not None else None
    key = _key(principal, filters, lang, limit, offset)
    moment = utcnow()
    if cache is not None and version is not None:
        kept = cache.get(key, version, moment)
        if kept is not None:
            return OwnInbox(kept.body, kept.ids, kept.packed)
    params = _params(principal, filters, limit, offset, moment)
    body, ids, deadline = (await read_rows(engine, _PG_PAGE[_variant(filters, lang)], params))[0]
    packed: dict[str, bytes] = {}
    page = OwnInbox(str(body).encode(), _ids(ids), packed)
    # kept only if no change was told while it was read (it may show the state before or after)
    told = watch.version(INBOX, principal.person_id) if watch is not None else None
    if cache is not None and version is not None and told == version:
        midnight = next_midnight(moment)
        fresh_until = min(deadline, midnight) if deadline is not None else midnight
        cache.put(key, _Kept(version, fresh_until, page.body, page.ids, packed))
    return page


def _only_level(filters: InboxFilters) -> bool:
    return filters == InboxFilters(level=filters.level, box=filters.box)


class OwnInbox(NamedTuple):
    """An own-inbox page: its JSON (an ``InboxPage``) and the ids of the warnings on it."""

    body: bytes
    ids: tuple[int, ...]
    #: encodings of the body already made (a kept page's, shared with later answers), or None
    packed: dict[str, bytes] | None = None

    def encoded(self, accept_encoding: str) -> tuple[bytes, dict[str, str]]:
        """The body as the client asked for it, and its Content-Encoding headers: a kept page is
        compressed once per encoding, not on every answer."""
        return encoded(self.body, accept_encoding, self.packed)


async def own_inbox_json(
    engine: AsyncEngine,
    principal: Principal,
    filters: InboxFilters,
    *,
    limit: int = 20,
    offset: int = 0,
    keep: int = 0,
    lang: str = "zh-CN",
) -> OwnInbox:
    """The caller's own inbox page as JSON; on SQLite up to ``keep`` pages are kept (``PageCache``)."""
    if _only_level(filters) and principal.has(*CASE_ROLES):
        if is_inline(engine):
            return await _stored_page(engine, principal, filters, limit, offset, keep, lang)
        if engine.dialect.name == "postgresql":
            return await _pg_page(engine, principal, filters, limit, offset, keep, lang)
    page = await own_inbox_values(engine, principal, filters, limit=limit, offset=offset, lang=lang)
    return OwnInbox(inbox_json(page), tuple(int(item["id"]) for item in page["items"]))
