"""The demo organisation, people and accounts. Names are generated from a fixed seed.

``load_demo_org`` only adds what is missing, so running it twice changes nothing.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit.service import AuditTrail
from backend.auth.models import AccountCreate
from backend.auth.service import AuthService
from backend.kernel.access import Actor, Channel
from backend.kernel.settings import Settings
from backend.org.models import PersonCreate, PostCreate, Specialty, UnitCreate, UnitKind
from backend.org.service import OrgService

# code, name, kind, parent, specialty
UNITS: list[tuple[str, str, UnitKind, str | None, Specialty | None]] = [
    ("P00", "示范省电力有限公司", UnitKind.company, None, None),
    ("P00-JW", "省公司纪委办公室", UnitKind.department, "P00", Specialty.general),
    ("C01", "东湖县供电公司", UnitKind.county, "P00", None),
    ("C01-YX", "东湖营销部", UnitKind.department, "C01", Specialty.marketing),
    ("C01-CW", "东湖财务部", UnitKind.department, "C01", Specialty.finance),
    ("C01-WZ", "东湖物资部", UnitKind.department, "C01", Specialty.materials),
    ("C01-YJ", "东湖运检部", UnitKind.department, "C01", Specialty.operations),
    ("C01-S1", "城关供电所", UnitKind.station, "C01", Specialty.marketing),
    ("C01-S2", "青山供电所", UnitKind.station, "C01", Specialty.marketing),
    ("C02", "西岭县供电公司", UnitKind.county, "P00", None),
    ("C02-YX", "西岭营销部", UnitKind.department, "C02", Specialty.marketing),
    ("C02-WZ", "西岭物资部", UnitKind.department, "C02", Specialty.materials),
    ("C02-S1", "河口供电所", UnitKind.station, "C02", Specialty.marketing),
    ("C02-S2", "松林供电所", UnitKind.station, "C02", Specialty.marketing),
]

# code, name, risk value, specialty
POSTS: list[tuple[str, str, float, Specialty | None]] = [
    ("CM", "客户经理", 70, Specialty.marketing),
    ("MI", "计量装接工", 65, Specialty.marketing),
    ("AM", "台区经理", 60, Specialty.marketing),
    ("SH", "供电所所长", 75, Specialty.marketing),
    ("DH", "部门主任", 70, None),
    ("FN", "财务专责", 70, Specialty.finance),
    ("PR", "采购专责", 80, Specialty.materials),
    ("RP", "抢修班员", 50, Specialty.operations),
    ("IN", "纪检监察专责", 40, Specialty.general),
    ("LD", "公司领导", 60, None),
    ("SA", "系统管理员", 30, Specialty.general),
]


@dataclass(frozen=True)
class DemoPerson:
    username: str
    employee_no: str
    unit: str
    post: str
    roles: tuple[str, ...]
    what: str


#: the accounts of CONTRACT.md, plus the people a reviewer needs for scope checks
NAMED: list[DemoPerson] = [
    DemoPerson("admin", "E0001", "P00", "SA", ("admin", "expert"), "system admin and topic expert"),
    DemoPerson(
        "committee", "E0002", "P00", "LD", ("committee", "employee"), "committee member, company-wide"
    ),
    DemoPerson(
        "inspector",
        "E0003",
        "C01",
        "IN",
        ("inspector", "employee"),
        "discipline inspector of 东湖县供电公司 (C01) and everything below it",
    ),
    DemoPerson("head", "E0004", "C01-S1", "SH", ("head", "employee"), "head of 城关供电所 (C01-S1)"),
    DemoPerson("manager", "E0005", "C01-S1", "CM", ("employee",), "customer manager in 城关供电所 (C01-S1)"),
    DemoPerson(
        "manager2",
        "E0006",
        "C02-S1",
        "CM",
        ("employee",),
        "customer manager in 河口供电所 (C02-S1), outside head's and inspector's scope",
    ),
    DemoPerson(
        "inspector2",
        "E0007",
        "C02",
        "IN",
        ("inspector", "employee"),
        "discipline inspector of 西岭县供电公司 (C02)",
    ),
    DemoPerson("head2", "E0008", "C02-S1", "SH", ("head", "employee"), "head of 河口供电所 (C02-S1)"),
    DemoPerson(
        "expert",
        "E0009",
        "C01-YX",
        "DH",
        ("expert", "head", "employee"),
        "head of 东湖营销部 and marketing topic expert",
    ),
]

# how many more people per unit, and which posts they hold
STAFFING: dict[str, list[str]] = {
    "C01-S1": ["CM", "CM", "CM", "MI", "MI", "AM", "AM", "RP"],
    "C01-S2": ["SH", "CM", "CM", "CM", "MI", "AM", "AM", "RP"],
    "C01-YX": ["CM", "MI", "AM"],
    "C01-CW": ["DH", "FN", "FN", "FN"],
    "C01-WZ": ["DH", "PR", "PR", "PR"],
    "C01-YJ": ["DH", "RP", "RP", "RP", "RP"],
    "C02-S1": ["CM", "CM", "MI", "AM", "RP"],
    "C02-S2": ["SH", "CM", "CM", "CM", "MI", "AM"],
    "C02-YX": ["DH", "CM", "MI"],
    "C02-WZ": ["DH", "PR", "PR"],
    "P00-JW": ["IN", "IN"],
}
HEADED_BY_FIRST = {"C01-S2", "C01-CW", "C01-WZ", "C01-YJ", "C02-S2", "C02-YX", "C02-WZ"}

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
    "许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁沈任姚卢傅钟"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国"
    "志文晓红海燕斌宇浩凯鑫雪梅玲丹琳晨阳欣怡子涵思远佳琪"
)


def synthetic_names(count: int, seed: int = 20261123) -> list[str]:
    rng = random.Random(seed)
    names: list[str] = []
    while len(names) < count:
        given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
        name = rng.choice(SURNAMES) + given
        if name not in names:
            names.append(name)
    return names


@dataclass
class DemoReport:
    units: int = 0
    posts: int = 0
    people: int = 0
    accounts: int = 0


async def load_demo_org(
    session: AsyncSession,
    settings: Settings,
    trail: AuditTrail,
    hasher: object,
    progress: Callable[[str], None] = lambda _m: None,
) -> DemoReport:
    from argon2 import PasswordHasher

    assert isinstance(hasher, PasswordHasher)
    actor = Actor.system(Channel.cli, "probity demo")
    org = OrgService(session, trail)
    auth = AuthService(session, settings, trail, hasher)
    report = DemoReport()
    for code, name, kind, parent, specialty in UNITS:
        if await org.unit_by_code(code) is None:
            await org.create_unit(
                UnitCreate(code=code, name=name, kind=kind, specialty=specialty, parent_code=parent),
                actor,
                commit=False,
            )
            report.units += 1
    for code, name, risk, specialty in POSTS:
        if await org.post_by_code(code) is None:
            await org.create_post(
                PostCreate(code=code, name=name, risk_value=risk, specialty=specialty), actor, commit=False
            )
            report.posts += 1
    await session.commit()
    progress(f"units +{report.units}, posts +{report.posts}")

    rng = random.Random(7)
    people: list[tuple[str | None, str, str, str, tuple[str, ...]]] = [
        (p.username, p.employee_no, p.unit, p.post, p.roles) for p in NAMED
    ]
    number = 100
    for unit, posts in STAFFING.items():
        for i, post in enumerate(posts):
            number += 1
            roles: tuple[str, ...] = (
                ("head", "employee") if i == 0 and unit in HEADED_BY_FIRST else ("employee",)
            )
            people.append((None, f"E{number:04d}", unit, post, roles))
    names = synthetic_names(len(people))
    password = settings.demo_password.get_secret_value()
    for index, ((username, no, unit, post, roles), name) in enumerate(
        zip(people, names, strict=True), start=1
    ):
        if await org.person_by_no(no) is None:
            started = date(2026, 1, 1) - timedelta(days=rng.randint(60, 365 * 9))
            phone = f"1390000{index:04d}"  # reserved-looking synthetic numbers
            await org.create_person(
                PersonCreate(
                    employee_no=no,
                    name=name,
                    unit_code=unit,
                    post_code=post,
                    started_in_post=started,
                    phone=phone,
                    roles=list(roles),
                ),
                actor,
                commit=False,
            )
            report.people += 1
        login = username or no
        if await auth.account_by_username(login) is None:
            await auth.create_account(
                AccountCreate.model_construct(employee_no=no, username=login, password=password),
                actor,
                must_change=False,
                commit=False,
                check_strength=False,
            )
            report.accounts += 1
        if index % 10 == 0:
            progress(f"people {index}/{len(people)}")
            await session.commit()
    await session.commit()
    await trail.seal_pending(session)  # the demo's trail chained now, not when the app next runs
    progress(f"people +{report.people}, accounts +{report.accounts}")
    return report
