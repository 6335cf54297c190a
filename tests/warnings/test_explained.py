"""A warning explains itself (its topic's name and instruction, its evidence labelled in the
person's language) and the inbox puts urgent work first (待办 / 已办, overdue → level → deadline)."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta
from typing import Any

from backend.kernel.timeutil import SHANGHAI, utcnow

SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")
TOPIC = {
    "code": "MK-090",
    "name": "10千伏及以上客户基本电费少收",
    "name_en": "Basic fee under-collected",
    "instruction": "请核查该户本月基本电费少收的原因。",
    "instruction_en": "Check why the basic fee was under-billed this month.",
    "specialty": "marketing",
    "labels": {
        "billed_ratio": {
            "label": "实收占应收比例",
            "label_en": "Billed share of the fee due",
            "unit": "percent",
        },
        "basic_fee_due": {"label": "应收基本电费", "label_en": "Basic fee due", "unit": "yuan"},
    },
}
TABLE = {
    "name": "swaps_explained",
    "title": "表计装拆记录",
    "owner_unit_code": "C01-YX",
    "columns": [
        {"name": "account_no", "type": "VARCHAR", "label": "户号"},
        {"name": "swap_date", "type": "DATE"},
        {"name": "kwh_before", "type": "DOUBLE"},
    ],
}
EVIDENCE = {
    "measure": "billed_ratio",
    "value": 0.45,
    "direction": "below",
    "bound": 0.5,
    "rule_version": 1,
    "employee_no": "E0005",
    "values": {
        "billed_ratio": 0.45,
        "basic_fee_due": 5000,
        "swap_date": "2026-12-18",
        "kwh_before": 1234.5,
        "not_labelled": 3,
    },
}


async def labelled_topic(client: Any, sessions: Any) -> dict[str, Any]:
    admin = await sessions.headers("admin")
    topic = await client.post("/api/topics", json=TOPIC, headers=admin)
    assert topic.status_code == 201, topic.text
    table = await client.post("/api/data/tables", json=TABLE, headers=admin)
    assert table.status_code == 201, table.text
    labels = {
        "columns": {
            "swap_date": {"label": "换表日期", "label_en": "Meter changed on", "unit": "date"},
            "kwh_before": {"label": "换表前电量", "label_en": "Usage before", "unit": "kwh"},
        }
    }
    patched = await client.patch(f"/api/data/tables/{TABLE['name']}/labels", json=labels, headers=admin)
    assert patched.status_code == 200, patched.text
    by_name = {c["name"]: c for c in patched.json()["columns"]}
    assert by_name["swap_date"]["label_en"] == "Meter changed on" and by_name["kwh_before"]["unit"] == "kwh"
    unknown = await client.patch(
        f"/api/data/tables/{TABLE['name']}/labels",
        json={"columns": {"nope": {"label": "无"}}},
        headers=admin,
    )
    assert unknown.status_code == 400 and unknown.json()["code"] == "unknown_column"
    as_manager = await client.patch(
        f"/api/data/tables/{TABLE['name']}/labels", json=labels, headers=await sessions.headers("manager")
    )
    assert as_manager.status_code == 403
    body: dict[str, Any] = topic.json()
    assert body["labels"]["billed_ratio"]["unit"] == "percent"
    return body


def shown_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


async def test_a_warning_explains_itself_in_chinese_and_in_english(client, sessions, seed):
    topic = await labelled_topic(client, sessions)
    wid = await seed.warning("E0005", topic_id=topic["id"], topic_code=topic["code"], evidence=EVIDENCE)
    h = await sessions.headers("manager")
    zh = (await client.get(f"/api/warnings/{wid}", headers=h)).json()
    assert zh["warning"]["topic_name"] == TOPIC["name"]
    assert zh["warning"]["instruction"] == TOPIC["instruction"]
    assert zh["evidence_items"] == [
        {"label": "实收占应收比例", "value": "45%", "unit": "%"},
        {"label": "预警阈值", "value": "低于 50%", "unit": ""},
        {"label": "应收基本电费", "value": "¥5,000.00", "unit": "¥"},
        {"label": "换表日期", "value": "12月18日（周五）", "unit": ""},
        {"label": "换表前电量", "value": "1,234.5 kWh", "unit": "kWh"},
    ]
    en = (await client.get(f"/api/warnings/{wid}", params={"lang": "en"}, headers=h)).json()
    assert en["warning"]["topic_name"] == "Basic fee under-collected"
    assert en["warning"]["instruction"] == TOPIC["instruction_en"]
    assert en["evidence_items"] == [
        {"label": "Billed share of the fee due", "value": "45%", "unit": "%"},
        {"label": "Threshold", "value": "below 50%", "unit": ""},
        {"label": "Basic fee due", "value": "¥5,000.00", "unit": "¥"},
        {"label": "Meter changed on", "value": "Fri 18 Dec", "unit": ""},
        {"label": "Usage before", "value": "1,234.5 kWh", "unit": "kWh"},
    ]
    for body in (zh, en):
        shown = shown_text(body["evidence_items"])
        assert not SNAKE.search(shown) and "E0005" not in shown and "2026-12-18" not in shown
    # the inbox rows carry the name and the instruction too, in the language asked for
    for lang, name in (("zh-CN", TOPIC["name"]), ("en", TOPIC["name_en"])):
        for params in ({"box": "todo"}, {"box": "todo", "topic": topic["code"]}):  # fast and general path
            page = (await client.get("/api/warnings", params={**params, "lang": lang}, headers=h)).json()
            assert [(i["topic_name"], i["id"]) for i in page["items"]] == [(name, wid)], (lang, params)
    # a topic renamed shows at once, kept inbox pages included
    admin = await sessions.headers("admin")
    renamed = await client.patch(f"/api/topics/{topic['id']}", json={"name": "基本电费少收"}, headers=admin)
    assert renamed.status_code == 200
    page = (await client.get("/api/warnings", params={"box": "todo"}, headers=h)).json()
    assert page["items"][0]["topic_name"] == "基本电费少收"


async def reply(client: Any, headers: dict[str, str], wid: int) -> None:
    body = {"client_id": str(uuid.uuid4()), "result": "not_true", "cause": "正常"}
    r = await client.post(f"/api/warnings/{wid}/verifications", json=body, headers=headers)
    assert r.status_code == 201, r.text


async def test_todo_is_overdue_first_then_level_then_deadline_and_done_is_apart(client, sessions, seed):
    long_ago = datetime(2025, 3, 3, 9, tzinfo=SHANGHAI)
    low = await seed.warning("E0005", level="low")
    high = await seed.warning("E0005", level="high")
    medium = await seed.warning("E0005", level="medium")
    late_low = await seed.warning("E0005", level="low", raised_at=long_ago)
    late_high = await seed.warning("E0005", level="high", raised_at=long_ago + timedelta(days=30))
    answered = await seed.warning("E0005", level="high")
    h = await sessions.headers("manager")
    await reply(client, h, answered)
    expected = [late_high, late_low, high, medium, low]
    for extra in ({}, {"topic": "T01"}):  # the phone's one statement, and the general path
        todo = (await client.get("/api/warnings", params={"box": "todo", **extra}, headers=h)).json()
        assert [i["id"] for i in todo["items"]] == expected, extra
        assert todo["counts"] == {"high": 2, "medium": 1, "low": 2}, extra
        assert (todo["total"], todo["todo"], todo["done"]) == (5, 5, 1), extra
        by_id = {i["id"]: i for i in todo["items"]}
        assert by_id[late_low]["overdue_days"] > by_id[late_high]["overdue_days"] > 0
        assert by_id[late_low]["days_left"] is None
        assert 0 < by_id[high]["days_left"] <= 10 and by_id[high]["overdue_days"] is None
        assert by_id[high]["days_left"] < by_id[medium]["days_left"] < by_id[low]["days_left"]
        done = (await client.get("/api/warnings", params={"box": "done", **extra}, headers=h)).json()
        assert [i["id"] for i in done["items"]] == [answered], extra
        assert done["items"][0]["days_left"] is None and done["items"][0]["overdue_days"] is None
        assert done["counts"] == {"high": 1, "medium": 0, "low": 0} and done["total"] == 1
        paged = [
            i["id"]
            for offset in (0, 2, 4)
            for i in (
                await client.get(
                    "/api/warnings", params={"box": "todo", "limit": 2, "offset": offset, **extra}, headers=h
                )
            ).json()["items"]
        ]
        assert paged == expected, extra
    red = (await client.get("/api/warnings", params={"box": "todo", "level": "high"}, headers=h)).json()
    assert [i["id"] for i in red["items"]] == [late_high, high] and red["total"] == 2
    # the fast path answers what the general path answers, field for field
    fast = (await client.get("/api/warnings", params={"box": "todo", "lang": "en"}, headers=h)).json()
    general = (
        await client.get("/api/warnings", params={"box": "todo", "lang": "en", "topic": "T01"}, headers=h)
    ).json()
    assert fast == general


async def test_unit_and_scope_views_say_whose_warning_it_is(client, sessions, seed):
    mine = await seed.warning("E0005", level="low")
    heads_own = await seed.warning("E0004", level="high", raised_at=datetime(2025, 3, 3, 9, tzinfo=SHANGHAI))
    names = {}
    for user, wid in (("manager", mine), ("head", heads_own)):
        me = (await client.get("/api/auth/me", headers=await sessions.headers(user))).json()
        person = await client.get(f"/api/people/{me['person_id']}", headers=await sessions.headers("head"))
        names[wid] = person.json()["name"]
    for user, view in (("head", "unit"), ("inspector", "scope")):
        page = (
            await client.get(
                "/api/warnings", params={"view": view, "box": "todo"}, headers=await sessions.headers(user)
            )
        ).json()
        assert [(i["id"], i["person_name"]) for i in page["items"]] == [
            (heads_own, names[heads_own]),
            (mine, names[mine]),
        ], user
        assert page["counts"] == {"high": 1, "medium": 0, "low": 1}
        shown = shown_text([i["person_name"] for i in page["items"]])
        assert "manager" not in shown and "E000" not in shown
    detail = (await client.get(f"/api/warnings/{mine}", headers=await sessions.headers("head"))).json()
    assert detail["warning"]["person_name"] == names[mine]


async def test_a_kept_todo_page_ends_when_any_open_item_turns_overdue(
    client, sessions, seed, monkeypatch, settings
):
    """A page of the 待办 list is kept (SQLite) until the earliest deadline of *any* open item of the
    person: an item on a later page that turns overdue moves to the top of the first one."""
    if not settings.is_sqlite:
        import pytest

        pytest.skip("pages are kept on PostgreSQL only while the change watch listens (test_inbox_watched)")
    now = utcnow()
    first = await seed.warning("E0005", level="high", deliver=False, due_at=now + timedelta(days=2))
    soon = await seed.warning("E0005", level="low", deliver=False, due_at=now + timedelta(minutes=1))
    h = await sessions.headers("manager")
    page = (await client.get("/api/warnings", params={"box": "todo", "limit": 1}, headers=h)).json()
    assert [i["id"] for i in page["items"]] == [first]
    from backend.warnings import inbox_json

    monkeypatch.setattr(inbox_json, "utcnow", lambda: now + timedelta(minutes=2))
    page = (await client.get("/api/warnings", params={"box": "todo", "limit": 1}, headers=h)).json()
    assert [i["id"] for i in page["items"]] == [soon]
    assert page["items"][0]["overdue"] is True
