"""Form B.2, the psychological list (权力廉洁防控“心理清单”), as an XLSX workbook.

The standard's columns come first, in its order (序号, 权限主题, 认知方式, 个性特征, 压力水平,
社会支持, 情绪意志, 岗位风险, 心理维度总分, 综合得分); 权限主题 holds the person's post. Columns that
let an inspector act on the list follow. A second sheet states the grading policy in force.
"""

from __future__ import annotations

from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from backend.checkups.models import CheckupCampaign, Dimension, Grade, ResultRow, Why
from backend.checkups.scoring import GRADE_ZH, dimension_label
from backend.kernel.timeutil import local, utcnow

B2_DIMENSIONS = [
    Dimension.cognitive,
    Dimension.personality,
    Dimension.stress,
    Dimension.support,
    Dimension.emotion,
]
HEADERS = [
    "序号",
    "权限主题",
    *[dimension_label(d)[0] for d in B2_DIMENSIONS],
    "岗位风险",
    "心理维度总分",
    "综合得分",
    "工号",
    "姓名",
    "单位",
    "心理得分",
    "心理定级",
    "任职年限",
    "综合等级",
    "逾期提交",
    "关爱诉求",
    "评定时间",
    "评定规则版本",
]

WIDTHS = [6, 14, 9, 9, 9, 9, 9, 9, 12, 9, 9, 10, 16, 9, 9, 9, 9, 9, 40, 17, 12]


def _policy_text(why: Why) -> str:
    weights = "，".join(f"{f.name_zh} {f.weight:g}" for f in why.factors)
    dims = "，".join(f"{dimension_label(Dimension(d))[0]} {w:g}" for d, w in why.dimension_weights.items())
    return (
        f"综合得分 = 加权和（{weights}）；心理得分 = 五维度加权（{dims}）；"
        f"综合：高 ≥ {why.composite_high:g}，中 ≥ {why.composite_medium:g}；"
        f"心理：高 ≥ {why.psych_high:g}，中 ≥ {why.psych_medium:g}；"
        f"发布于 {local(why.policy_date):%Y-%m-%d}"
    )


def b2_workbook(
    campaign: CheckupCampaign, unit_label: str, rows: list[ResultRow], notes: dict[str, str | None]
) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "心理清单"
    ws.append([f"权力廉洁防控“心理清单”（表 B.2） — {campaign.title} — {unit_label}"])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append(["分值 0–100，分值越高风险越高 (scores 0–100, higher = more risk)"])
    ws.append(HEADERS)
    for cell in ws[3]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    policies: dict[int, str] = {}
    for n, row in enumerate(rows, start=1):
        r = row.result
        assert r is not None
        policies[r.why.policy_version] = _policy_text(r.why)
        ws.append(
            [
                n,
                row.post_name or "",
                *[r.dimensions[d.value] for d in B2_DIMENSIONS],
                r.post_risk,
                r.psych_total,
                r.composite,
                row.employee_no,
                row.name,
                row.unit_name,
                r.psych_score,
                GRADE_ZH[Grade(r.psych_grade)],
                r.tenure_years,
                GRADE_ZH[Grade(r.composite_grade)],
                "是" if row.late else "",
                notes.get(str(row.person_id)) or "",
                local(r.graded_at).strftime("%Y-%m-%d %H:%M"),
                r.why.policy_version,
            ]
        )
    for letter, width in zip("ABCDEFGHIJKLMNOPQRSTU", WIDTHS, strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A4"
    info = wb.create_sheet("评定规则")
    info.append(["评定规则版本", "权重与分级线"])
    for version, text in sorted(policies.items()):
        info.append([version, text])
    info.append(["导出时间", local(utcnow()).strftime("%Y-%m-%d %H:%M")])
    info.column_dimensions["B"].width = 100
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
