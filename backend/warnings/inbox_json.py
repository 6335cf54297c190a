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
from typing import Any, NamedTuple

from litestar.serialization import encode_json
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.kernel.access import Principal
from backend.kernel.db import is_inline, read_rows, read_stored
from backend.kernel.encoding import encoded
from backend.kernel.timeutil import SHANGHAI, utcnow
from backend.kernel.watch import change_watch
from backend.warnings.models import OPEN_STATES
from backend.warnings.service import (
    CASE_ROLES,
    InboxFilters,
    own_inbox_values,
)

#: the topic of the change watch (PostgreSQL) a person's warnings are told under, and its table
INBOX = "inbox"
WATCHED = {"warning": INBOX}
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


def _page_sql(has_level: bool) -> str:
    """The whole InboxPage as one JSON text, built by SQLite (JSON1): counts per level from the
    covering index (person, trial, level), the page from the index (person, raised_at)."""
    mine = "person_id = :person_id AND trial IS 0"
    item = ", ".join(
        [
            "'id', id", "'topic_id', topic_id", "'topic_code', topic_code", "'specialty', specialty",
            "'level', level", "'state', state", "'person_id', person_id", "'unit_id', unit_id",
            "'object_key', object_key", "'period_key', period_key",
            "'evidence', CASE WHEN evidence IS NULL OR evidence = 'null' THEN json('{}') "
            "ELSE json(evidence) END",
            f"'raised_at', {_local_sql('raised_at')}", f"'due_at', {_local_sql('due_at')}",
            "'due_on', CASE WHEN due_at IS NULL THEN NULL ELSE date(substr(due_at, 1, 19), '+8 hours') END",
            f"'deadline_provisional', {_flag_sql('deadline_provisional')}",
            f"'overdue', {_flag_sql(f'due_at IS NOT NULL AND due_at < :now AND state IN ({_OPEN_SQL})')}",
            f"'open', {_flag_sql(f'state IN ({_OPEN_SQL})')}",
            "'finding', nullif(finding, '')", "'submissions', coalesce(submissions, 0)",
            "'hit_count', hit_count",
        ]
    )  # fmt: skip
    level = " AND level = :level" if has_level else ""
    total = "CASE :level WHEN 'high' THEN h WHEN 'medium' THEN m ELSE l END" if has_level else "h + m + l"
    # built from constants only (no caller's value is ever pasted in: those are bound parameters);
    # besides the page: the person's inbox version (same snapshot), the ids shown (the trail), and
    # the earliest deadline on the page still ahead (an open item turns overdue then)
    return (
        "WITH page AS MATERIALIZED ("  # noqa: S608
        f"SELECT * FROM warning WHERE {mine}{level} ORDER BY raised_at DESC, id DESC "
        "LIMIT :limit OFFSET :offset) "
        "SELECT json_object('items', (SELECT json_group_array(json_object("
        f"{item})) FROM page), "
        f"'total', {total}, 'counts', json_object('high', h, 'medium', m, 'low', l), "
        "'limit', :limit, 'offset', :offset), "
        "(SELECT version FROM inbox_version WHERE person_id = :person_id), "
        "(SELECT group_concat(id) FROM page), "
        f"(SELECT min(due_at) FROM page WHERE state IN ({_OPEN_SQL}) AND due_at >= :now) FROM ("
        "SELECT coalesce(sum(level = 'high'), 0) AS h, coalesce(sum(level = 'medium'), 0) AS m, "
        f"coalesce(sum(level = 'low'), 0) AS l FROM warning WHERE {mine})"
    )


_PAGE = {has_level: text(_page_sql(has_level)) for has_level in (False, True)}


def _pg_local(column: str) -> str:
    """PostgreSQL: a timestamptz as Python's ``isoformat()`` of it in Asia/Shanghai (+08:00)."""
    local = f"({column} AT TIME ZONE 'Asia/Shanghai')"
    return (
        f"CASE WHEN {column} IS NULL THEN NULL ELSE to_char({local}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
        f"CASE WHEN extract(microseconds FROM {local})::bigint % 1000000 = 0 THEN '' "
        f"ELSE to_char({local}, '.US') END || '+08:00' END"
    )


def _pg_page_sql(has_level: bool) -> str:
    """The same page as :func:`_page_sql`, written by PostgreSQL (json_build_object, json_agg)."""
    mine = "person_id = :person_id AND trial = false"
    is_open = f"state IN ({_OPEN_SQL})"
    item = ", ".join(
        [
            "'id', id", "'topic_id', topic_id", "'topic_code', topic_code", "'specialty', specialty",
            "'level', level", "'state', state", "'person_id', person_id", "'unit_id', unit_id",
            "'object_key', object_key", "'period_key', period_key",
            "'evidence', CASE WHEN evidence IS NULL OR evidence::text = 'null' THEN '{}'::json "
            "ELSE evidence END",
            f"'raised_at', {_pg_local('raised_at')}", f"'due_at', {_pg_local('due_at')}",
            "'due_on', to_char(due_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD')",
            "'deadline_provisional', deadline_provisional",
            f"'overdue', (due_at IS NOT NULL AND due_at < now() AND {is_open})",
            f"'open', ({is_open})",
            "'finding', nullif(finding, '')", "'submissions', coalesce(submissions, 0)",
            "'hit_count', hit_count",
        ]
    )  # fmt: skip
    level = " AND level = :level" if has_level else ""
    total = "CASE CAST(:level AS text) WHEN 'high' THEN h WHEN 'medium' THEN m ELSE l END"
    return (
        "WITH page AS MATERIALIZED ("  # noqa: S608
        f"SELECT * FROM warning WHERE {mine}{level} ORDER BY raised_at DESC, id DESC "
        "LIMIT :limit OFFSET :offset) "
        "SELECT json_build_object('items', (SELECT coalesce(json_agg(json_build_object("
        f"{item}) ORDER BY raised_at DESC, id DESC), '[]'::json) FROM page), "
        f"'total', {total if has_level else 'h + m + l'}, "
        "'counts', json_build_object('high', h, 'medium', m, 'low', l), "
        "'limit', CAST(:limit AS integer), 'offset', CAST(:offset AS integer))::text, "
        "(SELECT string_agg(id::text, ',' ORDER BY raised_at DESC, id DESC) FROM page), "
        f"(SELECT min(due_at) FROM page WHERE due_at > now() AND {is_open}) FROM ("
        "SELECT count(*) FILTER (WHERE level = 'high') AS h, count(*) FILTER (WHERE level = 'medium') AS m, "
        f"count(*) FILTER (WHERE level = 'low') AS l FROM warning WHERE {mine}) AS tally"
    )


_PG_PAGE = {has_level: text(_pg_page_sql(has_level)) for has_level in (False, True)}


_VERSION = text("SELECT version FROM inbox_version WHERE person_id = :person_id")


class _Kept(NamedTuple):
    #: SQLite: the person's inbox_version (None: no row yet); PostgreSQL: ChangeWatch.version
    version: object
    #: the earliest deadline on the page still ahead when it was made (SQLite: its stored text;
    #: PostgreSQL: an aware datetime)
    fresh_until: Any
    body: bytes
    ids: tuple[int, ...]
    #: the body compressed, per encoding, made when first asked for (backend/kernel/encoding.py)
    packed: dict[str, bytes]


class PageCache:
    """Own-inbox pages kept per database, least recently used dropped beyond ``size``.

    A kept page is answered again only while (a) the person's ``inbox_version`` — raised by
    triggers in the same transaction as any change to their warnings, by any process — is the one
    it was made at, and (b) no open item on it has passed its deadline since (``overdue`` turns).
    The version is read before the page is made, in the page's own statement, so a page is never
    kept under a version older than what it shows."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._pages: OrderedDict[tuple[int, str | None, int, int], _Kept] = OrderedDict()

    def get(self, key: tuple[int, str | None, int, int], version: object, now: Any) -> _Kept | None:
        kept = self._pages.get(key)
        if (
            kept is None
            or kept.version != version
            or (kept.fresh_until is not None and now > kept.fresh_until)
        ):
            return None
        self._pages.move_to_end(key)
        return kept

    def put(self, key: tuple[int, str | None, int, int], kept: _Kept) -> None:
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


async def _stored_page(
    engine: AsyncEngine, principal: Principal, filters: InboxFilters, limit: int, offset: int, keep: int
) -> OwnInbox:
    """The page's JSON as SQLite wrote it (SQLite only), kept while unchanged (``PageCache``)."""
    now = utcnow().replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    level = filters.level.value if filters.level else None
    cache = page_cache(engine, keep)
    key = (principal.person_id, level, limit, offset)
    if cache is not None:
        found = await read_stored(engine, _VERSION, {"person_id": principal.person_id})
        kept = cache.get(key, found[0][0] if found else None, now)
        if kept is not None:
            return OwnInbox(kept.body, kept.ids, kept.packed)
    params: dict[str, Any] = {"person_id": principal.person_id, "limit": limit, "offset": offset, "now": now}
    if level:
        params["level"] = level
    body, version, ids, fresh_until = (await read_stored(engine, _PAGE[level is not None], params))[0]
    packed: dict[str, bytes] = {}
    page = OwnInbox(str(body).encode(), _ids(ids), packed)
    if cache is not None:
        cache.put(key, _Kept(version, fresh_until, page.body, page.ids, packed))
    return page


async def _pg_page(
    engine: AsyncEngine, principal: Principal, filters: InboxFilters, limit: int, offset: int, keep: int
) -> OwnInbox:
    """The page's JSON as PostgreSQL wrote it, kept while the database has told no change of the
    person's warnings (``backend/kernel/watch.py``) and no item's deadline has passed."""
    watch = change_watch(engine) if keep > 0 else None
    cache = page_cache(engine, keep) if watch is not None else None
    version = watch.version(INBOX, principal.person_id) if watch is not None else None
    level = filters.level.value if filters.level else None
    key = (principal.person_id, level, limit, offset)
    if cache is not None and version is not None:
        kept = cache.get(key, version, utcnow())
        if kept is not None:
            return OwnInbox(kept.body, kept.ids, kept.packed)
    params: dict[str, Any] = {"person_id": principal.person_id, "limit": limit, "offset": offset}
    if level:
        params["level"] = level
    body, ids, fresh_until = (await read_rows(engine, _PG_PAGE[level is not None], params))[0]
    packed: dict[str, bytes] = {}
    page = OwnInbox(str(body).encode(), _ids(ids), packed)
    # kept only if no change was told while it was read (it may show the state before or after)
    told = watch.version(INBOX, principal.person_id) if watch is not None else None
    if cache is not None and version is not None and told == version:
        cache.put(key, _Kept(version, fresh_until, page.body, page.ids, packed))
    return page


def _only_level(filters: InboxFilters) -> bool:
    return filters == InboxFilters(level=filters.level)


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
) -> OwnInbox:
    """The caller's own inbox page as JSON; on SQLite up to ``keep`` pages are kept (``PageCache``)."""
    if _only_level(filters) and principal.has(*CASE_ROLES):
        if is_inline(engine):
            return await _stored_page(engine, principal, filters, limit, offset, keep)
        if engine.dialect.name == "postgresql":
            return await _pg_page(engine, principal, filters, limit, offset, keep)
    page = await own_inbox_values(engine, principal, filters, limit=limit, offset=offset)
    return OwnInbox(inbox_json(page), tuple(int(item["id"]) for item in page["items"]))
