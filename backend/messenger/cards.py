"""Template cards (``button_interaction``) for an alert, and the card that replaces it after a press.

A card says what the doorbell says (:mod:`backend.delivery.payloads`): kind, level and due date,
and with the unit's detail setting the topic code — never a name, customer or evidence. Buttons:

* 查看 — opens the item in the PWA through the messenger's single sign-on (no password);
* 已读 — marks the notification read (a callback);
* 核查反馈 — for the responsible person, opens the reply form (signed in);
* 确认 — for a head told of a reply, confirms it (a callback: the same service as PWA and bot);
* 退回 — opens the PWA, where the reason is written.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote

from backend.delivery.payloads import (
    ANSWER_CHECKUP,
    CONFIRM_WARNING,
    LEVELS,
    READ_NOTIFICATION,
    RETURN_WARNING,
    VERIFY_WARNING,
    Message,
)
from backend.kernel.timeutil import local
from backend.messenger.texts import MONTHS, t

#: the callbacks a press sends back (WeCom ``EventKey``), in Telegram's callback data form
PRESSABLE = (READ_NOTIFICATION, CONFIRM_WARNING)
MAX_BUTTONS = 6
_TASK_CHARS = re.compile(r"[^A-Za-z0-9_\-@]")


def _pattern(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.escape(template).replace(re.escape("{}"), r"([0-9]{1,12})") + "$")


_READ, _VERIFY, _CONFIRM, _RETURN, _ANSWER = (
    _pattern(x) for x in (READ_NOTIFICATION, VERIFY_WARNING, CONFIRM_WARNING, RETURN_WARNING, ANSWER_CHECKUP)
)


def parse_key(key: str) -> tuple[str, int] | None:
    """A pressed button's key: ("read", recipient id) or ("confirm", warning id)."""
    for name, pattern in (("read", _READ), ("confirm", _CONFIRM)):
        found = pattern.match(key or "")
        if found:
            return name, int(found.group(1))
    return None


def sso_link(public_url: str, provider: str, app_id: int, target: str) -> str:
    return f"{public_url.rstrip('/')}/messenger/{provider}/{app_id}/sso?to={quote(target, safe='/')}"


def task_id(tag: str) -> str:
    """WeCom's task id (letters, digits, ``_-@``, ≤128): from the message's dedup key, so a card
    sent again after a crash is the same card (and WeCom's duplicate check drops it)."""
    return _TASK_CHARS.sub("_", tag)[:128]


def _due(language: str, due: datetime) -> str:
    day = local(due).date()
    return t(language, "due_value", month=day.month, day=day.day, month_name=MONTHS[day.month - 1])


def _target(link: str) -> str:
    return link.split("#", 1)[1] if "#" in link else "/warnings"


#: what each chat button becomes on a card: its label, its style, and the PWA route it opens
#: (``None``: pressed in place, a callback with the button's data as its key)
_CARD_BUTTONS = (
    (_READ, "btn_read", 2, None),
    (_VERIFY, "btn_verify", 1, "/warnings/{}/reply"),
    (_CONFIRM, "btn_confirm", 1, None),
    (_RETURN, "btn_return", 3, "/warnings/{}"),
    (_ANSWER, "btn_answer", 1, "/checkups/{}"),
)


def _buttons(message: Message, language: str, link: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"type": 1, "text": t(language, "btn_view"), "style": 4, "url": link(_target(message.link))}
    ]
    for button in message.buttons:
        data = button.callback_data or ""
        for pattern, label, style, route in _CARD_BUTTONS:
            found = pattern.match(data)
            if found is None:
                continue
            made: dict[str, Any] = {
                "type": 0 if route is None else 1,
                "text": t(language, label),
                "style": style,
            }
            if route is None:
                made["key"] = data
            else:
                made["url"] = link(route.format(found.group(1)))
            out.append(made)
            break
    return out[:MAX_BUTTONS]


def _facts(message: Message, language: str) -> list[tuple[str, str]]:
    """Level and due date: what a card shows besides its title."""
    levels = LEVELS.get(language, LEVELS["zh"])
    facts = []
    if message.level in levels:
        facts.append((t(language, "level"), levels[message.level or ""]))
    if message.due_at is not None:
        facts.append((t(language, "due"), _due(language, message.due_at)))
    return facts


def alert_card(
    message: Message, *, public_url: str, provider: str, app_id: int, language: str = "zh"
) -> dict[str, Any]:
    """WeCom's template card of one alert message (what :func:`backend.delivery.payloads.render` made)."""

    def link(target: str) -> str:
        return sso_link(public_url, provider, app_id, target)

    return {
        "card_type": "button_interaction",
        "source": {"desc": t(language, "source")},
        "main_title": {
            "title": message.body[:36],
            **({"desc": message.body[36:80]} if message.body[36:] else {}),
        },
        "horizontal_content_list": [{"keyname": k, "value": v} for k, v in _facts(message, language)],
        "card_action": {"type": 1, "url": link(_target(message.link))},
        "task_id": task_id(message.tag),
        "button_list": _buttons(message, language, link),
    }


def action_card(
    message: Message,
    *,
    public_url: str,
    app_id: int,
    press: Callable[[str], str | None],
    language: str = "zh",
) -> dict[str, Any]:
    """DingTalk's action card of one alert: the same words and buttons; a button pressed in place on
    WeCom (已读, 确认) is here a link that signs the person in and presses it for them
    (``press`` gives its sign-in target, bound to the person the card goes to)."""

    def link(target: str) -> str:
        return sso_link(public_url, "dingtalk", app_id, target)

    buttons = []
    for b in _buttons(message, language, link):
        target = press(b["key"]) if "key" in b else None
        if "key" in b and target is None:
            continue
        buttons.append({"title": b["text"], "action_url": b.get("url") or link(target or "/warnings")})
    return {
        "title": message.body[:30],
        "markdown": f"#### {t(language, 'source')}\n\n{_markdown(message, language)}",
        "btn_orientation": "1",
        "btn_json_list": buttons,
    }


#: the variables an interactive card template is given for each button (README: "DingTalk")
_PARAM_NAMES = {
    "btn_view": "view",
    "btn_read": "read",
    "btn_verify": "reply",
    "btn_confirm": "confirm",
    "btn_return": "return",
    "btn_answer": "answer",
}


def _markdown(message: Message, language: str) -> str:
    lines = [f"**{message.body}**"]
    lines += [f"{k}：{v}" for k, v in _facts(message, language)]
    return "\n\n".join(lines)


def interactive_params(
    message: Message, *, public_url: str, app_id: int, language: str = "zh"
) -> dict[str, str]:
    """DingTalk's interactive card of one alert, as the values of the deployment's card template:
    ``title``, ``markdown``, ``source``, and per button ``<name>_label`` with ``<name>_url`` (opens
    the PWA, signed in) or ``<name>_key`` (pressed in place: the template sends it back as the
    ``key`` parameter). A button the alert does not have gets empty values (the template hides it).
    Every value is a string, as DingTalk's card data must be."""

    def link(target: str) -> str:
        return sso_link(public_url, "dingtalk", app_id, target)

    params = {
        "title": message.body[:30],
        "markdown": _markdown(message, language),
        "source": t(language, "source"),
    }
    params |= {"status": "", "done": "false"}
    for name in _PARAM_NAMES.values():
        params |= {f"{name}_label": "", f"{name}_url": "", f"{name}_key": ""}
    by_label = {t(language, label): name for label, name in _PARAM_NAMES.items()}
    for button in _buttons(message, language, link):
        name = by_label[button["text"]]
        params[f"{name}_label"] = button["text"]
        params[f"{name}_url" if "url" in button else f"{name}_key"] = button.get("url") or button["key"]
    return params


def done_params(*, title: str, note: str, view_url: str) -> dict[str, str]:
    """The interactive card after a press: what was done (or why not); its buttons give way to
    ``status`` (the template shows it when ``done`` is true), 查看 stays."""
    return {"status": f"{title} · {note}", "done": "true", "view_url": view_url}


def done_card(
    task: str, *, title: str, note: str, replace: str, view_url: str, language: str = "zh"
) -> dict[str, Any]:
    """The card after a press: what was done (or why not), its buttons replaced by ``replace``."""
    return {
        "card_type": "button_interaction",
        "source": {"desc": t(language, "source")},
        "main_title": {"title": title[:36], "desc": note[:80]},
        "card_action": {"type": 1, "url": view_url},
        "task_id": task_id(task),
        "button_list": [{"type": 1, "text": t(language, "btn_view"), "style": 4, "url": view_url}],
        "replace_text": replace,
    }


def done_note(language: str, when: datetime) -> str:
    at = local(when)
    return t(
        language,
        "done_by",
        month=at.month,
        day=at.day,
        hour=at.hour,
        minute=at.minute,
        month_name=MONTHS[at.month - 1],
    )
