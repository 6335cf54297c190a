"""A warning explains itself: its topic's name and instruction, and its evidence labelled.

The stored evidence stays data (what the rule's SELECT returned, ``backend/engine/evaluate.py``);
it is labelled when shown, in the person's language: each value under its column's label (the
topic's labels of its rule's output columns first, then the columns of the business tables the
rule reads), formatted by the column's unit (ratios as %, money with ¥ and two decimals, dates as
"12月18日（周五）"). Fixed words (units, weekdays, the threshold's wording) come from the PWA's
message catalogue of the language (``pwa/js/locales/<lang>.js`` and ``<lang>.more.js``), the one
catalogue per language.
Internal keys (the rule version, the employee number, unlabelled columns) are never shown.

The topic and business-table rows are read as plain tables here: the topic and data features sit
above the warnings (import layers) and hand nothing down.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, column, select, table
from sqlalchemy.ext.asyncio import AsyncSession

import backend
from backend.warnings.schemas import EvidenceItem

#: languages people read; zh-CN is the default
LANGS = ("zh-CN", "en")
DEFAULT_LANG = "zh-CN"
LOCALES = Path(backend.__file__).resolve().parent.parent / "pwa" / "js" / "locales"
_ENTRY = re.compile(r'^\s*"([^"]+)":\s*("(?:[^"\\]|\\.)*"),?\s*$', re.MULTILINE)
#: evidence keys that are the rule's machinery, never a fact for people
HIDDEN = frozenset({"rule_version", "employee_no", "object_key", "period_key", "level"})
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")

TOPIC = table(
    "topic",
    column("id"),
    column("name"),
    column("name_en"),
    column("instruction"),
    column("instruction_en"),
    column("labels"),
)
RULE_VERSION = table("rule_version", column("id"), column("tables"))
BUSINESS_TABLE = table("business_table", column("name"), column("columns"))


def pick_lang(value: str | None) -> str:
    """A language people read: ``en`` (or en-…) for English, zh-CN otherwise."""
    return "en" if value and value.lower().startswith("en") else DEFAULT_LANG


@cache
def catalogue(lang: str) -> dict[str, str]:
    """The PWA's message catalogue of ``lang`` (its plain string entries)."""
    lang = pick_lang(lang)
    # the first screen's part and the rest (the PWA loads them one after the other)
    text = "".join((LOCALES / f"{lang}{part}.js").read_text("utf-8") for part in ("", ".more"))
    return {key: json.loads(value) for key, value in _ENTRY.findall(text)}


def say(lang: str, key: str, **values: Any) -> str:
    text = catalogue(lang).get(key, "")
    return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), m.group(0))), text)


@dataclass(frozen=True)
class Label:
    zh: str
    en: str
    unit: str | None

    def text(self, lang: str) -> str:
        return self.en if lang == "en" and self.en else self.zh


def _label(value: Any) -> Label | None:
    if not isinstance(value, dict) or not value.get("label"):
        return None
    return Label(str(value["label"]), str(value.get("label_en") or ""), value.get("unit") or None)


def _number(value: float, digits: int) -> str:
    text = f"{value:,.{digits}f}"
    if digits and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def fmt_day(day: date, lang: str) -> str:
    """12月18日（周五） / Fri 18 Dec."""
    return say(
        lang,
        "fmt.day",
        month=day.month,
        day=day.day,
        weekday=say(lang, f"weekday.{day.isoweekday()}"),
        month_name=say(lang, f"month.{day.month}"),
    )


def _as_day(value: str) -> date | datetime | None:
    try:
        if _ISO_DATE.match(value):
            return date.fromisoformat(value)
        if _ISO_TIME.match(value):
            return datetime.fromisoformat(value)
    except ValueError:
        return None
    return None


def format_value(value: Any, unit: str | None, lang: str) -> tuple[str, str]:
    """(the value as text with its unit, the unit's word)."""
    word = say(lang, f"unit.{unit}") if unit else ""
    if value is None:
        return "—", word
    if isinstance(value, bool):
        return say(lang, "common.yes" if value else "common.no"), ""
    if isinstance(value, int | float):
        number = float(value)
        if not math.isfinite(number):
            return "—", word
        if unit == "percent":
            return _number(number * 100, 1) + word, word
        if unit == "yuan":
            return ("-" if number < 0 else "") + word + f"{abs(number):,.2f}", word
        if unit in {"kwh", "kva", "kv", "days"}:
            return f"{_number(number, 2)} {word}", word
        return _number(number, 4 if unit is None else 2), word
    if isinstance(value, str):
        moment = _as_day(value)
        if moment is not None:
            day = moment.date() if isinstance(moment, datetime) else moment
            text = fmt_day(day, lang)
            if isinstance(moment, datetime):
                text += f" {moment:%H:%M}"
            return text, ""
        return value, word
    return json.dumps(value, ensure_ascii=False), word


def evidence_items(
    evidence: dict[str, Any] | None, labels: dict[str, Label], lang: str
) -> list[EvidenceItem]:
    """The evidence's facts, labelled and formatted: the measure first, then its threshold, then
    the other values in the rule's order. Keys without a label are left out."""
    lang = pick_lang(lang)
    evidence = evidence or {}
    items: list[EvidenceItem] = []

    def add(key: str, value: Any) -> None:
        label = labels.get(key)
        if label is None:
            return
        text, word = format_value(value, label.unit, lang)
        items.append(EvidenceItem(label=label.text(lang), value=text, unit=word))

    measure = evidence.get("measure")
    values = dict(evidence.get("values") or {}) if isinstance(evidence.get("values"), dict) else {}
    if isinstance(measure, str):
        add(measure, evidence.get("value", values.get(measure)))
        label = labels.get(measure)
        bound = evidence.get("bound")
        if label is not None and isinstance(bound, int | float):
            key = "evidence.below" if evidence.get("direction") == "below" else "evidence.above"
            shown, _ = format_value(bound, label.unit, lang)
            items.append(
                EvidenceItem(label=say(lang, "evidence.threshold"), value=say(lang, key, bound=shown))
            )
        values.pop(measure, None)
    reserved = {"measure", "value", "direction", "bound", "values"}
    flat = {k: v for k, v in evidence.items() if k not in reserved}
    for key, value in {**values, **flat}.items():
        if key not in HIDDEN:
            add(key, value)
    return items


def topic_text(row: Any, lang: str) -> tuple[str | None, str | None]:
    """The topic's name and instruction in ``lang`` (the zh-CN ones where no English is given)."""
    if row is None:
        return None, None
    english = pick_lang(lang) == "en"
    name = (row.name_en if english and row.name_en else row.name) or None
    instruction = (row.instruction_en if english and row.instruction_en else row.instruction) or None
    return name, instruction


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


#: every business table's columns (their labels), read with each detail
TABLE_COLUMNS = select(BUSINESS_TABLE.c.name, BUSINESS_TABLE.c.columns)
#: the tables a rule version reads (a scalar subquery: read in the same statement as its topic)
RULE_TABLES = (
    select(RULE_VERSION.c.tables).where(RULE_VERSION.c.id == bindparam("rule_version_id")).scalar_subquery()
)


def labels_of(tables_read: Any, table_columns: Any, topic_labels: Any, manual: bool) -> dict[str, Label]:
    """Labels of a topic's evidence: columns of every business table (those the rule version reads,
    ``tables_read``, win), then the topic's own labels of its rule's output columns (these win over
    all); ``manual``: raised by hand (``manual.py``), its inspector's words labelled too."""
    read = [str(t) for t in (_json(tables_read) or [])]
    out: dict[str, Label] = {}
    if manual:
        out["observed"] = Label(say("zh-CN", "evidence.observed"), say("en", "evidence.observed"), None)
    for _table, columns in sorted(table_columns, key=lambda r: r[0] in read):
        for spec in _json(columns) or []:
            found = _label(spec)
            if found is not None:
                out[str(spec["name"])] = found
    for key, value in (_json(topic_labels) or {}).items():
        found = _label(value)
        if found is not None:
            out[str(key)] = found
    return out


async def topic_row(session: AsyncSession, topic_id: int) -> Any:
    return (
        await session.execute(
            select(TOPIC.c.name, TOPIC.c.name_en, TOPIC.c.instruction, TOPIC.c.instruction_en).where(
                TOPIC.c.id == topic_id
            )
        )
    ).one_or_none()
