"""The TOTP second factor: enrolment, the two-step sign-in, recovery codes, replays, throttling."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pyotp
import pytest
from sqlalchemy import select

from backend.audit.models import AuditRecord
from backend.audit.service import AuditTrail
from backend.auth import totp as totp_module
from backend.auth.models import Account, LoginThrottle, TotpFactor
from backend.auth.service import AuthService, make_hasher
from backend.kernel.errors import Unauthorized
from backend.kernel.settings import Settings
from backend.kernel.timeutil import utcnow
from tests.conftest import TEST_SECRET


class Clock:
    """The second factor's clock, moved by hand (a new code every 30 s)."""

    def __init__(self) -> None:
        self.now = utcnow()

    def tick(self, seconds: float = 30) -> None:
        self.now += timedelta(seconds=seconds)

    def code(self, secret: str) -> str:
        return pyotp.TOTP(secret).at(self.now)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    found = Clock()
    monkeypatch.setattr(totp_module, "utcnow", lambda: found.now)
    return found


async def _login(client, username: str = "manager", password: str = "demo"):
    return await client.post("/api/auth/login", json={"username": username, "password": password})


async def _enrol(client, sessions, clock: Clock, username: str = "manager") -> tuple[str, list[str]]:
    """Enrol ``username`` from the profile: the secret and the recovery codes."""
    headers = await sessions.headers(username)
    setup = await client.post("/api/auth/totp/setup", headers=headers)
    assert setup.status_code == 200, setup.text
    secret = setup.json()["secret"]
    assert setup.json()["otpauth_uri"].startswith(f"otpauth://totp/Probity:{username}?secret={secret}")
    activated = await client.post(
        "/api/auth/totp/activate", headers=headers, json={"code": clock.code(secret)}
    )
    assert activated.status_code == 200, activated.text
    codes = activated.json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    return secret, codes


async def _second_step(client, challenge: str, code: str):
    return await client.post("/api/auth/login/totp", json={"challenge": challenge, "code": code})


async def test_enrol_then_sign_in_with_password_and_code(client, sessions, clock):
    headers = await sessions.headers("manager")
    before = (await client.get("/api/auth/totp", headers=headers)).json()
    assert before == {"active": False, "pending": False, "required": False, "recovery_codes_left": 0}
    # a wrong code does not activate
    setup = (await client.post("/api/auth/totp/setup", headers=headers)).json()
    wrong = await client.post("/api/auth/totp/activate", headers=headers, json={"code": "000000"})
    assert wrong.status_code == 400 and wrong.json()["code"] == "totp_wrong_code"
    assert (await client.get("/api/auth/totp", headers=headers)).json()["pending"] is True
    assert (await _login(client)).json().get("access_token")  # not active yet: password alone
    activated = await client.post(
        "/api/auth/totp/activate", headers=headers, json={"code": clock.code(setup["secret"])}
    )
    assert activated.status_code == 200
    status = (await client.get("/api/auth/totp", headers=headers)).json()
    assert status["active"] is True and status["recovery_codes_left"] == 10

    first = await _login(client)
    assert first.status_code == 200
    body = first.json()
    assert body["second_factor"] == "totp" and "access_token" not in body
    clock.tick()
    done = await _second_step(client, body["challenge"], clock.code(setup["secret"]))
    assert done.status_code == 200, done.text
    tokens = done.json()
    assert tokens["token_type"] == "bearer"
    me = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.json()["username"] == "manager"
    # the challenge is no bearer token
    assert (
        await client.get("/api/auth/me", headers={"Authorization": f"Bearer {body['challenge']}"})
    ).status_code == 401


async def test_a_code_is_accepted_once(client, sessions, clock):
    secret, _ = await _enrol(client, sessions, clock)
    # the code that activated the factor does not sign in (the same time step)
    challenge = (await _login(client)).json()["challenge"]
    replay = await _second_step(client, challenge, clock.code(secret))
    assert replay.status_code == 400 and replay.json()["code"] == "totp_wrong_code"
    clock.tick()
    code = clock.code(secret)
    assert (await _second_step(client, challenge, code)).status_code == 200
    again = (await _login(client)).json()["challenge"]
    assert (await _second_step(client, again, code)).status_code == 400  # replayed in its window
    # an older step is refused too
    clock.tick(-30)
    assert (await _second_step(client, again, clock.code(secret))).status_code == 400


async def test_recovery_code_signs_in_once(client, sessions, clock):
    _, codes = await _enrol(client, sessions, clock)
    challenge = (await _login(client)).json()["challenge"]
    done = await _second_step(client, challenge, codes[3].upper())
    assert done.status_code == 200 and done.json()["access_token"]
    challenge = (await _login(client)).json()["challenge"]
    spent = await _second_step(client, challenge, codes[3])
    assert spent.status_code == 400 and spent.json()["code"] == "totp_wrong_code"
    headers = {"Authorization": f"Bearer {done.json()['access_token']}"}
    assert (await client.get("/api/auth/totp", headers=headers)).json()["recovery_codes_left"] == 9


async def test_challenge_is_single_use_and_expires(client, sessions, clock):
    secret, _ = await _enrol(client, sessions, clock)
    challenge = (await _login(client)).json()["challenge"]
    clock.tick()
    assert (await _second_step(client, challenge, clock.code(secret))).status_code == 200
    clock.tick()
    reused = await _second_step(client, challenge, clock.code(secret))
    assert reused.status_code == 401 and reused.json()["code"] == "totp_challenge_invalid"

    late = (await _login(client)).json()["challenge"]
    clock.tick(5 * 60 + 1)
    expired = await _second_step(client, late, clock.code(secret))
    assert expired.status_code == 401 and expired.json()["code"] == "totp_challenge_invalid"
    forged = await _second_step(client, "not-a-challenge", clock.code(secret))
    assert forged.status_code == 401


async def test_wrong_codes_count_as_wrong_passwords(client, sessions, clock, db):
    await _enrol(client, sessions, clock)
    challenge = (await _login(client)).json()["challenge"]

    async def failures() -> int:
        async with db.session() as s:
            row = await s.get(LoginThrottle, "name:manager")
            return row.failures if row else 0

    for _ in range(3):
        assert (await _second_step(client, challenge, "123456")).status_code == 400
    assert await failures() == 3
    assert (await _login(client, password="wrong")).status_code == 401  # the same count
    assert await failures() == 4
    limit = await _second_step(client, challenge, "654321")  # the fifth: the username waits
    assert limit.status_code == 429 and limit.json()["code"] == "account_locked"
    assert "Retry-After" in limit.headers


async def test_enforced_role_must_enrol_before_anything_else(app, client, clock):
    app.state.settings = app.state.settings.model_copy(update={"totp_required_roles": "admin,committee"})
    step = (await _login(client, "admin")).json()
    assert step["second_factor"] == "enrol" and "access_token" not in step
    limited = {"Authorization": f"Bearer {step['challenge']}"}
    assert (await client.get("/api/auth/me", headers=limited)).status_code == 401
    setup = await client.post("/api/auth/login/totp/setup", json={"challenge": step["challenge"]})
    assert setup.status_code == 200
    secret = setup.json()["secret"]
    done = await _second_step(client, step["challenge"], clock.code(secret))
    assert done.status_code == 200, done.text
    assert len(done.json()["recovery_codes"]) == 10
    me = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {done.json()['access_token']}"})
    assert me.json()["username"] == "admin"
    # next time: the code
    assert (await _login(client, "admin")).json()["second_factor"] == "totp"
    # roles outside the list sign in with the password
    assert (await _login(client, "manager")).json()["access_token"]
    # an enrol challenge cannot set up anyone once used
    again = await client.post("/api/auth/login/totp/setup", json={"challenge": step["challenge"]})
    assert again.status_code == 401


def test_nobody_is_forced_outside_production():
    base = {"_env_file": None, "secret_key": TEST_SECRET}
    assert Settings(env="development", **base).totp_enforced_roles == frozenset()  # type: ignore[arg-type]
    assert Settings(env="test", **base).totp_enforced_roles == frozenset()  # type: ignore[arg-type]
    production = Settings(env="production", **base)  # type: ignore[arg-type]
    assert production.totp_enforced_roles == {"admin", "committee", "inspector"}
    chosen = Settings(env="production", totp_required_roles="admin", **base)  # type: ignore[arg-type]
    assert chosen.totp_enforced_roles == {"admin"}


async def test_disable_needs_password_and_code(client, sessions, clock):
    secret, codes = await _enrol(client, sessions, clock)
    headers = await sessions.headers("manager")
    clock.tick()
    bad = await client.post(
        "/api/auth/totp/disable", headers=headers, json={"password": "nope", "code": clock.code(secret)}
    )
    assert bad.status_code == 400 and bad.json()["code"] == "wrong_password"
    wrong_code = await client.post(
        "/api/auth/totp/disable", headers=headers, json={"password": "demo", "code": "000000"}
    )
    assert wrong_code.status_code == 400 and wrong_code.json()["code"] == "totp_wrong_code"
    ok = await client.post(
        "/api/auth/totp/disable", headers=headers, json={"password": "demo", "code": codes[0]}
    )
    assert ok.status_code == 204
    assert (await _login(client)).json()["access_token"]


async def test_the_secret_is_never_shown_again_nor_in_the_trail(client, sessions, clock, db):
    secret, codes = await _enrol(client, sessions, clock)
    headers = await sessions.headers("manager")
    answers = [
        await client.get("/api/auth/totp", headers=headers),
        await client.post("/api/auth/totp/setup", headers=headers),
        await client.post("/api/auth/totp/activate", headers=headers, json={"code": clock.code(secret)}),
        await client.get("/api/auth/me", headers=headers),
        await _login(client),
    ]
    assert answers[1].status_code == 409 and answers[1].json()["code"] == "totp_already_active"
    clock.tick()
    answers.append(await _second_step(client, answers[-1].json()["challenge"], clock.code(secret)))
    for answer in answers:
        assert secret not in answer.text
    async with db.session() as s:
        records = (await s.execute(select(AuditRecord).order_by(AuditRecord.id))).scalars().all()
        stored = (await s.execute(select(TotpFactor))).scalars().one()
    trail = json.dumps([[r.action, r.old_value, r.new_value] for r in records], default=str)
    assert "auth.totp_setup" in trail and "auth.totp_activate" in trail
    for shown in [secret, *codes]:
        assert shown not in trail
    assert secret not in stored.secret_sealed and stored.secret_sealed.startswith("v1:")


def _service(session, settings) -> AuthService:
    return AuthService(session, settings, AuditTrail(TEST_SECRET), make_hasher(settings))


async def test_two_uses_of_one_challenge_and_code_at_once_one_wins(client, sessions, clock, db, settings):
    """Both requests read the challenge and the factor before either writes: the conditional
    updates let one through."""
    secret, _ = await _enrol(client, sessions, clock)
    challenge = (await _login(client)).json()["challenge"]
    clock.tick()
    code = clock.code(secret)
    async with db.session() as s1, db.session() as s2:
        one, two = _service(s1, settings), _service(s2, settings)
        row1 = await one._open_challenge(challenge, {"totp"})
        row2 = await two._open_challenge(challenge, {"totp"})
        account = (await s1.execute(select(Account).where(Account.username == "manager"))).scalar_one()
        f1 = await s1.get(TotpFactor, account.id)
        f2 = await s2.get(TotpFactor, account.id)
        await s1.commit()
        await s2.commit()
        now: datetime = clock.now
        assert await one._take_code(f1, code)
        await one._use_challenge(row1, now)
        await s1.commit()
        assert not await two._take_code(f2, code)  # the code: once
        with pytest.raises(Unauthorized):  # the challenge: once
            await two._use_challenge(row2, now)


async def test_expired_challenges_go_with_ended_sessions(client, sessions, clock, db):
    from backend.auth.models import TotpChallenge
    from backend.auth.retention import purge_sessions

    await _enrol(client, sessions, clock)
    assert (await _login(client)).json()["second_factor"] == "totp"
    async with db.session() as s:
        assert await purge_sessions(s, clock.now) == 0
        assert await purge_sessions(s, clock.now + timedelta(minutes=6)) >= 1
        await s.commit()
        assert (await s.execute(select(TotpChallenge))).first() is None


async def test_an_admin_removes_a_lost_second_factor_not_their_own(client, sessions, clock, db):
    """The manager lost the phone and the recovery codes: an administrator removes the factor (in
    the trail with the reason), the manager's sessions end, and the password alone signs in again.
    Nobody removes their own factor this way."""
    await _enrol(client, sessions, clock, "manager")
    await _enrol(client, sessions, clock, "admin")
    admin = await sessions.headers("admin")
    manager_headers = await sessions.headers("manager")
    async with db.session() as s:
        ids = dict((await s.execute(select(Account.username, Account.id))).all())
    own = await client.post(
        f"/api/accounts/{ids['admin']}/second-factor/reset", headers=admin, json={"reason": "lost"}
    )
    assert own.status_code == 403 and own.json()["code"] == "own_second_factor"
    by_manager = await client.post(
        f"/api/accounts/{ids['manager']}/second-factor/reset", headers=manager_headers, json={"reason": "x1"}
    )
    assert by_manager.status_code == 403
    assert (await _login(client)).json()["second_factor"] == "totp"  # still on

    done = await client.post(
        f"/api/accounts/{ids['manager']}/second-factor/reset",
        headers=admin,
        json={"reason": "phone lost, identity checked in person"},
    )
    assert done.status_code == 200, done.text
    assert (await client.get("/api/auth/me", headers=manager_headers)).status_code == 401  # sessions ended
    assert (await _login(client)).json()["access_token"]  # the password alone again
    again = await client.post(
        f"/api/accounts/{ids['manager']}/second-factor/reset", headers=admin, json={"reason": "again"}
    )
    assert again.status_code == 409 and again.json()["code"] == "totp_not_active"
    async with db.session() as s:
        records = (
            (
                await s.execute(
                    select(AuditRecord)
                    .order_by(AuditRecord.id)
                    .where(AuditRecord.action == "account.totp_reset")
                )
            )
            .scalars()
            .all()
        )
    assert [(r.object_id, r.new_value["reason"]) for r in records] == [
        (str(ids["manager"]), "phone lost, identity checked in person")
    ]
