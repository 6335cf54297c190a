"""A ``probity`` command that wrote to the trail seals its records before it ends (registered by
``compose``): with no server process running, they would otherwise wait, unchained, until the next
server start or ``probity audit verify`` — and a record deleted meanwhile would go unnoticed."""

from __future__ import annotations

import logging

from sqlalchemy.exc import DBAPIError

from backend.audit.service import AuditTrail
from backend.kernel.clitools import CLI_DONE
from backend.kernel.db import Database
from backend.kernel.hooks import Hook
from backend.kernel.settings import Settings

log = logging.getLogger("probity.audit")


async def seal_after_command(db: Database, settings: Settings) -> None:
    try:
        sealed = await AuditTrail(settings.secret_key.get_secret_value()).seal(db)
    except DBAPIError:  # a database without the trail yet (before its migration): nothing to seal
        log.debug("no trail to seal", exc_info=True)
        return
    if sealed:
        log.info("sealed %d trail records", sealed)


HOOKS = [Hook(CLI_DONE, seal_after_command)]
