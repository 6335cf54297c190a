"""A push delivered again after a worker crash (same delivery key) does not alert the person twice:
the service worker remembers the keys it showed. The push event is delivered to the real service
worker by Chromium itself (DevTools ``ServiceWorker.deliverPushMessage``)."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.pwa.conftest import sign_in


def registration_id(cdp: Any, page: Any) -> str:
    found: dict[str, str] = {}
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: found.update({r["scopeURL"]: r["registrationId"] for r in event["registrations"]}),
    )
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + 10
    while not found and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert found, "the service worker did not register"
    return next(iter(found.values()))


def shown(page: Any) -> list[list[Any]]:
    return page.evaluate(
        "navigator.serviceWorker.ready.then(r => r.getNotifications())"
        ".then(list => list.map(n => [n.tag, n.body]))"
    )


def test_a_repeated_push_is_not_shown_twice(live, phone):
    ctx = phone()
    ctx.grant_permissions(["notifications"])
    page = ctx.new_page()
    sign_in(page, "manager")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    cdp = ctx.new_cdp_session(page)
    reg = registration_id(cdp, page)

    def push(keys: list[str], body: str) -> None:
        data = {"title": "廉洁风险预警", "body": body, "url": "/#/warnings", "tag": keys[0], "keys": keys}
        cdp.send(
            "ServiceWorker.deliverPushMessage",
            {"origin": live.url, "registrationId": reg, "data": json.dumps(data, ensure_ascii=False)},
        )

    def settle(want: list[list[Any]]) -> list[list[Any]]:
        deadline = time.monotonic() + 10
        while (now := shown(page)) != want and time.monotonic() < deadline:
            page.wait_for_timeout(50)
        return now

    push(["e1:p5:webpush"], "1 条红色预警")
    assert settle([["e1:p5:webpush", "1 条红色预警"]]) == [["e1:p5:webpush", "1 条红色预警"]]
    push(["e1:p5:webpush"], "1 条红色预警（重发）")  # the same message after a crash
    page.wait_for_timeout(500)
    # still one notification; replaced silently while it is on screen
    assert len(shown(page)) == 1

    page.evaluate(
        "navigator.serviceWorker.ready.then(r => r.getNotifications()).then(l => l.forEach(n => n.close()))"
    )
    assert settle([]) == []
    push(["e1:p5:webpush"], "1 条红色预警（再重发）")  # dismissed already: not shown again
    page.wait_for_timeout(500)
    assert shown(page) == []

    push(["e2:p5:webpush"], "1 条橙色预警")  # a new message is shown
    assert settle([["e2:p5:webpush", "1 条橙色预警"]]) == [["e2:p5:webpush", "1 条橙色预警"]]
