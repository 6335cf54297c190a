"""Import units and people from CSV/XLSX: every row checked first, then all or nothing.

Rows are matched on their key (unit ``code``, person ``employee_no``): a new key creates,
an existing key updates, so importing the same file twice changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit.service import AuditTrail
from backend.kernel.access import Actor, Role
from backend.kernel.cache import ORG_GENERATION
from backend.kernel.errors import Invalid
from backend.kernel.hooks import REGISTRY, HookPoint
from backend.kernel.settings import Settings
from backend.kernel.tabular import RowError, read_rows, require_columns
from backend.org.models import PersonCreate, PersonUpdate, Specialty, UnitCreate, UnitKind, UnitUpdate
from backend.org.service import OrgService

UNIT_COLUMNS = ["code", "name", "kind", "parent_code", "specialty"]
PEOPLE_COLUMNS = [
    "employee_no",
    "name",
    "unit_code",
    "post_code",
    "started_in_post",
    "phone",
    "roles",
    "birth_year",
]


@dataclass
class ImportReport:
    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    dry_run: bool = False
    errors: list[dict[str, Any]] = field(default_factory=list)
    #: what other features did with the file's further columns (e.g. messenger user ids), by feature
    notes: dict[str, Any] = field(default_factory=dict)


#: after a people import is committed, each row by employee number (every column of the file,
#: those the import does not read too): a feature may take its own columns and say what it did
PeopleImported = Callable[
    [AsyncSession, AuditTrail, Settings, Actor, list[tuple[str, dict[str, str]]]],
    Awaitable[dict[str, Any] | None],
]
PEOPLE_IMPORTED: HookPoint[PeopleImported] = HookPoint("org.people_imported")


def _reject(errors: list[RowError], rows: int) -> Invalid:
    first = errors[0]
    where = f"row {first.row}" + (f", column {first.column}" if first.column else "")
    return Invalid(
        f"{len(errors)} row error(s), nothing was imported; first: {where}: {first.reason}",
        code="import_rejected",
        extra={"errors": [e.as_dict() for e in errors[:500]], "error_count": len(errors), "rows": rows},
    )


def _validation_errors(number: int, exc: ValidationError) -> list[RowError]:
    out = []
    for err in exc.errors():
        column = str(err["loc"][0]) if err.get("loc") else None
        out.append(RowError(number, column, err["msg"]))
    return out


class OrgImporter:
    def __init__(self, org: OrgService, settings: Settings | None = None) -> None:
        self.org = org
        #: with settings, other features' hooks see the people imported (without: a bare import)
        self.settings = settings

    async def _finish(self, dry_run: bool) -> None:
        """Keep the rows written, or (a dry run) undo them: the report then says what the import
        would create, change and leave as it is, counted by the very same steps."""
        if dry_run:
            await self.org.session.rollback()
            return
        await self.org.session.commit()
        ORG_GENERATION.bump()

    async def import_units(
        self, filename: str, content: bytes, actor: Actor, *, dry_run: bool = False
    ) -> ImportReport:
        header, rows = read_rows(filename, content)
        require_columns(header, ["code", "name", "kind"])
        errors: list[RowError] = []
        parsed: list[tuple[int, dict[str, Any]]] = []
        seen: dict[str, int] = {}
        for number, row in rows:
            if "__error__" in row:
                errors.append(RowError(number, None, row["__error__"]))
                continue
            code = row.get("code", "")
            if code in seen:
                errors.append(RowError(number, "code", f"unit code {code!r} also on row {seen[code]}"))
                continue
            seen[code] = number
            values: dict[str, Any] = {k: (row.get(k) or None) for k in UNIT_COLUMNS}
            values["code"], values["name"] = code, row.get("name", "")
            if values["kind"] not in UnitKind.__members__:
                errors.append(
                    RowError(
                        number,
                        "kind",
                        f"unknown kind {values['kind']!r}; one of {', '.join(UnitKind.__members__)}",
                    )
                )
                continue
            if values["specialty"] and values["specialty"] not in Specialty.__members__:
                errors.append(
                    RowError(
                        number,
                        "specialty",
                        f"unknown specialty {values['specialty']!r}; one of "
                        f"{', '.join(Specialty.__members__)}",
                    )
                )
                continue
            try:
                UnitCreate(**values)
            except ValidationError as exc:
                errors.extend(_validation_errors(number, exc))
                continue
            parsed.append((number, values))
        # parents must exist in the database or in this file, and the file must not make a cycle
        in_file = {v["code"]: v for _, v in parsed}
        for number, values in parsed:
            parent = values["parent_code"]
            if parent and parent not in in_file and await self.org.unit_by_code(parent) is None:
                errors.append(RowError(number, "parent_code", f"unknown unit {parent!r}"))
        ordered = _parents_first(parsed, errors)
        report = ImportReport("units", rows=len(parsed) + len({e.row for e in errors}), dry_run=dry_run)
        if errors:
            raise _reject(sorted(errors, key=lambda e: e.row), report.rows)
        try:
            for _, values in ordered:
                existing = await self.org.unit_by_code(values["code"])
                if existing is None:
                    await self.org.create_unit(UnitCreate(**values), actor, commit=False)
                    report.created += 1
                    continue
                update = UnitUpdate(
                    name=values["name"],
                    kind=values["kind"],
                    specialty=values["specialty"],
                    parent_code=values["parent_code"],
                )
                before = (existing.name, existing.kind, existing.specialty, existing.parent_id)
                await self.org.update_unit(existing.id, update, actor, commit=False)  # type: ignore[arg-type]
                after = (existing.name, existing.kind, existing.specialty, existing.parent_id)
                report.updated += before != after
                report.unchanged += before == after
            await self._finish(dry_run)
        except BaseException:
            await self.org.session.rollback()
            raise
        return report

    async def import_people(
        self, filename: str, content: bytes, actor: Actor, *, dry_run: bool = False
    ) -> ImportReport:
        header, rows = read_rows(filename, content)
        require_columns(header, ["employee_no", "name", "unit_code"])
        errors: list[RowError] = []
        parsed: list[tuple[int, PersonCreate]] = []
        taken: list[tuple[str, dict[str, str]]] = []
        seen: dict[str, int] = {}
        unit_codes = {u.code for u in await self.org.list_units()}
        post_codes = {p.code for p in await self.org.list_posts()}
        for number, row in rows:
            if "__error__" in row:
                errors.append(RowError(number, None, row["__error__"]))
                continue
            no = row.get("employee_no", "")
            if no in seen:
                errors.append(
                    RowError(number, "employee_no", f"employee number {no!r} also on row {seen[no]}")
                )
                continue
            seen[no] = number
            row_errors: list[RowError] = []
            if row.get("unit_code") not in unit_codes:
                row_errors.append(RowError(number, "unit_code", f"unknown unit {row.get('unit_code')!r}"))
            if row.get("post_code") and row["post_code"] not in post_codes:
                row_errors.append(RowError(number, "post_code", f"unknown post {row['post_code']!r}"))
            started: date | None = None
            if row.get("started_in_post"):
                try:
                    started = date.fromisoformat(row["started_in_post"].replace("/", "-"))
                except ValueError:
                    row_errors.append(
                        RowError(
                            number,
                            "started_in_post",
                            f"{row['started_in_post']!r} is not a date (YYYY-MM-DD)",
                        )
                    )
            born: int | None = None
            if (row.get("birth_year") or "").strip():
                text = row["birth_year"].strip()
                if not (text.isdigit() and 1900 <= int(text) <= 2100):
                    row_errors.append(RowError(number, "birth_year", f"{text!r} is not a year (e.g. 1985)"))
                else:
                    born = int(text)
            roles = [
                r.strip() for r in (row.get("roles") or "employee").replace(";", ",").split(",") if r.strip()
            ]
            bad_roles = [r for r in roles if r not in Role.__members__]
            if bad_roles:
                row_errors.append(
                    RowError(
                        number,
                        "roles",
                        f"unknown role(s) {', '.join(bad_roles)}; known: {', '.join(Role.__members__)}",
                    )
                )
            if row_errors:
                errors.extend(row_errors)
                continue
            try:
                parsed.append(
                    (
                        number,
                        PersonCreate(
                            employee_no=no,
                            name=row.get("name", ""),
                            unit_code=row["unit_code"],
                            post_code=row.get("post_code") or None,
                            started_in_post=started,
                            phone=row.get("phone") or None,
                            birth_year=born,
                            roles=roles,
                        ),
                    )
                )
                taken.append((no, dict(row)))
            except ValidationError as exc:
                errors.extend(_validation_errors(number, exc))
        report = ImportReport("people", rows=len(parsed) + len({e.row for e in errors}), dry_run=dry_run)
        if errors:
            raise _reject(sorted(errors, key=lambda e: e.row), report.rows)
        try:
            for _, data in parsed:
                existing = await self.org.person_by_no(data.employee_no)
                if existing is None:
                    await self.org.create_person(data, actor, commit=False, source="imported")
                    report.created += 1
                    continue
                before = dict(existing.model_dump())
                update = PersonUpdate(**data.model_dump(exclude={"employee_no"}))
                await self.org.update_person(existing.id, update, actor, commit=False, source="imported")  # type: ignore[arg-type]
                same = before == dict(existing.model_dump())
                report.unchanged += same
                report.updated += not same
            await self._finish(dry_run)
        except BaseException:
            await self.org.session.rollback()
            raise
        if not dry_run and self.settings is not None:
            for hook in REGISTRY(PEOPLE_IMPORTED):
                note = await hook(self.org.session, self.org.trail, self.settings, actor, taken)
                if note:
                    report.notes.update(note)
        return report


def _parents_first(
    parsed: list[tuple[int, dict[str, Any]]], errors: list[RowError]
) -> list[tuple[int, dict[str, Any]]]:
    by_code = {v["code"]: (n, v) for n, v in parsed}
    ordered: list[tuple[int, dict[str, Any]]] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(code: str, trail: list[str]) -> None:
        if state.get(code) == 2:
            return
        number, values = by_code[code]
        if state.get(code) == 1:
            errors.append(
                RowError(number, "parent_code", f"parent chain loops: {' → '.join([*trail, code])}")
            )
            return
        state[code] = 1
        parent = values["parent_code"]
        if parent in by_code:
            visit(parent, [*trail, code])
        state[code] = 2
        ordered.append((number, values))

    for code in by_code:
        visit(code, [])
    return ordered
