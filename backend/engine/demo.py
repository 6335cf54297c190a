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
from backend.data.models import ColumnSpec, TableDeclare
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
    """'name TYPE' or 'name TYPE!' (required)."""
    out = []
    for spec in specs:
        name, kind = spec.split()
        out.append(ColumnSpec(name=name, type=kind.rstrip("!"), required=kind.endswith("!")))
    return out


TABLES = [
    TableDeclare(
        name="accounts",
        title="Customer accounts (营销系统客户档案)",
        source="marketing system",
        columns=_cols(
            "account_no VARCHAR!",
            "customer_name VARCHAR",
            "manager_no VARCHAR!",
            "voltage_kv DOUBLE!",
            "capacity_kva DOUBLE",
            "tariff DOUBLE",
        ),
        key=["account_no"],
        owner_unit_code="C01-YX",
    ),
    TableDeclare(
        name="meter_readings",
        title="Daily meter readings (用电信息采集)",
        source="metering system",
        columns=_cols("account_no VARCHAR!", "reading_date DATE!", "month VARCHAR!", "kwh DOUBLE!"),
        key=["account_no", "reading_date"],
        period_column="month",
        owner_unit_code="C01-YX",
    ),
    TableDeclare(
        name="meter_swaps",
        title="Meter changes (表计装拆)",
        source="marketing system",
        columns=_cols(
            "swap_id VARCHAR!",
            "account_no VARCHAR!",
            "swap_date DATE!",
            "month VARCHAR!",
            "installer_no VARCHAR!",
            "manager_no VARCHAR!",
        ),
        key=["swap_id"],
        period_column="month",
        owner_unit_code="C01-YX",
    ),
    TableDeclare(
        name="billing",
        title="Basic fee billed, 10 kV and above (基本电费)",
        source="marketing system",
        columns=_cols("account_no VARCHAR!", "month VARCHAR!", "basic_fee_billed DECIMAL(14,2)!"),
        key=["account_no", "month"],
        period_column="month",
        owner_unit_code="C01-YX",
    ),
    TableDeclare(
        name="payments",
        title="Payment terminal records (B.10)",
        source="finance system",
        columns=_cols(
            "paid_at TIMESTAMP!",
            "merchant_code VARCHAR",
            "terminal_no VARCHAR",
            "amount DECIMAL(14,2)!",
            "card_no VARCHAR!",
            "account_no VARCHAR!",
            "result VARCHAR!",
            "month VARCHAR!",
        ),
        period_column="month",
        owner_unit_code="C01-CW",
    ),
    TableDeclare(
        name="repairs",
        title="Emergency repair orders (抢修工单)",
        source="operations system",
        columns=_cols(
            "order_no VARCHAR!",
            "month VARCHAR!",
            "leader_no VARCHAR!",
            "crew_size INTEGER!",
            "materials_recorded BOOLEAN!",
            "finished_at TIMESTAMP",
        ),
        key=["order_no"],
        period_column="month",
        owner_unit_code="C01-YJ",
    ),
    TableDeclare(
        name="purchases",
        title="Purchase orders (采购订单)",
        source="materials system",
        columns=_cols(
            "po_no VARCHAR!",
            "supplier_code VARCHAR!",
            "buyer_no VARCHAR!",
            "amount DECIMAL(14,2)!",
            "ordered_on DATE!",
            "month VARCHAR!",
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
        "Meter swap, then zero usage",
        "marketing",
        stars=5,
        monitoring_period="daily",
        target="metering installer, customer manager, area manager",
        risk_point="under-metering after a meter change",
        handling_post="customer manager",
        rule_text="usage in the 3 days before a meter change, zero in the 7 after",
        threshold_text="zero days after: ≥7 high, ≥5 medium, ≥3 low",
        formula="count(kwh = 0, swap+1..swap+7)",
        data_fields="meter_swaps, meter_readings",
        data_source="marketing and metering systems",
        data_range="10 days around each swap",
        rule=_rule(SWAP_ZERO_SQL, {"min_kwh_before": 0}, "zero_days_after", high=7, medium=5, low=3),
    ),
    _topic(
        "MK-002",
        "Basic fee under-collected, 10 kV and above",
        "marketing",
        stars=5,
        monitoring_period="monthly",
        target="customer manager",
        risk_point="basic fee waived or under-billed for favours",
        handling_post="customer manager",
        rule_text="billed basic fee below contracted capacity × tariff",
        threshold_text="billed/due ≤0.5 high, ≤0.7 medium, ≤0.9 low",
        formula="basic_fee_billed / (capacity × tariff)",
        data_fields="billing, accounts",
        data_source="marketing system",
        data_range="one month",
        rule=_rule(BASIC_FEE_SQL, {"min_kv": 10}, "billed_ratio", "below", high=0.5, medium=0.7, low=0.9),
    ),
    _topic(
        "FN-001",
        "One card, many accounts",
        "finance",
        stars=4,
        monitoring_period="weekly",
        target="customer manager, cashier",
        risk_point="collected fees misused through one card",
        handling_post="customer manager",
        rule_text="one card paying many unrelated accounts' bills in a month",
        threshold_text="accounts per card: ≥8 high, ≥5 medium, ≥3 low",
        formula="count(distinct account) per card",
        data_fields="payments (B.10), accounts",
        data_source="finance system",
        data_range="one month",
        rule=_rule(ONE_CARD_SQL, {"min_accounts": 2}, "accounts_paid", high=8, medium=5, low=3),
    ),
    _topic(
        "OP-001",
        "Emergency repair with fewer than two people, or materials not recorded",
        "operations",
        stars=3,
        monitoring_period="weekly",
        target="repair crew leader",
        risk_point="materials diverted, unsafe repair",
        handling_post="repair crew leader",
        rule_text="crew size below 2 or no materials recorded",
        threshold_text="both high, crew only medium, materials only low",
        formula="2·(crew<2) + (no materials)",
        data_fields="repairs",
        data_source="operations system",
        data_range="one month",
        rule=_rule(REPAIR_SQL, {"min_crew": 2}, "risk_score", high=3, medium=2, low=1),
    ),
    _topic(
        "MT-001",
        "Split purchases below the tender threshold",
        "materials",
        stars=4,
        monitoring_period="monthly",
        target="buyer",
        risk_point="tender avoided by splitting orders",
        handling_post="buyer",
        rule_text="several purchases from one supplier in a month, each just under the threshold",
        threshold_text="orders within 10 % under the threshold: ≥4 high, ≥3 medium, ≥2 low",
        formula="count(0.9·T ≤ amount < T) per buyer, supplier, month",
        data_fields="purchases",
        data_source="materials system",
        data_range="one month",
        rule=_rule(
            SPLIT_SQL, {"tender_threshold": 200000, "near": 0.9}, "near_threshold", high=4, medium=3, low=2
        ),
    ),
    _topic(
        "EN-001",
        "Completion acceptance under influence",
        "engineering",
        stars=2,
        monitoring_period="monthly",
        target="acceptance inspector",
        risk_point="acceptance signed off under influence",
        handling_post="engineering department",
        rule_text="offline: checked by inspection on site",
        data_source="inspection",
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
