"""A person's facts read inside a service's session take no second connection from the pool."""

from __future__ import annotations

from sqlalchemy import event, select

import backend.kernel.db as kernel_db
from backend.audit.service import AuditTrail
from backend.org.service import OrgService
from tests.conftest import TEST_SECRET


async def test_person_facts_in_a_session_use_its_connection(db, monkeypatch):
    # as on PostgreSQL (there, this is how it is): no inline reads on a plain sqlite3 connection
    monkeypatch.setattr(kernel_db, "_inline", lambda bind: None)
    checkouts: list[object] = []

    def checked_out(*_: object) -> None:
        checkouts.append(object())

    event.listen(db.engine.sync_engine.pool, "checkout", checked_out)
    try:
        async with db.session() as s:
            org = OrgService(s, AuditTrail(TEST_SECRET))
            person = await org.person_by_no("E0005")  # the request holds its connection now
            assert person is not None and person.id is not None
            held = len(checkouts)
            facts = await org.person_facts(person.id)
            assert len(checkouts) == held  # none taken besides the session's
            assert facts is not None and facts.person_id == person.id and facts.unit_id == person.unit_id
            assert person.unit_id in facts.subtree_unit_ids
            assert (await s.execute(select(1))).scalar_one() == 1
    finally:
        event.remove(db.engine.sync_engine.pool, "checkout", checked_out)
