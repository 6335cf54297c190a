"""Messenger benchmarks (issue 17). Not tests: each prints one line per figure.

    .venv/bin/python benchmarks/messenger_bench.py [--n 20000]

* opening a WeCom callback (signature check, AES-256-CBC decrypt, corp id check) per second;
* sealing one (what the fake WeCom does), per second;
* rendering an alert's template card and action card, per second.
All on one core, in this process.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

from backend.delivery.payloads import Item, render
from backend.messenger.cards import action_card, alert_card
from backend.messenger.crypto import WeComCrypto

XML = (
    "<xml><ToUserName><![CDATA[wwbench]]></ToUserName><FromUserName><![CDATA[lisi]]></FromUserName>"
    "<CreateTime>1765000000</CreateTime><MsgType><![CDATA[event]]></MsgType>"
    "<Event><![CDATA[template_card_event]]></Event><EventKey><![CDATA[w:confirm:12345]]></EventKey>"
    "<TaskId><![CDATA[e1_p2_wecom]]></TaskId><CardType><![CDATA[button_interaction]]></CardType>"
    "<ResponseCode><![CDATA[rc-0123456789]]></ResponseCode><AgentID>1000002</AgentID></xml>"
)


def rate(n: int, fn: object) -> float:
    started = time.perf_counter()
    for _ in range(n):
        fn()  # type: ignore[operator]
    return n / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20000)
    n = parser.parse_args().n
    crypto = WeComCrypto("BenchToken0123", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wwbench")
    stamp, nonce = "1765000000", "nonce123"
    encrypted, signed = crypto.seal(XML, stamp, nonce)
    opened = rate(n, lambda: crypto.open(signed, stamp, nonce, encrypted))
    print(f"wecom callback open (verify + decrypt): {opened:,.0f}/s")
    print(f"wecom callback seal (encrypt + sign): {rate(n, lambda: crypto.seal(XML, stamp, nonce)):,.0f}/s")
    due = datetime.now(UTC) + timedelta(days=14)
    item = Item(1, 2, "warning.submitted", "high", "warning", 12345, due, reason="head")
    url = "https://probity.example"
    message = render([item], ["e2:p3:wecom"], public_url=url)
    cards = rate(n, lambda: alert_card(message, public_url=url, provider="wecom", app_id=1))
    print(f"wecom template card render: {cards:,.0f}/s")
    target = "/press/c-12345-3-0123456789abcdef"
    actions = rate(n, lambda: action_card(message, public_url=url, app_id=1, press=lambda _key: target))
    print(f"dingtalk action card render: {actions:,.0f}/s")


if __name__ == "__main__":
    main()
