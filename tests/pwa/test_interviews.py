"""A head records an interview (B.12) on the phone: two interviewers and the interviewee sign on the
screen with strokes of the pointer; the record, its signature images and its PDF come from the API.
With no signal the record waits on the phone and is stored once when the signal returns. The
inspector's dashboard shows the interview ratio per unit against its goals."""

from __future__ import annotations

import io
import math
from datetime import datetime

from PIL import Image
from playwright.sync_api import expect
from pypdf import PdfReader

from backend.kernel.timeutil import SHANGHAI
from tests.pwa.conftest import sign_in
from tests.pwa.helpers import person_id, png, true_warning, wait_until
from tests.pwa.shell import api_codes, missing_from_catalogs
from tests.pwa.test_a11y import audit

ANSWERS = {
    "iv-q_true": "属实，换表后未及时抄录读数",
    "iv-q_cause": "装表流程缺少复核环节",
    "iv-q_integrity": "本人表示八小时内外遵守廉洁纪律",
    "iv-c_collaboration": "营销与运检专业已建立协同复核",
    "iv-c_control": "供电所已将换表抄读纳入风险清单",
    "iv-c_education": "本季度已参加廉洁教育两次",
    "iv-suggestion": "建议换表工单增加读数照片必传项",
    "iv-follow_up": "一周内完成整改并报送落实情况",
}


# the draft's signature PNGs are in IndexedDB (each is saved when its stroke ends)
SIGNATURES_KEPT = """async () => {
  const [draft] = (await ProbityCore.outbox.all()).filter((i) => i.kind === "interview");
  // the draft's last save (300 ms after the last change) and the three signatures are on the phone
  return !!draft && !!draft.body && draft.body.place !== "" && draft.body.interviewer_ids.length === 2
    && (await ProbityCore.outbox.photos(draft.client_id)).length === 3;
}"""


def fill_record(page, place: str) -> None:
    page.get_by_label("约谈地点").fill(place)
    for field_id, text in ANSWERS.items():
        page.locator(f"#{field_id}").fill(text)


def draw(page, canvas, wiggle: float) -> None:
    """A signature: one pointer stroke across the pad (mouse → pointer events in Chromium)."""
    canvas.evaluate("e => e.scrollIntoView({ block: 'center' })")  # clear of the bottom tab bar
    box = canvas.bounding_box()
    assert box is not None
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + 0.08 * w, y + 0.6 * h)
    page.mouse.down()
    for i in range(1, 16):
        page.mouse.move(x + w * (0.08 + 0.055 * i), y + h * (0.5 + 0.3 * math.sin(i * wiggle)), steps=3)
    page.mouse.up()


def inked(content: bytes) -> tuple[int, int, bool]:
    """(width, height, whether any pixel was drawn) of a signature PNG."""
    image = Image.open(io.BytesIO(content))
    return image.width, image.height, image.getchannel("A").getbbox() is not None


def record_by_api(live, wid: int, client_id: str) -> dict:
    """An interview of the manager about warning ``wid``, by the head with the inspector."""
    head, inspector, manager = (person_id(live, u) for u in ("head", "inspector", "manager"))
    refs = []
    for n, (signer, who) in enumerate(
        [("interviewer", head), ("interviewer", inspector), ("interviewee", manager)]
    ):
        up = live.api(
            "POST",
            "/api/interviews/signatures",
            "head",
            files={"file": ("s.png", png(40 + n, 20), "image/png")},
        )
        assert up.status_code == 201, up.text
        refs.append({"signature_id": up.json()["id"], "signer": signer, "person_id": who})
    body = {
        "client_id": client_id,
        "person_id": manager,
        "warning_ids": [wid],
        "interviewer_ids": [head, inspector],
        "held_at": datetime.now(SHANGHAI).isoformat(timespec="minutes"),
        "place": "会议室",
        **{k.removeprefix("iv-"): v for k, v in ANSWERS.items()},
        "signatures": refs,
    }
    made = live.api("POST", "/api/interviews", "head", json=body)
    assert made.status_code == 201, made.text
    return dict(made.json())


def open_form_for(page, wid: int) -> None:
    page.goto(f"/#/warnings/{wid}")
    page.get_by_role("link", name="记录约谈").click()
    expect(page.get_by_role("heading", name="记录约谈")).to_be_visible()
    expect(page.locator(f"#iv-warnings input[value='{wid}']")).to_be_checked()


def test_every_error_code_of_the_interviews_api_is_in_both_catalogs():
    codes = api_codes("interviews")
    assert {"two_interviewers_required", "signatures_missing", "held_in_future", "signature_not_png"} <= codes
    assert missing_from_catalogs(codes) == {"zh-CN.js": [], "en.js": []}


def test_head_records_an_interview_with_signatures_drawn_on_the_screen(live, phone, shots, tmp_path):
    wid = true_warning(live, "high")
    manager = person_id(live, "manager")
    page = phone().new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    sign_in(page, "head")
    open_form_for(page, wid)
    expect(page.locator("#iv-person")).to_have_value(str(manager))
    # the head is the first interviewer; a second one is added from the people of the station
    expect(page.locator(".iv-interviewer")).to_have_count(1)
    page.locator("#iv-add-interviewer").select_option(index=1)
    expect(page.locator(".iv-interviewer")).to_have_count(2)
    pads = page.locator("canvas.sigpad")
    expect(pads).to_have_count(3)  # two interviewers and the interviewee
    fill_record(page, "城关供电所三楼会议室")

    # nothing is sent before everyone has signed
    draw(page, pads.nth(0), 0.9)
    page.get_by_role("button", name="提交约谈记录").click()
    expect(page.locator(".sig .field-error:visible")).to_have_count(2)
    expect(page.locator(".sig").nth(2)).to_contain_text("签名")
    # a pad cleared is empty again
    pads.nth(0).locator("xpath=..").get_by_role("button", name="清除重签").click()
    expect(page.locator(".sig").nth(0).locator(".sig-state")).to_have_text("未签名")
    for i, wiggle in enumerate((0.9, 1.7, 2.6)):
        draw(page, pads.nth(i), wiggle)
        expect(page.locator(".sig").nth(i).locator(".sig-state")).to_have_text("已签名")
    shots(page, "interview-form-signed", full_page=True)
    problems += audit(page, "interview form")

    page.get_by_role("button", name="提交约谈记录").click()
    expect(page.locator("h1.page-title")).to_contain_text("约谈记录：")
    records = live.api("GET", f"/api/interviews?warning_id={wid}", "head").json()
    assert len(records) == 1
    rec = records[0]
    assert page.url.endswith(f"#/interviews/{rec['id']}")
    assert rec["person_id"] == manager and rec["warning_ids"] == [wid]
    assert rec["place"] == "城关供电所三楼会议室" and rec["q_true"] == ANSWERS["iv-q_true"]
    assert len(rec["interviewers"]) == 2 and rec["interviewers"][0]["person_id"] == person_id(live, "head")
    signers = sorted((s["signer"], s["person_id"]) for s in rec["signatures"])
    assert [s for s, _ in signers] == ["interviewee", "interviewer", "interviewer"]
    assert {p for s, p in signers if s == "interviewer"} == {p["person_id"] for p in rec["interviewers"]}
    digests = set()
    for sig in rec["signatures"]:
        content = live.api("GET", sig["url"], "head").content
        assert content.startswith(b"\x89PNG")
        assert inked(content) == (600, 240, True), sig
        digests.add(sig["sha256"])
    assert len(digests) == 3  # three different drawings
    held = datetime.fromisoformat(rec["held_at"])
    assert (
        held.utcoffset() == SHANGHAI.utcoffset(held)
        and abs((datetime.now(SHANGHAI) - held).total_seconds()) < 3600
    )

    # the record on the phone: signatures shown, the PDF downloads
    imgs = page.locator(".sig-list img")
    expect(imgs).to_have_count(3)
    page.wait_for_function(
        "[...document.querySelectorAll('.sig-list img')].every((i) => i.complete && i.naturalWidth === 600)"
    )
    shots(page, "interview-record", full_page=True)
    problems += audit(page, "interview record")
    with page.expect_download() as info:
        page.get_by_role("button", name="下载约谈记录表（PDF）").click()
    download = info.value
    assert download.suggested_filename == f"interview-{rec['id']}.pdf"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    pdf = saved.read_bytes()
    assert pdf.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "“风险预防”约谈记录表" in text and "城关供电所三楼会议室" in text

    # the list, and the interviewee reads their own record
    page.goto("/#/interviews")
    expect(page.locator("a.iv-card")).to_have_count(1)
    shots(page, "interview-list")
    mine = phone().new_page()
    sign_in(mine, "manager")
    mine.goto(f"/#/interviews/{rec['id']}")
    expect(mine.locator(".sig-list img")).to_have_count(3)
    expect(mine.get_by_role("button", name="下载约谈记录表（PDF）")).to_be_visible()
    assert problems == []


def test_an_interview_recorded_with_no_signal_is_stored_once(live, phone, shots):
    wid = true_warning(live, "medium")
    ctx = phone()
    page = ctx.new_page()
    sign_in(page, "head")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    open_form_for(page, wid)
    page.locator("#iv-add-interviewer").select_option(index=1)
    ctx.set_offline(True)
    fill_record(page, "河堤现场")
    pads = page.locator("canvas.sigpad")
    for i in range(3):
        draw(page, pads.nth(i), 1.1 + i)
    # the draft survives a reload with no signal: texts and signatures come back
    wait_until(page, SIGNATURES_KEPT)
    page.reload()
    expect(page.get_by_label("约谈地点")).to_have_value("河堤现场")
    expect(page.locator(".sig-state", has_text="已签名")).to_have_count(3)
    page.get_by_role("button", name="提交约谈记录").click()
    expect(page.locator("#status")).to_contain_text("1 份约谈记录等待发送")
    expect(page.locator(".iv-local")).to_contain_text("等待网络发送")
    shots(page, "interview-waiting")
    assert live.api("GET", f"/api/interviews?warning_id={wid}", "head").json() == []

    ctx.set_offline(False)
    expect(page.locator("#status")).to_be_hidden(timeout=30_000)
    expect(page.locator("a.iv-card")).to_have_count(1)
    page.evaluate("globalThis.ProbityCore.flush()")
    page.reload()
    expect(page.locator("a.iv-card")).to_have_count(1)
    (rec,) = live.api("GET", f"/api/interviews?warning_id={wid}", "head").json()
    assert len(rec["signatures"]) == 3 and rec["place"] == "河堤现场"


def test_the_dashboard_shows_the_interview_ratio_against_its_goals(live, phone, shots):
    reds = [true_warning(live, "high"), true_warning(live, "high")]
    true_warning(live, "low")
    record_by_api(live, reds[0], "pwa-ratio-0001")

    page = phone().new_page()
    sign_in(page, "inspector")
    page.goto("/#/dashboard")
    box = page.locator("section.iv-ratio")
    expect(box.get_by_role("heading", name="约谈率（属实预警）")).to_be_visible()
    expect(box).to_contain_text("属实红色预警约谈率不低于 80%")
    bars = box.locator(".ratio-box")
    expect(bars.nth(0)).to_contain_text("50%")
    expect(bars.nth(0)).to_contain_text("已约谈 1 / 属实 2 条，目标 80%")
    expect(bars.nth(0)).to_contain_text("未达标")
    expect(bars.nth(1)).to_contain_text("已约谈 0 / 属实 1 条，目标 50%")
    row = box.locator("table tbody tr").filter(has_text="城关供电所")
    expect(row).to_contain_text("1/2 50%")
    expect(row).to_contain_text("0/1 0%")
    box.scroll_into_view_if_needed()
    shots(page, "dashboard-interview-ratio")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert audit(page, "dashboard") == []

    page.get_by_role("button", name="Switch to English / 切换语言").click()
    expect(page.locator("section.iv-ratio h2")).to_have_text("Interview ratio (true warnings)")
    expect(page.locator("section.iv-ratio .ratio-box").nth(0)).to_contain_text(
        "1 interviewed of 2 true, goal 80%"
    )


def touch_stroke(page, canvas) -> None:
    """A finger drawing across the pad: touch events from the CDP input domain (as a phone's
    touchscreen sends them), which Chromium turns into pointer events of type "touch"."""
    canvas.evaluate("e => e.scrollIntoView({ block: 'center' })")
    box = canvas.bounding_box()
    assert box is not None
    cdp = page.context.new_cdp_session(page)
    points = [
        (box["x"] + box["width"] * (0.1 + 0.08 * i), box["y"] + box["height"] * (0.3 + 0.05 * i))
        for i in range(10)
    ]
    cdp.send(
        "Input.dispatchTouchEvent",
        {"type": "touchStart", "touchPoints": [{"x": points[0][0], "y": points[0][1]}]},
    )
    for x, y in points[1:]:
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def test_the_form_in_english_on_a_touch_phone(live, phone, shots):
    wid = true_warning(live, "high")
    manager = person_id(live, "manager")
    page = phone(has_touch=True, is_mobile=True).new_page()
    sign_in(page, "head")
    page.get_by_role("button", name="Switch to English / 切换语言").click()
    page.goto("/#/interviews")
    expect(page.get_by_role("heading", name="Interview records")).to_be_visible()
    page.get_by_role("link", name="Record an interview").click()
    expect(page.get_by_role("heading", name="Record an interview")).to_be_visible()
    # no warning to start from: the interviewee is chosen, then their warnings
    page.locator("#iv-person").select_option(str(manager))
    expect(page.locator(f"#iv-warnings input[value='{wid}']")).to_be_visible()
    page.locator(f"#iv-warnings input[value='{wid}']").check()
    pads = page.locator("canvas.sigpad")
    expect(pads).to_have_count(2)  # the head and the interviewee, until a second interviewer is added
    expect(page.locator(".sig-label").nth(1)).to_contain_text("Interviewee")
    touch_stroke(page, pads.nth(0))
    expect(page.locator(".sig").nth(0).locator(".sig-state")).to_have_text("Signed")
    page.get_by_role("button", name="Submit the interview record").click()
    expect(page.locator("#iv-interviewers-error")).to_have_text(
        "An interview needs two interviewers at least"
    )
    expect(page.locator("#iv-place-error")).to_have_text("Enter the place")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shots(page, "interview-form-en", full_page=True)


def test_a_head_asks_the_county_inspector_to_be_the_second_interviewer(live, phone, shots):
    """The inspector is outside the station (not in the head's people list): the picker offers the
    people over the interviewee, and the record is stored with the inspector."""
    wid = true_warning(live, "high")
    head, inspector, committee = (person_id(live, u) for u in ("head", "inspector", "committee"))
    station = live.api("GET", "/api/people?limit=500", "head").json()["items"]
    assert inspector not in {p["id"] for p in station}
    page = phone().new_page()
    sign_in(page, "head")
    open_form_for(page, wid)
    adder = page.locator("#iv-add-interviewer")
    over = adder.locator("optgroup[label='约谈对象的上级负责人、纪检监察、监督委员会'] option")
    # the head is the first interviewer already; the inspector and the committee member are offered
    expect(over).to_have_count(2)
    expect(over.nth(0)).to_have_attribute("value", str(inspector))
    expect(over.nth(0)).to_contain_text("东湖县供电公司 · 纪检监察")
    expect(over.nth(1)).to_have_attribute("value", str(committee))
    assert str(head) not in adder.locator("option").evaluate_all("os => os.map((o) => o.value)")
    # searching narrows the picker and offers the matches as one tap
    inspector_name = live.api("GET", f"/api/people/{inspector}", "inspector").json()["name"]
    finder = page.locator("#iv-find-interviewer")
    finder.press_sequentially("纪检")
    expect(finder).to_be_focused()
    quick = page.locator(".iv-found button")
    expect(quick).to_have_count(1)
    expect(quick).to_contain_text(inspector_name)
    expect(adder.locator("option[value]:not([value=''])")).to_have_count(1)
    shots(page, "interview-search")
    finder.fill("没有这个人")
    expect(page.locator("#iv-interviewers")).to_contain_text("没有找到")
    finder.fill("纪检")
    quick.click()
    chosen = page.locator(".iv-interviewer")
    expect(chosen).to_have_count(2)
    expect(finder).to_have_value("")
    expect(chosen.nth(1)).to_contain_text(inspector_name)
    expect(adder.locator(f"option[value='{inspector}']")).to_have_count(0)  # chosen: not offered again
    fill_record(page, "东湖县供电公司纪委谈话室")
    pads = page.locator("canvas.sigpad")
    expect(pads).to_have_count(3)
    expect(page.locator(".sig-label").nth(1)).to_contain_text(inspector_name)
    for i, wiggle in enumerate((0.8, 1.9, 2.4)):
        draw(page, pads.nth(i), wiggle)
        expect(page.locator(".sig").nth(i).locator(".sig-state")).to_have_text("已签名")
    shots(page, "interview-form-inspector", full_page=True)
    page.get_by_role("button", name="提交约谈记录").click()
    expect(page.locator("h1.page-title")).to_contain_text("约谈记录：")
    (rec,) = live.api("GET", f"/api/interviews?warning_id={wid}", "head").json()
    assert [p["person_id"] for p in rec["interviewers"]] == [head, inspector]
    assert rec["interviewers"][1] == {"person_id": inspector, "name": inspector_name, "post": "纪检监察专责"}
    assert {s["person_id"] for s in rec["signatures"] if s["signer"] == "interviewer"} == {head, inspector}
    expect(page.locator("dl.facts").first).to_contain_text(inspector_name + "（纪检监察专责）")


def test_the_interviewee_finds_their_records_from_the_navigation(live, phone, shots):
    wid = true_warning(live, "high")
    rec = record_by_api(live, wid, "pwa-mine-0001")
    page = phone().new_page()
    sign_in(page, "manager")
    tabs = page.locator("nav.tabs")
    tabs.get_by_role("link", name="我的").click()
    page.get_by_role("link", name="我的约谈记录").click()
    expect(page.get_by_role("heading", name="我的约谈记录")).to_be_visible()
    expect(tabs.get_by_role("link", name="我的")).to_have_attribute("aria-current", "page")
    cards = page.locator("a.iv-card")
    expect(cards).to_have_count(1)
    expect(page.get_by_role("link", name="记录约谈")).to_have_count(0)  # an employee records none
    shots(page, "interviews-mine")
    assert audit(page, "my interviews") == []
    cards.first.click()
    expect(page.get_by_role("heading", name=f"约谈记录：{rec['interviewee_name']}")).to_be_visible()
    expect(page.locator(".sig-list img")).to_have_count(3)

    # in English; and a head's own list holds only the interviews held with them
    page.get_by_role("button", name="Switch to English / 切换语言").click()
    page.goto("/#/me")
    page.get_by_role("link", name="My interview records").click()
    expect(page.get_by_role("heading", name="My interview records")).to_be_visible()
    expect(page.locator("a.iv-card")).to_have_count(1)
    head = phone().new_page()
    sign_in(head, "head")
    head.goto("/#/interviews")
    expect(head.locator("a.iv-card")).to_have_count(1)  # the station's records
    head.goto("/#/me")
    head.get_by_role("link", name="我的约谈记录").click()
    expect(head.get_by_role("heading", name="我的约谈记录")).to_be_visible()
    expect(head.get_by_text("还没有对您的约谈记录")).to_be_visible()
    expect(head.locator("nav.tabs").get_by_role("link", name="我的")).to_have_attribute(
        "aria-current", "page"
    )
