"""PWA benchmarks (issue 6). Not tests: each prints one line per figure.

    .venv/bin/python benchmarks/pwa_bench.py size
    .venv/bin/python benchmarks/pwa_bench.py wire --serve          # or --url http://127.0.0.1:8000
    .venv/bin/python benchmarks/pwa_bench.py load --serve [--user manager]
    LIGHTHOUSE=node_modules/.bin/lighthouse .venv/bin/python benchmarks/pwa_bench.py lighthouse --serve

Run one benchmark at a time (other work on the machine skews the figures). ``--serve`` loads the
demo into a temporary directory and runs ``probity serve`` on a free port for the run (else
``--url`` names a running server).

``size``: what the first visit fetches (index.html, the stylesheet, app.js and the modules it imports
statically, the zh-CN catalog and the sign-in view), raw and gzip -9, against the 60 KB budget.
``wire``: the same files fetched from the server as a browser asks for them (``Accept-Encoding:
gzip, deflate, br, zstd``, then ``gzip`` only): the bytes on the wire, with the encoding the
server chose, against the 60 KB budget.
``load``: Debian's Chromium on a throttled "4G" link (150 ms RTT, 9 Mbit/s down, 1.5 up, CPU 4x
slower), a cold phone-sized context: time to the sign-in form, then sign-in to the inbox drawn,
then a warm reload (the service worker answering) to the inbox.
``lighthouse``: npm ``lighthouse`` (mobile preset, simulated throttling) on the sign-in page with
CHROME_PATH=/usr/bin/chromium: performance, accessibility and best-practice scores, and the timings.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
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


def wire(url: str) -> None:
    import httpx

    files = first_load()
    for accept in ("gzip, deflate, br, zstd", "gzip"):
        total = 0
        encodings: set[str] = set()
        with httpx.Client(base_url=url, timeout=30) as http:
            for path in files:
                name = "/" if path.name == "index.html" else "/" + str(path.relative_to(PWA))
                with http.stream("GET", name, headers={"Accept-Encoding": accept}) as r:
                    r.raise_for_status()
                    total += sum(len(chunk) for chunk in r.iter_raw())
                    encodings.add(r.headers.get("content-encoding", "identity"))
        print(
            f"pwa first load on the wire (Accept-Encoding: {accept}): {len(files)} files, "
            f"{total / 1024:.1f} KB as {'/'.join(sorted(encodings))} "
            f"(budget 60 KB, {total / 61440:.0%} of it)"
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def demo_server() -> Iterator[str]:
    """``probity demo`` into a temporary directory, then ``probity serve`` on a free port."""
    probity = Path(sys.executable).with_name("probity")
    with tempfile.TemporaryDirectory(prefix="pwa-bench-") as tmp:
        env = {
            **os.environ,
            "PROBITY_DATA_DIR": tmp,
            "PROBITY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/probity.db",
            "PROBITY_WORKERS_ENABLED": "false",
            "PROBITY_TELEGRAM_BOT_ENABLED": "false",
        }
        made = subprocess.run([str(probity), "demo"], env=env, capture_output=True, text=True)  # noqa: S603
        if made.returncode:
            raise RuntimeError(f"probity demo failed:\n{made.stdout}\n{made.stderr}")
        port = _free_port()
        server = subprocess.Popen(  # noqa: S603
            [str(probity), "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            import httpx

            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("probity serve did not start")
                time.sleep(0.2)
            yield url
        finally:
            server.terminate()
            server.wait(timeout=30)


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
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=["size", "wire", "load", "lighthouse"])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--serve", action="store_true", help="run the demo on a free port for this run")
    parser.add_argument("--user", default="manager")
    args = parser.parse_args()
    if args.what == "size":
        size()
        return
    with demo_server() if args.serve else contextlib.nullcontext(args.url.rstrip("/")) as url:
        if args.what == "wire":
            wire(url)
        elif args.what == "lighthouse":
            lighthouse(url)
        else:
            load(url, args.user)


if __name__ == "__main__":
    main()
