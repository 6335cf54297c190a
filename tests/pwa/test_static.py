"""The PWA's files, without a browser: catalogs complete in both languages, every file cached by the
service worker exists and every module is cached, nothing loaded from elsewhere, no HTML parsing of
data, and the first load within its budget."""

from __future__ import annotations

import json
import re

from tests.pwa import catalogue
from tests.pwa.shell import PWA, first_load, gzip_size

KEY = re.compile(r'^\s*"([^"]+)":', re.MULTILINE)
USED = re.compile(r'\b(?:t|maybe)\("([a-z_][A-Za-z0-9_.-]*)"[,)]')
FIRST_LOAD_BUDGET = 60 * 1024


def catalog(name: str) -> set[str]:
    """The keys of a language's whole catalogue (the first screen's file and the rest)."""
    return catalogue.keys(name.removesuffix(".js"))


def sources() -> dict[str, str]:
    files = [*PWA.glob("js/**/*.js"), PWA / "sw.js", PWA / "index.html", PWA / "css" / "app.css"]
    return {str(p.relative_to(PWA)): p.read_text("utf-8") for p in files}


def test_both_catalogs_have_the_same_keys_and_every_key_used_exists():
    zh, en = catalog("zh-CN.js"), catalog("en.js")
    assert zh == en, {"only zh-CN": sorted(zh - en), "only en": sorted(en - zh)}
    used = {key for text in sources().values() for key in USED.findall(text)}
    assert used, "no t() calls found"
    assert sorted(used - zh) == []


def test_error_codes_of_the_reply_path_are_in_the_catalog():
    codes = {
        "network",
        "invalid_credentials",
        "account_locked",
        "token_expired",
        "session_ended",
        "warning_not_found",
        "not_your_warning",
        "state_changed",
        "invalid_transition",
        "warning_closed",
        "measures_required",
        "client_id_reused",
        "unknown_photo",
        "photo_too_large",
        "not_an_image",
        "reason_required",
        "own_reply",
        "not_unit_head",
        "invalid_request",
    }
    assert sorted(c for c in codes if f"err.{c}" not in catalog("zh-CN.js")) == []


def test_the_service_worker_caches_every_shell_file_and_they_exist():
    sw = (PWA / "sw.js").read_text("utf-8")
    listed = re.search(r"const SHELL = \[(.*?)\];", sw, re.DOTALL)
    assert listed is not None
    shell = set(re.findall(r'"(/[^"]*)"', listed.group(1)))
    for path in shell - {"/"}:
        assert (PWA / path.lstrip("/")).is_file(), path
    modules = {"/" + str(p.relative_to(PWA)) for p in PWA.glob("js/**/*.js")}
    assert sorted(modules - shell) == [], "modules the worker does not keep for offline use"


def test_the_manifest_names_existing_icons_and_the_start_url():
    manifest = json.loads((PWA / "manifest.json").read_text("utf-8"))
    assert manifest["start_url"].startswith("/") and manifest["display"] == "standalone"
    assert manifest["theme_color"] and manifest["lang"] == "zh-CN"
    for icon in manifest["icons"]:
        assert (PWA / icon["src"].lstrip("/")).is_file(), icon["src"]
    assert any(i.get("purpose") == "maskable" for i in manifest["icons"])


def test_nothing_comes_from_elsewhere_and_no_data_is_parsed_as_html():
    allowed = {"http://www.w3.org/2000/svg", "https://…", "https://push.example.test"}
    for name, text in sources().items():
        for url in re.findall(r"https?://[^\s\"'`)]*", text):
            assert url in allowed or url.rstrip("/") in {"https:", "http:"}, f"{name}: {url}"
        assert "innerHTML" not in text and "insertAdjacentHTML" not in text, name
        assert "eval(" not in text and "document.write" not in text, name


def test_every_api_call_goes_through_the_client_that_sets_the_channel_header():
    core = (PWA / "js" / "core.js").read_text("utf-8")
    assert 'CHANNEL_HEADER = "X-Probity-Channel"' in core
    for name, text in sources().items():
        if name in {"js/core.js", "sw.js"}:
            continue
        code = re.sub(r"/\*.*?\*/|^\s*//.*?$", "", text, flags=re.MULTILINE | re.DOTALL)
        for call in re.findall(r"\bfetch\(([^,)]*)", code):
            assert name == "js/views/login.js" and "/api/auth/login" in call, f"{name}: fetch({call}"
    login = (PWA / "js" / "views" / "login.js").read_text("utf-8")
    assert '"X-Probity-Channel": "pwa"' in login


def test_the_first_load_is_within_60_kb_compressed():
    files = first_load()
    assert PWA / "js" / "core.js" in files and PWA / "js" / "i18n.js" in files
    total = sum(gzip_size(p) for p in files)
    assert total <= FIRST_LOAD_BUDGET, f"{total} bytes gzip over {len(files)} files"


def test_the_first_screen_needs_only_the_first_part_of_the_catalogue():
    """Each key lives in the file its prefix says (``python -m tests.pwa.catalogue`` puts them right);
    every key the first load's modules use is in the first part; no key in both."""
    for lang in catalogue.LANGS:
        first, rest = catalogue.keys(lang, more=False), catalogue.keys(lang, more=True)
        assert not first & rest
        assert sorted(k for k in first if not catalogue.is_core(k)) == []
        assert sorted(k for k in rest if catalogue.is_core(k)) == []
    modules = [p for p in first_load() if p.suffix == ".js" and "locales" not in p.parts]
    used = {key for p in modules for key in USED.findall(p.read_text("utf-8"))}
    assert used and sorted(used - catalogue.keys("zh-CN", more=False)) == []
    views = re.findall(r"FIRST_VIEWS = new Set\(\[([^\]]*)\]\)", (PWA / "js" / "app.js").read_text("utf-8"))
    drawn_first = {v.strip(' "') for v in views[0].split(",")}
    loaded = {p.stem for p in modules}
    assert drawn_first <= loaded, "a view drawn before the rest of the catalogue must be in the first load"
