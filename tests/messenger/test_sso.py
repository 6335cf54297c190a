"""WeCom single sign-on over HTTP: WeCom's OAuth (``snsapi_base``) code → user id → person → a
Probity session, the ``state`` bound to the browser that started it, a clear page for anyone the
directory here does not know."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
import pyotp
from sqlalchemy import select
from sqlmodel import col

from backend.audit.models import AuditRecord
from backend.messenger.controller import COOKIE
from tests.messenger.conftest import WeComWorld


async def start(world: WeComWorld, app_id: int, target: str) -> tuple[str, str]:
    """Open the 查看 link as WeCom's browser does; returns (where WeCom sends it back, the cookie)."""
    r = await world.client.get(
        f"/messenger/wecom/{app_id}/sso", params={"to": target}, follow_redirects=False
    )
    assert r.status_code == 302
    where = r.headers["location"]
    assert where.startswith(f"{world.fake.base}/connect/oauth2/authorize?appid=")
    assert "scope=snsapi_base" in where and where.endswith("#wechat_redirect")
    cookie = r.cookies[COOKIE]
    async with httpx.AsyncClient() as http:  # WeCom's OAuth page: straight back with a code
        back = await http.get(where.split("#", 1)[0], follow_redirects=False)
    assert back.status_code == 302
    parts = urlsplit(back.headers["location"])
    assert f"{parts.scheme}://{parts.netloc}" == "https://probity.test"
    return f"{parts.path}?{parts.query}", cookie


async def test_an_oauth_code_becomes_a_signed_in_session(world: WeComWorld) -> None:
    app_id = await world.set_up()
    wid = await world.seed.warning("E0005")
    world.fake.current_user = "zhangsan"
    back, cookie = await start(world, app_id, f"/warnings/{wid}")

    r = await world.client.get(back, headers={"Cookie": f"{COOKIE}={cookie}"}, follow_redirects=False)
    assert r.status_code == 302
    assert r.headers["location"].startswith("/#/sso/")
    code = r.headers["location"].rsplit("/", 1)[1]

    other_browser = await world.client.post(
        "/messenger/sso/exchange", json={"code": code}, headers={"Cookie": f"{COOKIE}={'0' * 32}"}
    )
    assert other_browser.status_code == 401 and other_browser.json()["code"] == "sso_expired"
    got = await world.client.post(
        "/messenger/sso/exchange", json={"code": code}, headers={"Cookie": f"{COOKIE}={cookie}"}
    )
    assert got.status_code == 200, got.text
    assert got.json()["target"] == f"/warnings/{wid}"
    me = await world.client.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {got.json()['access_token']}"}
    )
    assert me.status_code == 200 and me.json()["username"] == "manager"
    again = await world.client.post(
        "/messenger/sso/exchange", json={"code": code}, headers={"Cookie": f"{COOKIE}={cookie}"}
    )
    assert again.status_code == 401, "a handoff code works once"

    async with world.db.session() as s:
        login = (
            (
                await s.execute(
                    select(AuditRecord)
                    .where(col(AuditRecord.action) == "auth.login")
                    .order_by(col(AuditRecord.id).desc())
                )
            )
            .scalars()
            .first()
        )
    assert (
        login is not None
        and login.channel == "wecom"
        and login.actor_person_id == await world.person_id("E0005")
    )


async def test_a_state_from_another_browser_is_refused(world: WeComWorld) -> None:
    app_id = await world.set_up()
    world.fake.current_user = "zhangsan"
    back, _ = await start(world, app_id, "/warnings")
    r = await world.client.get(back, headers={"Cookie": f"{COOKIE}={'a1' * 16}"}, follow_redirects=False)
    assert r.status_code == 400
    assert "登录链接已失效" in r.text and 'lang="zh-CN"' in r.text


async def test_an_unknown_user_id_gets_a_clear_page(world: WeComWorld) -> None:
    app_id = await world.set_up()
    world.fake.members.add("stranger")
    world.fake.current_user = "stranger"
    back, cookie = await start(world, app_id, "/warnings")
    r = await world.client.get(back, headers={"Cookie": f"{COOKIE}={cookie}"}, follow_redirects=False)
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("text/html")
    assert "无法登录" in r.text
    assert "您的账号（stranger）还没有关联到本系统的人员" in r.text
    assert "_" not in r.text.split("<body>", 1)[1].replace("/#/login", ""), "no identifiers on the page"

    world.fake.current_user = "outsider"  # not a member of the corp at all
    back, cookie = await start(world, app_id, "/warnings")
    r = await world.client.get(back, headers={"Cookie": f"{COOKIE}={cookie}"}, follow_redirects=False)
    assert r.status_code == 403 and "只有本单位通讯录中的成员可以登录" in r.text


async def test_a_sign_in_lands_only_on_a_page_of_the_app(world: WeComWorld) -> None:
    app_id = await world.set_up()
    world.fake.current_user = "zhangsan"
    back, cookie = await start(world, app_id, "//evil.example/steal")
    r = await world.client.get(back, headers={"Cookie": f"{COOKIE}={cookie}"}, follow_redirects=False)
    code = r.headers["location"].rsplit("/", 1)[1]
    got = await world.client.post(
        "/messenger/sso/exchange", json={"code": code}, headers={"Cookie": f"{COOKIE}={cookie}"}
    )
    assert got.json()["target"] == "/warnings"


async def username_of(world: WeComWorld, token: str) -> str:
    me = await world.client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    return str(me.json()["username"])


async def sso_exchange(world: WeComWorld, app_id: int, target: str = "/warnings") -> dict[str, Any]:
    """zhangsan (the manager) signs in through WeCom; the PWA trades the handoff code."""
    world.fake.current_user = "zhangsan"
    back, cookie = await start(world, app_id, target)
    r = await world.client.get(back, headers={"Cookie": f"{COOKIE}={cookie}"}, follow_redirects=False)
    code = r.headers["location"].rsplit("/", 1)[1]
    got = await world.client.post(
        "/messenger/sso/exchange", json={"code": code}, headers={"Cookie": f"{COOKIE}={cookie}"}
    )
    assert got.status_code == 200, got.text
    return dict(got.json())


async def test_sso_does_not_skip_an_active_second_factor(world: WeComWorld) -> None:
    app_id = await world.set_up()
    headers = await world.sessions.headers("manager")
    secret = (await world.client.post("/api/auth/totp/setup", headers=headers)).json()["secret"]
    r = await world.client.post(
        "/api/auth/totp/activate", headers=headers, json={"code": pyotp.TOTP(secret).now()}
    )
    assert r.status_code == 200, r.text

    step = await sso_exchange(world, app_id, "/warnings/7")
    assert step["second_factor"] == "totp" and "access_token" not in step
    assert step["target"] == "/warnings/7"
    # the challenge is no session
    limited = {"Authorization": f"Bearer {step['challenge']}"}
    assert (await world.client.get("/api/auth/me", headers=limited)).status_code == 401
    wrong = await world.client.post(
        "/api/auth/login/totp", json={"challenge": step["challenge"], "code": "000000"}
    )
    assert wrong.status_code == 400 and wrong.json()["code"] == "totp_wrong_code"
    # the second step completes it (a recovery code: this window's TOTP code was spent on activation)
    done = await world.client.post(
        "/api/auth/login/totp", json={"challenge": step["challenge"], "code": r.json()["recovery_codes"][0]}
    )
    assert done.status_code == 200, done.text
    me = await world.client.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {done.json()['access_token']}"}
    )
    assert me.json()["username"] == "manager"
    async with world.db.session() as s:
        actions = [
            a.action
            for a in (await s.execute(select(AuditRecord).order_by(col(AuditRecord.id)))).scalars()
            if a.action.startswith("auth.login")
        ]
    assert "auth.login_second_step" in actions and actions[-1] == "auth.login"


async def test_sso_makes_a_role_that_must_enrol_enrol_first(world: WeComWorld) -> None:
    app_id = await world.set_up()
    app = world.client.app
    app.state.settings = app.state.settings.model_copy(update={"totp_required_roles": "employee"})
    step = await sso_exchange(world, app_id)
    assert step["second_factor"] == "enrol" and "access_token" not in step
    setup = await world.client.post("/api/auth/login/totp/setup", json={"challenge": step["challenge"]})
    assert setup.status_code == 200
    done = await world.client.post(
        "/api/auth/login/totp",
        json={"challenge": step["challenge"], "code": pyotp.TOTP(setup.json()["secret"]).now()},
    )
    assert done.status_code == 200, done.text
    me = await world.client.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {done.json()['access_token']}"}
    )
    assert me.json()["username"] == "manager"
