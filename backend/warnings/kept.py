"""Offline copies for the phone (issue 16): when the inbox loads, the details of the person's open
warnings on it are fetched in one request and kept on the phone, so a warning never opened can be
read and answered with no signal.

Fetching a copy is not looking at the warning: the state stays *delivered* (the first real look
marks it read); the copies are noted in the read journal as ``warning.keep``.
"""

from __future__ import annotations

from collections.abc import Sequence

from backend.audit.reads import ReadJournal
from backend.kernel.access import Principal
from backend.kernel.errors import Invalid, NotFound
from backend.warnings.models import ANSWERABLE_STATES, WarningState
from backend.warnings.schemas import WarningDetail
from backend.warnings.service import WarningService

#: one inbox page and then some
MAX_KEPT = 50


def parse_ids(raw: str) -> list[int]:
    """``"3,5,8"`` → [3, 5, 8]; at most MAX_KEPT, each once, in order."""
    out: list[int] = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        if not part.isdigit() or len(part) > 12:
            raise Invalid("ids must be warning numbers separated by commas", code="invalid_ids")
        if int(part) not in out:
            out.append(int(part))
    if len(out) > MAX_KEPT:
        raise Invalid(f"at most {MAX_KEPT} warnings at once", code="too_many_ids")
    return out


async def kept_details(
    svc: WarningService, principal: Principal, ids: Sequence[int], reads: ReadJournal, lang: str
) -> list[WarningDetail]:
    """The details of those of ``ids`` that are the caller's own and still to be answered; others
    (another person's, answered meanwhile, gone) are left out without saying why."""
    out: list[WarningDetail] = []
    for warning_id in ids:
        try:
            warning = await svc.get_visible(principal, warning_id)
        except NotFound:
            continue
        if warning.person_id != principal.person_id or WarningState(warning.state) not in ANSWERABLE_STATES:
            continue
        out.append(await svc.detail_unmarked(principal, warning, lang))
    reads.note(principal.actor, "warning.keep", "warning", [d.warning.id for d in out])
    return out
