"""PWA benchmarks (issue 6). Not tests: each prints one line per figure.

    .venv/bin/python benchmarks/pwa_bench.py size
    .venv/bin/python benchmarks/pwa_bench.py load --url http://127.0.0.1:8000 [--user manager]
    LIGHTHOUSE=node_modules/.bin/lighthouse .venv/bin/python benchmarks/pwa_bench.py lighthouse --url …

``size``: what the first visit fetches (index.html, the stylesheet, app.js and the modules it imports
statically, the zh-CN catalog and the sign-in view), raw and gzip -9, against the 60 KB budget.
``load``: Debian's Chromium on a throttled "4G" link (150 ms RTT, 9 Mbit/s down, 1.5 up, CPU 4x
slower), a cold phone-sized context: time to the sign-in form, then sign-in to the inbox drawn,
then a warm reload (the service worker answering) to the inbox.
``lighthouse``: npm ``lighthouse`` (mobile preset, simulated throttling) on the sign-in page with
CHROME_PATH=/usr/bin/chromium: performance, accessibility and best-practice scores, and the timings.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.pwa.shell import CHROMIUM, CHROMIUM_ARGS, PWA, first_load, gzip_size


def size() -> None:
    files = first_load()
    raw = sum(p.stat().st_size for p in files)
    packed = sum(gzip_size(p) for p in files)
    print(f"pwa first load: {len(files)} files, {raw / 1024:.1f} KB raw")
    print(f"pwa first load: {packed / 1024:.1f} KB gzip -9 (budget 60 KB, {packed / 61440:.0%} of it)")
    everything = [*PWA.glob("js/**/*.js"), PWA / "css" / "app.css", PWA / "index.html", PWA / "sw.js"]
    print(f"pwa whole shell: {sum(gzip_size(p) for p in everything) / 1024:.1f} KB gzip -9 (offline cache)")


def load(url: str, user: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
        page = ctx.new_page()
        cdp = ctx.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 150, "downloadThroughput": 9e6 / 8, "uploadThroughput": 1.5e6 / 8},
        )
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
        t0 = time.perf_counter()
        page.goto(url + "/")
        page.wait_for_selector("form.login")
        print(f"pwa cold start to sign-in form (4G, 4x CPU): {(time.perf_counter() - t0) * 1000:.0f} ms")
        fcp = page.evaluate("performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null")
        print(f"pwa first contentful paint (4G, 4x CPU): {fcp:.0f} ms" if fcp else "pwa FCP: n/a")
        page.fill("#login-user", user)
        page.fill("#login-pass", "demo")
        t0 = time.perf_counter()
        page.click("form.login button[type=submit]")
        page.wait_for_selector(".wcard, .empty")
        print(f"pwa sign-in to inbox drawn (4G, 4x CPU): {(time.perf_counter() - t0) * 1000:.0f} ms")
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        t0 = time.perf_counter()
        page.reload()
        page.wait_for_selector(".wcard, .empty")
        warm = (time.perf_counter() - t0) * 1000
        print(f"pwa warm reload to inbox (service worker, 4G, 4x CPU): {warm:.0f} ms")
        browser.close()


def lighthouse(url: str) -> None:
    tool = os.environ.get("LIGHTHOUSE", "lighthouse")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        subprocess.run(  # noqa: S603 - a benchmark run by hand with a tool the operator names
            [
                tool,
                url + "/",
                "--quiet",
                "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
                "--only-categories=performance,accessibility,best-practices",
                "--output=json",
                f"--output-path={out}",
            ],
            check=True,
            env={**os.environ, "CHROME_PATH": "/usr/bin/chromium"},
        )
        report = json.loads(out.read_text("utf-8"))
    for name, category in report["categories"].items():
        print(f"pwa lighthouse {name} (mobile, sign-in page): {round(category['score'] * 100)}")
    for audit in (
        "first-contentful-paint",
        "largest-contentful-paint",
        "total-blocking-time",
        "cumulative-layout-shift",
    ):
        print(f"pwa lighthouse {audit}: {report['audits'][audit]['displayValue']}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["size", "load", "lighthouse"])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--user", default="manager")
    args = parser.parse_args()
    if args.what == "size":
        size()
    elif args.what == "lighthouse":
        lighthouse(args.url.rstrip("/"))
    else:
        load(args.url.rstrip("/"), args.user)


if __name__ == "__main__":
    main()
