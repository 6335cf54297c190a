"""The B.1 risk list: kept by topic experts and admins, read by supervisors, exported as XLSX.

Every change bumps the version and keeps the one before (``risk_point_version``) with the trail
record; the export is in the trail and limited like the reports' (``backend/reports/exports.py``).
"""

from __future__ import annotations

import re
from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import column, select, table
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.audit.service import AuditTrail
from backend.checkups.crypto import Sealer
from backend.checkups.models import CheckupCampaign, Dimension
from backend.checkups.service import CheckupService
from backend.kernel.access import Principal
from backend.kernel.errors import Conflict, Forbidden, NotFound
from backend.kernel.settings import Settings
from backend.kernel.tabular import xlsx_row
from backend.kernel.timeutil import utcnow
from backend.registers.models import (
    FourListsRow,
    PsychAverages,
    RiskPoint,
    RiskPointCreate,
    RiskPointFields,
    RiskPointPublic,
    RiskPointUpdate,
    RiskPointVersion,
    RiskPointVersionPublic,
)
from backend.reports.exports import export_allowed
from backend.reports.labels import SPECIALTY_ZH

TOPIC = table("topic", column("code"), column("name"), column("rule_text"))
#: how a risk point names its posts: "客户经理、抄表员" / "客户经理, 抄表员"
_POST_SPLIT = re.compile(r"[、,，/;；\s]+")
FIELDS = list(RiskPointFields.model_fields)
#: the columns of form B.1, in its order, and the field each one shows
B1_COLUMNS = [
    ("专业", "specialty"),
    ("业务事项", "business_item"),
    ("流程环节", "process_step"),
    ("涉及岗位", "posts"),
    ("风险点", "risk_point"),
    ("行为表现", "manifestation"),
    ("防控措施", "control_measures"),
    ("监督方式", "watch"),
    ("责任部门", "owner"),
    ("版本", "version"),
]


class RegisterService:
    def __init__(self, session: AsyncSession, trail: AuditTrail, settings: Settings | None = None) -> None:
        self.session = session
        self.trail = trail
        self.settings = settings

    async def _public(self, rows: list[RiskPoint]) -> list[RiskPointPublic]:
        codes = sorted({r.topic_code for r in rows if r.topic_code})
        names: dict[str, str] = {}
        if codes:
            found = await self.session.execute(
                select(TOPIC.c.code, TOPIC.c.name).where(TOPIC.c.code.in_(codes))
            )
            names = {str(c): str(n) for c, n in found.all()}
        return [
            RiskPointPublic.model_validate(r, update={"topic_name": names.get(r.topic_code or "")})
            for r in rows
        ]

    async def risks(self, specialty: str | None = None) -> list[RiskPointPublic]:
        stmt = select(RiskPoint).order_by(col(RiskPoint.specialty), col(RiskPoint.code))
        if specialty:
            stmt = stmt.where(col(RiskPoint.specialty) == specialty)
        return await self._public(list((await self.session.execute(stmt)).scalars()))

    async def _get(self, risk_id: int) -> RiskPoint:
        row = await self.session.get(RiskPoint, risk_id, with_for_update=True)
        if row is None:
            raise NotFound(f"risk point {risk_id} does not exist", code="risk_point_not_found")
        return row

    async def create(self, principal: Principal, data: RiskPointCreate) -> RiskPointPublic:
        exists = await self.session.execute(select(col(RiskPoint.id)).where(col(RiskPoint.code) == data.code))
        if exists.first() is not None:
            raise Conflict(f"risk point {data.code} exists", code="risk_point_exists")
        row = RiskPoint.model_validate(data, update={"updated_by": principal.person_id})
        self.session.add(row)
        await self.session.flush()
        await self.trail.record(
            self.session,
            principal.actor,
            action="register.risk.create",
            object_type="risk_point",
            object_id=row.id,
            new=data.model_dump(),
            power="config.registers",
        )
        await self.session.commit()
        return (await self._public([row]))[0]

    async def update(self, principal: Principal, risk_id: int, data: RiskPointUpdate) -> RiskPointPublic:
        row = await self._get(risk_id)
        changes = data.model_dump(exclude_unset=True)
        before = {f: getattr(row, f) for f in FIELDS}
        changed = {k: v for k, v in changes.items() if before.get(k) != v}
        if changed:
            assert row.id is not None
            self.session.add(
                RiskPointVersion(
                    risk_point_id=row.id, version=row.version, data=before, changed_by=principal.person_id
                )
            )
            for key, value in changed.items():
                setattr(row, key, value)
            row.version += 1
            row.updated_at, row.updated_by = utcnow(), principal.person_id
            await self.trail.record(
                self.session,
                principal.actor,
                action="register.risk.update",
                object_type="risk_point",
                object_id=risk_id,
                old={k: before[k] for k in changed},
                new=changed,
                power="config.registers",
            )
        await self.session.commit()
        return (await self._public([row]))[0]

    async def versions(self, risk_id: int) -> list[RiskPointVersionPublic]:
        await self._get(risk_id)
        stmt = (
            select(RiskPointVersion)
            .where(col(RiskPointVersion.risk_point_id) == risk_id)
            .order_by(col(RiskPointVersion.version).desc())
        )
        return [
            RiskPointVersionPublic(version=v.version, data=v.data, valid_until=v.valid_until)
            for v in (await self.session.execute(stmt)).scalars()
        ]

    async def export(self, principal: Principal, specialty: str | None) -> bytes:
        rows = await self.risks(specialty)
        await export_allowed(self.session, self.trail, principal, "register.b1", None, "xlsx", "risk_point")
        await self.session.commit()
        return b1_workbook(rows)

    # --- form B.4: the four lists' summary -------------------------------------------------
    async def four_lists(self, principal: Principal, specialty: str | None = None) -> list[FourListsRow]:
        """Each risk point with its problem list and risk list (kept on the point), its data list
        (the watching topic and its rule) and its psychological list: the latest check-up's five
        dimensions averaged over the people of its posts, within the reader's scope, cells under
        five people left out (the check-ups' own rule; the read is in their trail)."""
        risks = await self.risks(specialty)
        codes = sorted({r.topic_code for r in risks if r.topic_code})
        rules: dict[str, str] = {}
        if codes:
            found = await self.session.execute(
                select(TOPIC.c.code, TOPIC.c.rule_text).where(TOPIC.c.code.in_(codes))
            )
            rules = {str(c): str(t or "") for c, t in found.all()}
        cells, title = await self._post_cells(principal)
        rows = []
        for r in risks:
            named = {p for p in _POST_SPLIT.split(r.posts) if p}
            rows.append(
                FourListsRow(
                    risk=r,
                    topic_rule=rules.get(r.topic_code or "") or None,
                    psych=_combined([c for name, c in cells.items() if name in named]),
                    campaign_title=title,
                )
            )
        return rows

    async def _post_cells(
        self, principal: Principal
    ) -> tuple[dict[str, tuple[int, dict[str, float]]], str | None]:
        """{post name: (people, dimension averages)} of the latest campaign, cells shown only."""
        if self.settings is None:
            return {}, None
        campaign = (
            await self.session.execute(
                select(CheckupCampaign)
                .order_by(col(CheckupCampaign.opens_at).desc(), col(CheckupCampaign.id).desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        if campaign is None or campaign.id is None:
            return {}, None
        checkups = CheckupService(self.session, self.trail, Sealer.from_settings(self.settings))
        try:
            aggregates = await checkups.aggregates(campaign.id, principal, "post")
        except Forbidden:  # topic experts: no check-up figures
            return {}, campaign.title
        shown = {
            c.label: (c.people, c.dimensions)
            for c in aggregates.cells
            if not c.suppressed and c.people and c.dimensions
        }
        return shown, campaign.title

    async def export_four_lists(self, principal: Principal, specialty: str | None) -> bytes:
        rows = await self.four_lists(principal, specialty)
        await export_allowed(self.session, self.trail, principal, "register.b4", None, "xlsx", "risk_point")
        await self.session.commit()
        return b4_workbook(rows)


def _combined(cells: list[tuple[int, dict[str, float]]]) -> PsychAverages:
    """The dimensions over several posts' cells, weighted by their people (no cell: nothing)."""
    people = sum(n for n, _ in cells)
    if not people:
        return PsychAverages()
    dims = {d.value: round(sum(n * v[d.value] for n, v in cells) / people, 2) for d in Dimension}
    return PsychAverages(people=people, **dims, mean=round(sum(dims.values()) / len(dims), 2))


#: form B.4's columns under its four headings, and what each shows
B4_HEADINGS = [
    (
        "问题清单",
        [
            ("巡视巡察", "inspection_findings"),
            ("典型案例", "typical_cases"),
            ("权力相关问题", "power_problems"),
        ],
    ),
    (
        "风险清单",
        [
            ("权力风险点", "risk_point"),
            ("关涉岗位", "posts"),
            ("关涉单位", "units"),
            ("岗位分权限", "post_powers"),
            ("岗位权限", "powers"),
            ("是否有规可依", "has_rules"),
            ("制度依据", "rule_basis"),
        ],
    ),
    ("数据清单", [("监督主题", "topic"), ("监督规则", "topic_rule")]),
    (
        "心理清单",
        [
            ("认知方式", "cognitive"),
            ("个性特征", "personality"),
            ("压力水平", "stress"),
            ("社会支持", "support"),
            ("情绪意志", "emotion"),
            ("平均值", "mean"),
        ],
    ),
]


def b4_values(row: FourListsRow) -> dict[str, object]:
    r = row.risk
    yes_no = {True: "是", False: "否", None: "—"}
    topic = r.topic_name or r.topic_code if r.topic_code else f"线下：{r.offline_check or '—'}"
    psych = row.psych.model_dump()
    return {
        **r.model_dump(),
        "has_rules": yes_no[r.has_rules],
        "topic": topic,
        "topic_rule": row.topic_rule or "—",
        **{k: ("不足5人" if v is None else v) for k, v in psych.items() if k != "people"},
    }


def b4_workbook(rows: list[FourListsRow]) -> bytes:
    """Form B.4 (“四张清单”汇总表) as a workbook: the four headings over their columns."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "四张清单汇总表"
    top: list[object] = ["序号"]
    second: list[object] = [""]
    for heading, columns in B4_HEADINGS:
        top += [heading] + [""] * (len(columns) - 1)
        second += [name for name, _ in columns]
    sheet.append(top)
    sheet.append(second)
    sheet.merge_cells(start_row=1, start_column=1, end_row=2, end_column=1)
    col_no = 2
    for _heading, columns in B4_HEADINGS:
        sheet.merge_cells(start_row=1, start_column=col_no, end_row=1, end_column=col_no + len(columns) - 1)
        col_no += len(columns)
    for row_cells in (sheet[1], sheet[2]):
        for cell in row_cells:
            cell.font = Font(bold=True)
    for n, row in enumerate(rows, start=1):
        values = b4_values(row)
        sheet.append(xlsx_row([n, *(values[key] for _, columns in B4_HEADINGS for _, key in columns)]))
    buf = BytesIO()
    book.save(buf)
    return buf.getvalue()


def b1_workbook(rows: list[RiskPointPublic]) -> bytes:
    """Form B.1 (专业廉洁风险清单) as a workbook."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "专业廉洁风险清单"
    sheet.append(["序号", *(name for name, _ in B1_COLUMNS)])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for n, r in enumerate(rows, start=1):
        watch = f"线上：{r.topic_name or r.topic_code}" if r.topic_code else f"线下：{r.offline_check or '—'}"
        values = {**r.model_dump(), "specialty": SPECIALTY_ZH.get(r.specialty, r.specialty), "watch": watch}
        sheet.append(xlsx_row([n, *(values[key] for _, key in B1_COLUMNS)]))
    buf = BytesIO()
    book.save(buf)
    return buf.getvalue()
