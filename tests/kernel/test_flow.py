"""The case files' moves (backend/kernel/flow.py): a move made from a state another move already
left is refused, so two people taking the same step at once cannot both take it."""

from __future__ import annotations

import pytest

from backend.kernel.errors import Conflict
from backend.kernel.flow import advance, require
from backend.problems.models import Problem, ProblemState


async def test_of_two_moves_from_the_same_state_only_the_first_is_taken(db):
    async with db.session() as s:
        row = Problem(unit_id=1, origin="inspection", title="t", description="d", registered_by=1)
        s.add(row)
        await s.commit()
        problem_id = row.id
    async with db.session() as first, db.session() as second:
        a = await first.get(Problem, problem_id)
        b = await second.get(Problem, problem_id)
        assert a is not None and b is not None and a.state == b.state == ProblemState.registered
        await advance(first, a, ProblemState.classified, {"category": "process"})
        await first.commit()
        # the second read the row before the first moved it: its move finds no row in that state
        with pytest.raises(Conflict) as refused:
            await advance(second, b, ProblemState.classified, {"category": "finance"})
        assert refused.value.code == "record_changed"
        await second.rollback()
    async with db.session() as s:
        stored = await s.get(Problem, problem_id)
        assert stored is not None and stored.state == ProblemState.classified and stored.category == "process"


def test_a_step_out_of_order_names_the_state_it_needs():
    with pytest.raises(Conflict) as refused:
        require(ProblemState.registered, {ProblemState.rectified}, "check")
    assert refused.value.code == "out_of_order"
    assert refused.value.extra == {"state": "registered", "action": "check", "needs": ["rectified"]}
