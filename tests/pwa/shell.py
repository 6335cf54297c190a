"""What the PWA's first load fetches, read from the files: index.html's stylesheet, module and
preloads, the modules those import statically, the default catalog and the sign-in view."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

PWA = Path(__file__).resolve().parents[2] / "pwa"
CHROMIUM = Path("/usr/bin/chromium")
#: Debian's Chromium as root in a container, quiet: no sandbox, no GPU, no background traffic
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STATIC_IMPORT = re.compile(r'^import\s+(?:[^;]*?\s+from\s+)?"(\.{1,2}/[^"]+)";', re.MULTILINE)
LOADED_AT_START = ["js/locales/zh-CN.js", "js/views/login.js"]
CODE = re.compile(r'\bcode\s*=\s*"([a-z_]+)"')
LINKED = re.compile(r'<(?:link|script)[^>]*(?:href|src)="/([^"]+\.(?:js|css))"')


def static_imports(module: Path) -> list[Path]:
    return [(module.parent / m).resolve() for m in STATIC_IMPORT.findall(module.read_text("utf-8"))]


def first_load() -> list[Path]:
    index = PWA / "index.html"
    seen: list[Path] = [index]
    linked = LINKED.findall(index.read_text("utf-8"))
    todo = [*(PWA / p for p in linked), *(PWA / p for p in LOADED_AT_START)]
    while todo:
        module = todo.pop().resolve()
        if module in seen:
            continue
        seen.append(module)
        if module.suffix == ".js":
            todo.extend(static_imports(module))
    return seen


def gzip_size(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9, mtime=0))


def api_codes(feature: str) -> set[str]:
    """The stable error codes a backend feature raises (``code="..."`` in its sources)."""
    backend = PWA.parent / "backend" / feature
    found = (CODE.findall(p.read_text("utf-8")) for p in backend.glob("*.py"))
    return {code for codes in found for code in codes}


def missing_from_catalogs(codes: set[str]) -> dict[str, list[str]]:
    """Per catalog, the codes it has no ``err.<code>`` entry for."""
    out = {}
    for name in ("zh-CN.js", "en.js"):
        catalog = "".join(
            (PWA / "js" / "locales" / name.replace(".js", part)).read_text("utf-8")
            for part in (".js", ".more.js")
        )
        out[name] = sorted(c for c in codes if f'"err.{c}":' not in catalog)
    return out
