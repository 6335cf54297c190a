"""B.13 风险函告书 and B.14 风险报告单: filed from a real letter, signed in order by the right roles,
printed with every field of the standard's form."""

from __future__ import annotations

from tests.forms.conftest import call, has, pdf_text, sign

NOTICE = {
    "possible_risk": "换表后电量异常未复核，可能存在内外勾结少计电量的廉政风险",
    "requirements": "立即核实三户换表记录，落实换表后复核制度",
}
REPORT = {
    "confirmation": "经核实三户换表后电量为零属实",
    "cause": "换表后未按规定复核读数",
    "measures": "追补电量并对责任人开展约谈",
}


async def test_notice_letter_and_risk_report_signed_in_order(client, sessions, letter):
    lid = letter["id"]
    # only an inspector over the department writes the notice letter
    await call(client, sessions, "POST", "/api/forms/b13", "head", 403, json={"linked_id": lid, **NOTICE})
    notice = await call(
        client, sessions, "POST", "/api/forms/b13", "inspector", 201, json={"linked_id": lid, **NOTICE}
    )
    assert notice["kind"] == "b13" and notice["state"] == "open"
    assert [(s["role"], s["box"]) for s in notice["steps"]] == [("committee", "leader_approval")]
    # one letter, one notice at a time
    await call(
        client, sessions, "POST", "/api/forms/b13", "inspector", 409, json={"linked_id": lid, **NOTICE}
    )
    # the inspector may not sign the leader's approval; the committee's pending list has it
    await sign(client, sessions, notice, 0, "inspector", "同意", status=403)
    pending = await call(client, sessions, "GET", "/api/forms?pending=true", "committee")
    assert [f["id"] for f in pending] == [notice["id"]] and pending[0]["mine"] is True
    assert await call(client, sessions, "GET", "/api/forms?pending=true", "inspector") == []
    done = await sign(client, sessions, notice, 0, "committee", "同意函告，请城关供电所按期反馈")
    assert done["state"] == "approved" and done["steps"][0]["signer_name"]
    text = pdf_text(await call(client, sessions, "GET", f"/api/forms/{notice['id']}/pdf", "inspector"))
    has(
        text,
        "风险函告书",
        f"编号{notice['number']}",
        "风险等级中风险（橙色）",
        "获取信息来源监督预警平台联动预警（同一主题三次属实预警）",
        "预警主题表计装拆后电量为零",
        "部门城关供电所",
        "可能存在的廉政风险" + NOTICE["possible_risk"],
        "相关防控要求" + NOTICE["requirements"],
        "要求反馈时间",
        "领导批复意见同意函告，请城关供电所按期反馈",
        "共3条经部门负责人或纪检监察人员确认属实的预警",
        "本函告书一式两份",
    )
    assert "T05" not in text and "medium" not in text

    # B.14: the head answers; the head's opinion, then discipline's instruction
    await call(client, sessions, "POST", "/api/forms/b14", "head2", 404, json={"linked_id": lid, **REPORT})
    report = await call(
        client, sessions, "POST", "/api/forms/b14", "head", 201, json={"linked_id": lid, **REPORT}
    )
    assert [s["box"] for s in report["steps"]] == ["head_opinion", "discipline_instruction"]
    letter_now = await call(client, sessions, "GET", f"/api/linked/{lid}", "head")
    assert letter_now["state"] == "answered" and letter_now["report_measures"] == REPORT["measures"]
    # out of order: discipline's instruction before the head's opinion
    refused = await sign(client, sessions, report, 1, "inspector", "已阅", status=409)
    assert refused["code"] == "step_out_of_order"
    # wrong role: the inspector signing the head's step; another station's head
    wrong = await sign(client, sessions, report, 0, "inspector", "同意", status=403)
    assert wrong["code"] == "wrong_signer"
    await sign(client, sessions, report, 0, "head2", "同意", status=404)
    await sign(client, sessions, report, 0, "head", "情况属实，已督促整改")
    again = await sign(client, sessions, report, 0, "head", "再签", status=409)
    assert again["code"] == "step_out_of_order"
    final = await sign(client, sessions, report, 1, "inspector", "整改措施可行，请于月底前完成追补")
    assert final["state"] == "approved"
    # the report's sign-offs complete: the letter is closed
    assert (await call(client, sessions, "GET", f"/api/linked/{lid}", "head"))["state"] == "closed"
    text = pdf_text(await call(client, sessions, "GET", f"/api/forms/{report['id']}/pdf", "head"))
    has(
        text,
        "风险报告单",
        f"编号{report['number']}",
        f"对应风险函告书：{notice['number']}",
        "获取信息来源监督预警平台联动预警",
        "风险确认情况" + REPORT["confirmation"],
        "风险发生原因及相关说明" + REPORT["cause"],
        "采取的处理措施" + REPORT["measures"],
        "部门负责人意见情况属实，已督促整改",
        "纪检监察部门批示意见整改措施可行，请于月底前完成追补",
    )
    # the letter's forms, for its page
    of_letter = await call(client, sessions, "GET", f"/api/forms?linked_id={lid}", "head")
    assert [(f["kind"], f["state"]) for f in of_letter] == [("b14", "approved"), ("b13", "approved")]
    # every signature in the trail of acts
    trail = await call(client, sessions, "GET", "/api/audit?object_type=approval&limit=50", "committee", 200)
    actions = [r["action"] for r in (trail["items"] if isinstance(trail, dict) else trail)]
    assert actions.count("approval.approve") == 3 and actions.count("approval.open") == 2


async def test_a_returned_form_stops_and_can_be_filed_again(client, sessions, letter):
    body = {"linked_id": letter["id"], **NOTICE}
    notice = await call(client, sessions, "POST", "/api/forms/b13", "inspector", 201, json=body)
    back = await sign(client, sessions, notice, 0, "committee", "防控要求不够具体，请补充", approve=False)
    assert back["state"] == "returned" and back["steps"][0]["outcome"] == "returned"
    await sign(client, sessions, notice, 0, "committee", "同意", status=409)
    text = pdf_text(await call(client, sessions, "GET", f"/api/forms/{notice['id']}/pdf", "inspector"))
    has(text, "退回", "防控要求不够具体")
    again = await call(client, sessions, "POST", "/api/forms/b13", "inspector", 201, json=body)
    assert again["number"] != notice["number"]


async def test_two_signatures_of_one_step_at_once_sign_it_once(
    client, sessions, letter, monkeypatch, settings, db
):
    """Two presses on the same step (two devices): the first to write signs; the other, which read
    the form before that, is refused — its update finds the step no longer next."""
    import asyncio

    import pytest

    from backend.approvals.models import StepAct
    from backend.approvals.service import ApprovalService
    from backend.kernel.access import Principal, Role
    from backend.kernel.errors import Conflict
    from tests.warnings.conftest import TRAIL, Seeder

    if settings.is_sqlite:
        pytest.skip("SQLite: a process's writing transactions take turns (backend/kernel/turns.py)")
    notice = await call(
        client,
        sessions,
        "POST",
        "/api/forms/b13",
        "inspector",
        201,
        json={"linked_id": letter["id"], **NOTICE},
    )
    person, unit = await Seeder(db).person("E0002")
    leader = Principal(0, "", person, unit, frozenset({Role.committee}), frozenset({unit}))
    reached, go = asyncio.Event(), asyncio.Event()
    read_steps = ApprovalService.steps
    held: list[int] = []

    async def steps_then_wait(self, approval_id):
        out = await read_steps(self, approval_id)
        if not held:  # the first signer has read the form: it waits here
            held.append(approval_id)
            reached.set()
            await go.wait()
        return out

    monkeypatch.setattr(ApprovalService, "steps", steps_then_wait)
    async with db.session() as first, db.session() as second:
        late = asyncio.create_task(
            ApprovalService(first, TRAIL).act(leader, notice["id"], 0, StepAct(approve=True, opinion="甲"))
        )
        await reached.wait()
        await ApprovalService(second, TRAIL).act(leader, notice["id"], 0, StepAct(approve=True, opinion="乙"))
        await second.commit()
        go.set()
        with pytest.raises(Conflict) as refused:
            await late
        assert refused.value.code == "state_changed"
    form = await call(client, sessions, "GET", f"/api/forms/{notice['id']}", "committee")
    assert [(s["outcome"], s["opinion"]) for s in form["steps"]] == [("approved", "乙")]
