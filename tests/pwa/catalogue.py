"""The PWA's message catalogue per language, in two files: ``<lang>.js`` holds what the first screen
needs (the shell, sign-in, the inbox, error texts) and is loaded at start; ``<lang>.more.js`` holds
everything else and is loaded right after, before any other screen is drawn (``pwa/js/i18n.js``).
Together they are the one catalogue of the language.

Which file a key belongs in follows from its prefix (:data:`CORE_PREFIXES`, :data:`CORE_KEYS`);
``tests/pwa/test_static.py`` checks it. After adding keys anywhere, put them right with::

    .venv/bin/python -m tests.pwa.catalogue
"""

from __future__ import annotations

import re
from pathlib import Path

LOCALES = Path(__file__).resolve().parents[2] / "pwa" / "js" / "locales"
LANGS = ("zh-CN", "en")
#: prefixes of the keys the first screen (shell, sign-in, inbox) uses
CORE_PREFIXES = frozenset(
    {
        "app",
        "common",
        "due",
        "err",
        "fmt",
        "inbox",
        "lang",
        "level",
        "list",
        "login",
        "month",
        "nav",
        "outbox",
        "state",
        "status",
        "totp",
        "warning",
        "weekday",
    }
)
#: single keys of other prefixes the shell or the sign-in page uses
CORE_KEYS = frozenset({"ck.answers_waiting", "report.entry"})
ENTRY = re.compile(r'^  "([^"]+)": .*,$')
HEAD = {
    "zh-CN": "// 简体中文（默认）{part}。键与 en 一一对应（tests/pwa/test_static.py 检查；"
    "tests/pwa/catalogue.py 分文件）。\n",
    "en": "// English{part}. The same keys as zh-CN (checked by tests/pwa/test_static.py; "
    "split by tests/pwa/catalogue.py).\n",
}


def is_core(key: str) -> bool:
    return key in CORE_KEYS or key.split(".", 1)[0] in CORE_PREFIXES


def path(lang: str, more: bool) -> Path:
    return LOCALES / f"{lang}{'.more' if more else ''}.js"


def entries(file: Path) -> list[tuple[str, str]]:
    """(key, line) of each entry, in file order (every entry is one line)."""
    if not file.exists():
        return []
    out = []
    for line in file.read_text("utf-8").splitlines():
        found = ENTRY.match(line)
        if found:
            out.append((found.group(1), line))
    return out


def keys(lang: str, more: bool | None = None) -> set[str]:
    """The keys of a language's catalogue: both files (``more=None``), or one of them."""
    parts = [False, True] if more is None else [more]
    return {k for p in parts for k, _ in entries(path(lang, p))}


def split() -> None:
    """Write each language's two files from the entries of both, each key in the file it belongs in."""
    for lang in LANGS:
        lines = entries(path(lang, False)) + entries(path(lang, True))
        seen: set[str] = set()
        core, rest = [], []
        for key, line in lines:
            if key in seen:
                continue
            seen.add(key)
            (core if is_core(key) else rest).append(line)
        for more, chosen in ((False, core), (True, rest)):
            part = "：其余界面文字" if more and lang == "zh-CN" else ": the other screens" if more else ""
            body = HEAD[lang].format(part=part) + "export default {\n" + "\n".join(chosen) + "\n};\n"
            path(lang, more).write_text(body, "utf-8")


if __name__ == "__main__":
    split()
