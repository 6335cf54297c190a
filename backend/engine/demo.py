"""Demo: business tables, generated data and the six built-in topics of DOMAIN.md §4, run once.

Idempotent: tables, data and topics are only added when missing, and topics that already ran
are not run again.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from backend.audit.service import AuditTrail
from backend.data.models import ColumnLabel, ColumnSpec, TableDeclare, Unit
from backend.data.service import DataService
from backend.engine.demo_data import Size, generate
from backend.engine.service import EngineService
from backend.kernel.access import Actor, Channel
from backend.kernel.db import Database
from backend.kernel.settings import Settings
from backend.topics.models import RuleDraft, Thresholds, TopicCreate, TopicState, Transition
from backend.topics.service import TopicService

ORDER = 50


def _cols(*specs: str) -> list[ColumnSpec]:
    """'name TYPE[!] 中文名|English label[|unit]' ('!': required)."""
    out = []
    for spec in specs:
        name, kind, labels = spec.split(maxsplit=2)
        zh, en, *unit = labels.split("|")
        out.append(
            ColumnSpec(
                name=name,
                type=kind.rstrip("!"),
                required=kind.endswith("!"),
                label=zh,
                label_en=en,
                unit=Unit(unit[0]) if unit else None,
            )
        )
    return out


def _labels(**columns: str) -> dict[str, ColumnLabel]:
    """Labels of a rule's output columns: column='中文名|English label[|unit]'."""
    out = {}
    for name, labels in columns.items():
        zh, en, *unit = labels.split("|")
        out[name] = ColumnLabel(label=zh, label_en=en, unit=Unit(unit[0]) if unit else None)
    return out


TABLES = [
    TableDeclare(
        name="accounts",
        title="营销系统客户档案",
        source="营销系统",
        columns=_cols(
            "account_no VARCHAR! 户号|Account number",
            "customer_name VARCHAR 户名|Customer",
            "manager_no VARCHAR! 客户经理工号|Customer manager's number",
            "voltage_kv DOUBLE! 电压等级|Voltage|kv",
            "capacity_kva DOUBLE 合同容量|Contracted capacity|kva",
            "tariff DOUBLE 基本电价|Basic tariff|yuan",
        ),
        key=["account_no"],
        owner_unit_code="C01-YX",
    ),
    TableDeclare(
        name="meter_readings",
        title="用电信息采集日电量",
        source="用电信息采集系统",
        columns=_cols(
            "account_no VARCHAR! 户号|Account number",
            "reading_date DATE! 抄表日期|Reading date|date",
            "month VARCHAR! 月份|Month",
            "kwh DOUBLE! 日电量|Daily usage|kwh",
        ),
        key=["account_no", "reading_date"],
        period_column="month",
        owner_unit_code="C01-YX",
    ),
    TableDeclare(
        name="meter_swaps",
        title="表计装拆记录",
        source="营销系统",
        columns=_cols(
            "swap_id VARCHAR! 装拆单号|Swap order",
            "account_no VARCHAR! 户号|Account number",
            "swap_date DATE! 换表日期|Meter changed on|date",
            "month VARCHAR! 月份|Month",
            "installer_no VARCHAR! 装接人员工号|Installer's number",
            "manager_no VARCHAR! 客户经理工号|Customer manager's number",
        ),
        key=["swap_id"],
        period_column="month",
        owner_unit_code="C01-YX",
    ),
    TableDeclare(
        name="billing",
        title="10千伏及以上客户基本电费",
        source="营销系统",
        columns=_cols(
            "account_no VARCHAR! 户号|Account number",
            "month VARCHAR! 月份|Month",
            "basic_fee_billed DECIMAL(14,2)! 实收基本电费|Basic fee billed|yuan",
        ),
        key=["account_no", "month"],
        period_column="month",
        owner_unit_code="C01-YX",
    ),
    TableDeclare(
        name="payments",
        title="收费终端交易记录（B.10）",
        source="财务系统",
        columns=_cols(
            "paid_at TIMESTAMP! 交易时间|Paid at|date",
            "merchant_code VARCHAR 商户编号|Merchant",
            "terminal_no VARCHAR 终端编号|Terminal",
            "amount DECIMAL(14,2)! 交易金额|Amount|yuan",
            "card_no VARCHAR! 付款卡号|Card",
            "account_no VARCHAR! 户号|Account number",
            "result VARCHAR! 交易结果|Result",
            "month VARCHAR! 月份|Month",
        ),
        period_column="month",
        owner_unit_code="C01-CW",
    ),
    TableDeclare(
        name="repairs",
        title="抢修工单",
        source="运检系统",
        columns=_cols(
            "order_no VARCHAR! 工单号|Repair order",
            "month VARCHAR! 月份|Month",
            "leader_no VARCHAR! 抢修负责人工号|Crew leader's number",
            "crew_size INTEGER! 到场人数|Crew on site|number",
            "materials_recorded BOOLEAN! 已登记物料|Materials recorded",
            "finished_at TIMESTAMP 完工时间|Finished at|date",
        ),
        key=["order_no"],
        period_column="month",
        owner_unit_code="C01-YJ",
    ),
    TableDeclare(
        name="purchases",
        title="采购订单",
        source="物资系统",
        columns=_cols(
            "po_no VARCHAR! 订单号|Purchase order",
            "supplier_code VARCHAR! 供应商编号|Supplier",
            "buyer_no VARCHAR! 采购员工号|Buyer's number",
            "amount DECIMAL(14,2)! 订单金额|Order amount|yuan",
            "ordered_on DATE! 下单日期|Ordered on|date",
            "month VARCHAR! 月份|Month",
        ),
        key=["po_no"],
        period_column="month",
        owner_unit_code="C01-WZ",
    ),
]

SWAP_ZERO_SQL = """
SELECT s.manager_no AS employee_no, s.account_no AS object_key, s.month AS period_key,
       s.swap_date, s.installer_no,
       sum(r.kwh) FILTER (WHERE r.reading_date < s.swap_date) AS kwh_before,
       count(*) FILTER (WHERE r.reading_date > s.swap_date AND r.kwh = 0) AS zero_days_after
FROM meter_swaps s
JOIN meter_readings r ON r.account_no = s.account_no
 AND r.reading_date BETWEEN s.swap_date - 3 AND s.swap_date + 7
GROUP BY ALL
HAVING kwh_before > $min_kwh_before
"""
BASIC_FEE_SQL = """
SELECT a.manager_no AS employee_no, b.account_no AS object_key, b.month AS period_key,
       b.basic_fee_billed, a.capacity_kva * a.tariff AS basic_fee_due,
       round(b.basic_fee_billed / (a.capacity_kva * a.tariff), 3) AS billed_ratio
FROM billing b JOIN accounts a USING (account_no)
WHERE a.voltage_kv >= $min_kv
"""
ONE_CARD_SQL = """
SELECT mode(a.manager_no) AS employee_no, p.card_no AS object_key, p.month AS period_key,
       count(DISTINCT p.account_no) AS accounts_paid, sum(p.amount) AS amount
FROM payments p JOIN accounts a USING (account_no)
WHERE p.result = 'success'
GROUP BY p.card_no, p.month
HAVING count(DISTINCT p.account_no) >= $min_accounts
"""
REPAIR_SQL = """
SELECT leader_no AS employee_no, order_no AS object_key, month AS period_key, crew_size, materials_recorded,
       (CASE WHEN crew_size < $min_crew THEN 2 ELSE 0 END) + (CASE WHEN materials_recorded THEN 0 ELSE 1 END)
         AS risk_score
FROM repairs
"""
SPLIT_SQL = """
SELECT buyer_no AS employee_no, supplier_code AS object_key, month AS period_key,
       count(*) FILTER (WHERE amount >= $tender_threshold * $near AND amount < $tender_threshold)
         AS near_threshold,
       sum(amount) AS total_amount
FROM purchases GROUP BY ALL
"""


def _topic(code: str, name: str, specialty: str, **fields: Any) -> TopicCreate:
    return TopicCreate.model_validate({"code": code, "name": name, "specialty": specialty, **fields})


def _rule(
    sql: str,
    params: dict[str, Any],
    measure: str,
    direction: Literal["above", "below"] = "above",
    **bounds: float,
) -> RuleDraft:
    return RuleDraft(
        sql=sql, params=params, thresholds=Thresholds(measure=measure, direction=direction, **bounds)
    )


TOPICS = [
    _topic(
        "MK-001",
        "换表后零电量",
        "marketing",
        name_en="Meter swap, then zero usage",
        instruction="请核查该户换表前后的用电情况：换表后连续零电量是否属实，表计接线和封印是否正常。",
        instruction_en="Check the account's usage around the meter change: is the zero usage after it real, "
        "are the wiring and seals intact?",
        labels=_labels(
            zero_days_after="换表后零电量天数|Days of zero usage after the change|days",
            kwh_before="换表前3天电量|Usage in the 3 days before|kwh",
        ),
        stars=5,
        monitoring_period="daily",
        target="计量装接工、客户经理、台区经理",
        risk_point="换表后少计电量",
        handling_post="客户经理",
        rule_text="换表前3天有用电，换表后7天内零电量",
        threshold_text="换表后零电量天数：≥7 高，≥5 中，≥3 低",
        formula="换表后1至7天中日电量为0的天数",
        data_fields="表计装拆记录、用电信息采集日电量",
        data_source="营销系统、用电信息采集系统",
        data_range="每次换表前后10天",
        rule=_rule(SWAP_ZERO_SQL, {"min_kwh_before": 0}, "zero_days_after", high=7, medium=5, low=3),
    ),
    _topic(
        "MK-002",
        "10千伏及以上客户基本电费少收",
        "marketing",
        name_en="Basic fee under-collected, 10 kV and above",
        instruction="请核查该户本月基本电费：实收是否低于合同容量应收，少收的原因和审批手续是否齐全。",
        instruction_en="Check this month's basic fee of the account: is less billed than the contracted "
        "capacity requires, and why; is the approval on file?",
        labels=_labels(
            billed_ratio="实收占应收比例|Billed share of the fee due|percent",
            basic_fee_due="应收基本电费|Basic fee due|yuan",
        ),
        stars=5,
        monitoring_period="monthly",
        target="客户经理",
        risk_point="违规减免或少收基本电费",
        handling_post="客户经理",
        rule_text="实收基本电费低于合同容量 × 基本电价",
        threshold_text="实收/应收：≤50% 高，≤70% 中，≤90% 低",
        formula="实收基本电费 ÷（合同容量 × 基本电价）",
        data_fields="基本电费、客户档案",
        data_source="营销系统",
        data_range="一个月",
        rule=_rule(BASIC_FEE_SQL, {"min_kv": 10}, "billed_ratio", "below", high=0.5, medium=0.7, low=0.9),
    ),
    _topic(
        "FN-001",
        "一卡多户缴费",
        "finance",
        name_en="One card, many accounts",
        instruction="请核查该卡为多户缴费的原因：持卡人与各户的关系，是否存在截留、挪用电费。",
        instruction_en="Check why one card paid for many accounts: who holds it, how is it related to "
        "them, were fees held back or misused?",
        labels=_labels(
            accounts_paid="缴费户数|Accounts paid|number",
            amount="缴费总额|Total paid|yuan",
        ),
        stars=4,
        monitoring_period="weekly",
        target="客户经理、收费员",
        risk_point="通过一张卡截留、挪用电费",
        handling_post="客户经理",
        rule_text="一个月内一张卡为多个无关户缴费",
        threshold_text="每卡缴费户数：≥8 高，≥5 中，≥3 低",
        formula="每张卡缴费的不同户数",
        data_fields="收费终端交易记录（B.10）、客户档案",
        data_source="财务系统",
        data_range="一个月",
        rule=_rule(ONE_CARD_SQL, {"min_accounts": 2}, "accounts_paid", high=8, medium=5, low=3),
    ),
    _topic(
        "OP-001",
        "抢修到场不足两人或未登记物料",
        "operations",
        name_en="Emergency repair with fewer than two people, or materials not recorded",
        instruction="请核查该抢修工单：实际到场人数、所用物料及去向，补登记录并说明原因。",
        instruction_en="Check this repair order: who was on site, which materials were used and where "
        "they went; complete the record and explain.",
        labels=_labels(risk_score="风险分值|Risk score|number"),
        stars=3,
        monitoring_period="weekly",
        target="抢修负责人",
        risk_point="物料流失、抢修不安全",
        handling_post="抢修负责人",
        rule_text="到场人数少于2人或未登记物料",
        threshold_text="两者都有 高，仅人数不足 中，仅未登记物料 低",
        formula="2 ×（人数<2）+（未登记物料）",
        data_fields="抢修工单",
        data_source="运检系统",
        data_range="一个月",
        rule=_rule(REPAIR_SQL, {"min_crew": 2}, "risk_score", high=3, medium=2, low=1),
    ),
    _topic(
        "MT-001",
        "拆分采购规避招标",
        "materials",
        name_en="Split purchases below the tender threshold",
        instruction="请核查本月向该供应商的采购：多笔订单是否为同一需求拆分，为何未走招标程序。",
        instruction_en="Check this month's purchases from the supplier: were the orders one need split "
        "up, and why was there no tender?",
        labels=_labels(
            near_threshold="接近招标限额的订单数|Orders just under the tender threshold|number",
            total_amount="采购总额|Total purchased|yuan",
        ),
        stars=4,
        monitoring_period="monthly",
        target="采购员",
        risk_point="拆分订单规避招标",
        handling_post="采购员",
        rule_text="一个月内向同一供应商多笔采购，每笔都略低于招标限额",
        threshold_text="低于限额10%以内的订单：≥4 高，≥3 中，≥2 低",
        formula="每个采购员、供应商、月份中 0.9·限额 ≤ 金额 < 限额 的订单数",
        data_fields="采购订单",
        data_source="物资系统",
        data_range="一个月",
        rule=_rule(
            SPLIT_SQL, {"tender_threshold": 200000, "near": 0.9}, "near_threshold", high=4, medium=3, low=2
        ),
    ),
    _topic(
        "EN-001",
        "竣工验收受人情干扰",
        "engineering",
        name_en="Completion acceptance under influence",
        instruction="请现场核查竣工验收：验收记录与实际是否一致，是否存在人情验收。",
        instruction_en="Check the completion acceptance on site: does the record match what was built, "
        "was it signed off as a favour?",
        stars=2,
        monitoring_period="monthly",
        target="验收人员",
        risk_point="人情验收",
        handling_post="工程管理部门",
        rule_text="线下：现场检查",
        data_source="现场检查",
        offline=True,
    ),
]


async def load_demo(
    db: Database, settings: Settings, progress: Callable[[str], None], size: Size | None = None
) -> str:
    actor = Actor.system(Channel.cli, "probity demo")
    trail = AuditTrail(settings.secret_key.get_secret_value())
    size = size or Size()
    added_tables = added_topics = imported = 0
    async with db.session() as session:
        data = DataService(session, trail, settings)
        known = await data.table_names()
        for declaration in TABLES:
            if declaration.name not in known:
                await data.declare(declaration, actor)
                added_tables += 1
        empty = [
            t.name
            for t in await data.public(await data.tables())
            if t.rows == 0 and t.name in {d.name for d in TABLES}
        ]
        if empty:
            with tempfile.TemporaryDirectory(dir=settings.data_dir) as tmp:
                for table, path in generate(Path(tmp), size, tuple(empty)).items():
                    record = await data.import_file(table, path, path.name, actor)
                    progress(f"data {table}: {record.rows_taken} rows ({record.status})")
                    imported += record.rows_taken
        topics = TopicService(session, trail, settings)
        for item in TOPICS:
            topic = await topics.by_code(item.code)
            if topic is None:
                topic = await topics.create(item, actor)
                added_topics += 1
            if topic.state == TopicState.proposed and topic.id is not None:
                if not topic.offline:
                    await topics.transition(
                        topic.id, Transition(to=TopicState.validating, note="demo"), actor
                    )
                await topics.transition(topic.id, Transition(to=TopicState.online, note="demo"), actor)
        engine = EngineService(session, trail, settings)
        runs = [
            await engine.run_topic(t, actor, "demo")
            for t in await topics.topics(TopicState.online)
            if not t.offline and t.last_run_at is None
        ]
    created = sum(r.warnings_created for r in runs)
    levels = (sum(r.hits_high for r in runs), sum(r.hits_medium for r in runs), sum(r.hits_low for r in runs))
    return (
        f"tables +{added_tables}, rows +{imported}, topics +{added_topics}, runs {len(runs)}, "
        f"warnings +{created} (hits high {levels[0]}, medium {levels[1]}, low {levels[2]})"
    )
