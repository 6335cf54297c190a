"""Rule SQL as a parse tree (sqlglot): the allow-list every rule passes, and its Spark SQL.

Experts write DuckDB SQL. The tree of that SQL must be ONE query made only of the node kinds
listed here (selects, joins, set operations, CTEs, windows, FILTER, CASE, casts, literals,
columns, operators and functions); anything else — another statement, a table function, a
schema- or file-qualified name, a setting, a positional parameter, a lambda, PIVOT … — is refused
with the node that broke the rule. The Spark engine runs the same tree rendered as Spark SQL,
the named parameters put in as literals; what sqlglot knows Spark cannot express is refused here,
what Spark itself cannot analyse is refused when the rule is saved (the probe of the engine).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, SqlglotError

#: node kinds a rule may contain, besides functions (checked by name below)
ALLOWED: tuple[type[Any], ...] = (
    # query structure
    exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Subquery, exp.With, exp.CTE, exp.From,
    exp.Join, exp.Where, exp.Group, exp.Having, exp.Qualify, exp.Order, exp.Ordered, exp.Limit,
    exp.Offset, exp.Distinct, exp.Table, exp.TableAlias, exp.Alias, exp.Column, exp.Identifier,
    exp.Star, exp.Tuple, exp.Values, exp.Rollup, exp.Cube, exp.GroupingSets,
    # windows, FILTER, ordered aggregates
    exp.Window, exp.WindowSpec, exp.Filter, exp.WithinGroup, exp.IgnoreNulls, exp.RespectNulls,
    # values and operators
    exp.Literal, exp.Boolean, exp.Null, exp.Placeholder, exp.Paren, exp.Neg, exp.Not, exp.And,
    exp.Or, exp.Xor, exp.Binary, exp.Between, exp.In, exp.Is, exp.Exists, exp.Any, exp.All,
    exp.Case, exp.If, exp.Interval, exp.DataType, exp.DataTypeParam, exp.Var, exp.Bracket,
    exp.Slice, exp.Dot, exp.Array, exp.Struct, exp.PropertyEQ, exp.Kwarg, exp.Escape,
    exp.Unary, exp.Collate,
)  # fmt: skip
#: functions no rule may call: settings, the environment, sequences, files, the catalogue
BLOCKED_FUNCTIONS = {
    "getenv", "current_setting", "nextval", "currval", "setseed", "read_text", "read_blob",
    "sql_auto_complete", "checkpoint", "force_checkpoint", "enable_profiling", "query",
    "query_table", "glob", "reflect", "java_method", "try_reflect", "input_file_name",
    "current_user", "current_database", "current_schema", "current_catalog", "version",
}  # fmt: skip
BLOCKED_PREFIXES = ("read_", "pg_", "duckdb_", "pragma_", "sqlite_", "parquet_", "icu_", "system")
#: sqlglot's function nodes that read files or the system, whatever their name
BLOCKED_NODES: tuple[type[exp.Expression], ...] = (exp.ReadCSV, exp.Lambda, exp.Pivot, exp.Lateral)
INTEGER_TYPES = {
    exp.DataType.Type.TINYINT, exp.DataType.Type.SMALLINT, exp.DataType.Type.INT,
    exp.DataType.Type.BIGINT, exp.DataType.Type.INT128, exp.DataType.Type.UTINYINT,
    exp.DataType.Type.USMALLINT, exp.DataType.Type.UINT, exp.DataType.Type.UBIGINT,
}  # fmt: skip
NOT_A_QUERY = "only a single SELECT statement is allowed (no INSERT, COPY, ATTACH, SET, PRAGMA …)"
Reject = Callable[[str], NoReturn]


def parse(text: str, reject: Reject) -> exp.Query:
    try:
        trees = [t for t in sqlglot.parse(text, read="duckdb") if t is not None]
    except ParseError as exc:
        reject(f"the SQL cannot be read: {_first(exc)}")
    except SqlglotError as exc:
        reject(f"the SQL cannot be read: {exc}")
    if len(trees) != 1:
        reject("exactly one SELECT statement is allowed")
    tree = trees[0]
    if not isinstance(tree, exp.Query):
        reject(NOT_A_QUERY)
    return tree


def _first(exc: ParseError) -> str:
    errors = getattr(exc, "errors", None) or [{}]
    return str(errors[0].get("description") or exc).splitlines()[0]


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    return node.sql_name().lower()


def allowed_tree(text: str, known_tables: set[str], reject: Reject) -> exp.Query:
    """The rule's tree if every node is allowed; else ``reject(reason)``."""
    tree = parse(text, reject)
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    for node in tree.walk():
        if isinstance(node, BLOCKED_NODES):
            name = node.sql_name().lower() if isinstance(node, exp.Func) else type(node).__name__
            reject(f"{name} is not allowed: rules read declared business tables only")
        if isinstance(node, exp.Table):
            _check_table(node, known_tables, ctes, reject)
        elif isinstance(node, exp.Func):
            name = _function_name(node)
            if name in BLOCKED_FUNCTIONS or name.startswith(BLOCKED_PREFIXES):
                reject(f"function {name}() is not allowed in a rule")
        elif isinstance(node, exp.Placeholder):
            if not node.name or node.name.isdigit() or node.name == "?":
                reject("use named parameters ($name), not ? or $1")
        elif isinstance(node, exp.Parameter | exp.SessionParameter):
            reject("use named parameters ($name); settings and session values are not allowed")
        elif not isinstance(node, ALLOWED):
            reject(f"{type(node).__name__} is not allowed in a rule")
    return tree


def _check_table(node: exp.Table, known: set[str], ctes: set[str], reject: Reject) -> None:
    if not isinstance(node.this, exp.Identifier):
        name = _function_name(node.this) if isinstance(node.this, exp.Func) else node.this.sql()
        reject(f"table function {name}() is not allowed: rules read declared business tables only")
    if node.args.get("catalog") or (node.db and node.db != "main"):
        reject(f"{node.sql(dialect='duckdb')}: only declared business tables may be read")
    name = node.name
    if name in ctes and not node.db:
        return
    if name not in known:
        reject(f"unknown table {name!r}: a rule reads declared business tables only")


def parameters(tree: exp.Query) -> set[str]:
    return {p.name for p in tree.find_all(exp.Placeholder) if p.name}


def to_spark(text: str, params: dict[str, Any], reject: Reject) -> str:
    """The rule as Spark SQL, named parameters put in as typed literals.

    Raises through ``reject`` what sqlglot knows Spark cannot express."""
    tree = parse(text, reject).copy()
    for cast in list(tree.find_all(exp.Cast)):  # TryCast is a Cast too
        if cast.to.this in INTEGER_TYPES and not isinstance(cast.this, exp.Boolean):
            # DuckDB rounds a number cast to an integer (half away from zero), Spark truncates
            cast.this.replace(exp.Round(this=cast.this.copy()))
    for holder in list(tree.find_all(exp.Placeholder)):
        if holder.name not in params:
            reject(f"no value for parameter {holder.name}")
        holder.replace(exp.convert(params[holder.name]))
    try:
        return tree.sql(dialect="spark", unsupported_level=ErrorLevel.RAISE)
    except SqlglotError as exc:
        reject(f"Spark cannot run this rule: {exc}")
