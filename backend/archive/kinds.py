"""The kinds of case the archive holds. A new kind (a clue, a problem) is an adapter module
(``backend/archive/kind_<name>.py``, see :class:`backend.archive.casefile.CaseKind`) and one line
here."""

from __future__ import annotations

from backend.archive.casefile import CaseKind
from backend.archive.kind_clue import ClueKind
from backend.archive.kind_ladder import LadderKind
from backend.archive.kind_problem import ProblemKind
from backend.archive.kind_warning import WarningKind
from backend.kernel.errors import NotFound


def kinds() -> dict[str, CaseKind]:
    return {k.name: k for k in (WarningKind(), LadderKind(), ClueKind(), ProblemKind())}


def kind_of(name: str) -> CaseKind:
    found = kinds().get(name)
    if found is None:
        raise NotFound(f"no case files of kind {name[:20]!r}", code="case_kind_not_found")
    return found
