"""A tag filed with a photo on the phone (issue 20), at 390×844 in zh-CN: the head picks a photo,
files the tag with no signal; back online the photo goes first, then the tag, stored once with the
photo bound to it (a JPEG shrunk on the phone); the person sees the photo on the tag about them."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.pwa.helpers import jpeg_size, png, signed_in
from tests.pwa.test_evaluation import seed
from tests.pwa.test_explained import visible_faults


def test_a_tag_with_a_photo_filed_offline_reaches_the_server_once_and_the_person_sees_the_photo(
    live, phone, shots, tmp_path
):
    category, manager = seed(live)
    picture = tmp_path / "gift.png"
    picture.write_bytes(png(2400, 1200))
    ctx, page, problems = signed_in(phone, "head")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.goto(f"/#/evaluation/file/{category}/{manager}")
    expect(page.get_by_role("heading", name="填报评价标签")).to_be_visible()
    page.get_by_text("主动拒收礼品礼金").click()
    page.get_by_label("事实与依据").fill("客户赠送购物卡，当场退回")
    page.locator("label.file-btn", has_text="从相册选择").locator("input").set_input_files(str(picture))
    expect(page.locator("fieldset.photos [role=status]")).to_have_text("已添加照片")
    expect(page.locator("fieldset.photos .thumb img")).to_be_visible()
    shots(page, "evaluation-file-photo", full_page=True)
    assert visible_faults(page.locator("main").inner_text()) == []
    ctx.set_offline(True)
    page.get_by_role("button", name="提交标签").click()
    expect(page.locator("#status")).to_contain_text("1 条评价标签等待发送")
    ctx.set_offline(False)
    expect(page.locator("#status")).to_be_hidden(timeout=30_000)
    page.evaluate("globalThis.ProbityCore.flush()")
    (tag,) = live.api("GET", f"/api/evaluation/tags?person_id={manager}", "head").json()
    assert tag["photo_id"] is not None and tag["note"] == "客户赠送购物卡，当场退回"
    stored = live.api("GET", f"/api/evaluation/tags/{tag['id']}/photo", "head")
    assert stored.headers["content-type"] == "image/jpeg"
    assert jpeg_size(stored.content) == (1600, 800)  # shrunk on the phone

    _, mine, seen = signed_in(phone, "manager")
    mine.goto("/#/evaluation")
    photo = mine.locator("li.ev-tag .ev-photo img")
    expect(photo).to_be_visible()
    assert mine.evaluate("(img) => img.naturalWidth", photo.element_handle()) == 1600
    shots(mine, "evaluation-mine-photo", full_page=True)
    assert visible_faults(mine.locator("main").inner_text()) == []
    assert problems == [] and seen == []
