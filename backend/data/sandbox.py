"""Check expert-written rule SQL on its parse tree before it runs, on any engine.

A rule is ONE ``SELECT`` (DuckDB SQL, whatever the engine) over declared business tables: no other
statement, no table functions (``read_csv``, ``glob``, ``query`` …), no file or schema-qualified
names, no functions that read settings or the environment, named parameters (``$name``) only.

Two parses: an **allow-list** over sqlglot's tree (:mod:`backend.data.rulesql`: only the node kinds
a query needs pass, the tree is what the Spark engine runs once transpiled), then DuckDB's own
parser (what the DuckDB engine runs). This is the first line; the DuckDB store's instance has
external access off and its configuration locked (:mod:`backend.data.store`), and rules run with
a time limit.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NoReturn

import duckdb

from backend.data.rulesql import allowed_tree
from backend.kernel.errors import AppError

MAX_SQL = 20_000
BLOCKED_FUNCTIONS = {
    "getenv",
    "current_setting",
    "nextval",
    "currval",
    "setseed",
    "read_text",
    "read_blob",
    "sql_auto_complete",
    "checkpoint",
    "force_checkpoint",
    "enable_profiling",
}
BLOCKED_PREFIXES = ("read_", "pg_", "duckdb_", "pragma_", "sqlite_", "parquet_", "icu_")
_parser_local = threading.local()


class RuleRejected(AppError):
    status = 422
    code = "rule_rejected"


@dataclass(frozen=True)
class CheckedRule:
    sql: str
    tables: tuple[str, ...]
    parameters: tuple[str, ...]


def _parser() -> duckdb.DuckDBPyConnection:
    """An in-memory instance used only to parse (never to read data), one per thread."""
    con = getattr(_parser_local, "con", None)
    if con is None:
        con = duckdb.connect(":memory:", config={"enable_external_access": False})
        _parser_local.con = con
    return con


def warm_parser() -> None:
    """Start this thread's parsing instance now (a DuckDB instance takes a moment to start)."""
    _parser()


def _nodes(tree: Any) -> Iterator[dict[str, Any]]:
    stack = [tree]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def check_rule_sql(sql: str, known_tables: set[str]) -> CheckedRule:
    """Return the cleaned SQL, the tables it reads and its parameters, or raise :class:`RuleRejected`."""
    text = sql.strip().rstrip(";").strip()
    if not text:
        raise RuleRejected("the rule is empty: write one SELECT statement")
    if len(text) > MAX_SQL:
        raise RuleRejected(f"the rule is longer than {MAX_SQL} characters")
    allowed_tree(text, known_tables, _reject)
    row = _parser().execute("SELECT json_serialize_sql(?)", [text]).fetchone()
    tree: dict[str, Any] = json.loads(row[0]) if row else {"error": True, "error_message": "cannot parse"}
    if tree.get("error"):
        message = str(tree.get("error_message", "cannot parse"))
        if "Only SELECT" in message:
            message = "only a single SELECT statement is allowed (no INSERT, COPY, ATTACH, SET, PRAGMA …)"
        raise RuleRejected(f"rule rejected: {message}", extra={"reason": message})
    statements = tree.get("statements", [])
    if len(statements) != 1:
        raise RuleRejected("rule rejected: exactly one SELECT statement is allowed")
    nodes = list(_nodes(statements[0]))
    ctes = {
        str(entry["key"])
        for node in nodes
        if isinstance(node.get("cte_map"), dict)
        for entry in node["cte_map"].get("map", [])
    }
    tables: set[str] = set()
    params: set[str] = set()
    for node in nodes:
        kind = node.get("type")
        if kind == "TABLE_FUNCTION":
            name = (node.get("function") or {}).get("function_name", "?")
            _reject(f"table function {name}() is not allowed: rules read declared business tables only")
        elif kind == "BASE_TABLE":
            name = str(node.get("table_name", ""))
            if node.get("catalog_name") or node.get("schema_name") not in ("", "main"):
                _reject(
                    f"{'.'.join(node['qualified_name']['path'])}: only declared business tables may be read"
                )
            if name in ctes and not node.get("schema_name"):
                continue
            if name not in known_tables:
                _reject(f"unknown table {name!r}: a rule reads declared business tables only")
            tables.add(name)
        elif node.get("class") == "FUNCTION":
            name = str(node.get("function_name", "")).lower()
            if name in BLOCKED_FUNCTIONS or name.startswith(BLOCKED_PREFIXES) or node.get("schema"):
                _reject(f"function {name}() is not allowed in a rule")
        elif node.get("class") == "PARAMETER":
            ident = str(node.get("identifier", ""))
            if not ident or ident.isdigit():
                _reject("use named parameters ($name), not ? or $1")
            params.add(ident)
    return CheckedRule(text, tuple(sorted(tables)), tuple(sorted(params)))


def _reject(reason: str) -> NoReturn:
    raise RuleRejected(f"rule rejected: {reason}", extra={"reason": reason})
