"""The one message catalogue per language of every channel (Web Push, Telegram, Apprise texts, WeCom
and DingTalk cards and pages), and what leaves for a third-party service: by default level, count,
due date and a link, nothing else.

An event's ``data`` may hold anything its writer put there; only the fields named here are ever
read (``due_at``; with a channel's detail setting on, also ``topic_code`` and a broadcast's title).
Names, customers and evidence never enter a :class:`Message`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from backend.kernel.timeutil import local

LEVELS = {
    "zh": {"high": "高风险（红色）", "medium": "中风险（橙色）", "low": "低风险（黄色）"},
    "en": {"high": "high-level (red)", "medium": "medium-level (orange)", "low": "low-level (yellow)"},
}
TEXTS: dict[str, dict[str, str]] = {
    "zh": {
        "app": "廉洁预警",
        "warning.raised": "{count} 条新的{level}预警",
        "warning.due_soon": "{count} 条预警即将到期",
        "warning.overdue": "{count} 条预警已逾期，请尽快处理（催办）",
        "warning.supervision_order": "{count} 条逾期预警已转督办",
        "warning.urged": "{count} 条预警被催办，请尽快处理",
        "warning.returned": "{count} 条核查反馈被退回",
        "warning.confirmed": "{count} 条核查反馈已确认",
        "warning.submitted": "{count} 条核查反馈待您确认",
        "broadcast": "{count} 条新通知",
        "broadcast.reminder": "您有 {count} 条通知尚未阅读",
        "checkup.invitation": "{count} 项廉洁体检邀请您作答",
        "checkup.reminder": "{count} 项廉洁体检尚未完成",
        "checkup.reopened": "{count} 项廉洁体检已重新开放作答",
        "evaluation.flag": "分析研判提醒：{count} 项廉洁评价结果需要关注",
        "evaluation.tag": "{count} 条关于您的廉洁评价标签",
        "evaluation.comment": "{count} 条评价标签有新的意见",
        "other": "{count} 条新消息",
        "due": "，{month}月{day}日前处理",
        "open": "打开",
        "read": "标为已读",
        "verify": "核查反馈",
        "confirm": "确认",
        "return": "退回",
        "show": "阅读",
        "answer": "作答",
        "topic": "主题 {code}",
        # messenger cards and the pages a press or a sign-in opens (backend/messenger)
        "card.source": "廉洁预警",
        "card.level": "等级",
        "card.due": "处理期限",
        "card.due_value": "{month}月{day}日前",
        "card.btn_view": "查看",
        "card.btn_read": "已读",
        "card.btn_verify": "核查反馈",
        "card.btn_confirm": "确认",
        "card.btn_return": "退回",
        "card.btn_answer": "作答",
        "card.done_read": "已读",
        "card.done_confirm": "已确认",
        "card.done_by": "由您于{month}月{day}日 {hour:02d}:{minute:02d}办理",
        "card.refused": "未办理",
        "card.unknown_button": "这个按钮已失效，请在应用中查看。",
        "card.not_bound": "您的账号还没有关联到本系统的人员，请联系管理员。",
        "card.sso_title": "无法登录",
        "card.sso_unknown_user": (
            "您的账号（{user}）还没有关联到本系统的人员。请联系系统管理员，在人员信息中登记您的账号后再试。"
        ),
        "card.sso_not_member": "只有本单位通讯录中的成员可以登录。",
        "card.sso_expired": "登录链接已失效，请回到消息中重新打开。",
        "card.sso_failed": "暂时无法完成登录，请稍后重试。",
        "card.sso_back": "返回登录页",
        "card.not_yours": "这个按钮属于发给其他人的消息，不能由您办理。",
        "card.warning_not_found": "找不到这条预警，或它不在您的范围内。",
        "card.notification_not_found": "找不到这条消息，或它不是发给您的。",
        "card.own_reply": "不能确认自己提交的反馈。",
        "card.not_unit_head": "只有责任人所在单位的负责人或纪检监察人员可以确认。",
        "card.invalid_transition": "预警当前的状态不允许这个操作。",
        "card.state_changed": "预警刚刚被其他人处理过，请在应用中查看。",
        "card.account_disabled": "您的账号已停用。",
        "card.no_account": "您没有本系统的账号。",
        "card.refused_other": "这个操作没有办理，请在应用中查看。",
    },
    "en": {
        "app": "Probity",
        "warning.raised": "{count} new {level} warning(s)",
        "warning.due_soon": "{count} warning(s) due soon",
        "warning.overdue": "{count} warning(s) overdue: please act (chase)",
        "warning.supervision_order": "{count} overdue warning(s) under supervision order",
        "warning.urged": "{count} warning(s) chased: please act",
        "warning.returned": "{count} verification reply(ies) returned",
        "warning.confirmed": "{count} verification reply(ies) confirmed",
        "warning.submitted": "{count} verification reply(ies) awaiting your decision",
        "broadcast": "{count} new notice(s)",
        "broadcast.reminder": "{count} notice(s) still unread",
        "checkup.invitation": "{count} integrity check-up(s) await your answers",
        "checkup.reminder": "{count} integrity check-up(s) not finished yet",
        "checkup.reopened": "{count} integrity check-up(s) reopened for your answers",
        "evaluation.flag": "Analysis alert: {count} evaluation result(s) need attention",
        "evaluation.tag": "{count} evaluation tag(s) filed about you",
        "evaluation.comment": "{count} new comment(s) on evaluation tags",
        "other": "{count} new message(s)",
        "due": ", due {day} {month_name}",
        "open": "Open",
        "read": "Mark read",
        "verify": "Verify",
        "confirm": "Confirm",
        "return": "Return",
        "show": "Read",
        "answer": "Answer",
        "topic": "topic {code}",
        # messenger cards and the pages a press or a sign-in opens (backend/messenger)
        "card.source": "Probity",
        "card.level": "Level",
        "card.due": "Due",
        "card.due_value": "by {day} {month_name}",
        "card.btn_view": "View",
        "card.btn_read": "Read",
        "card.btn_verify": "Verify",
        "card.btn_confirm": "Confirm",
        "card.btn_return": "Return",
        "card.btn_answer": "Answer",
        "card.done_read": "Marked read",
        "card.done_confirm": "Confirmed",
        "card.done_by": "by you on {day} {month_name} at {hour:02d}:{minute:02d}",
        "card.refused": "Not done",
        "card.unknown_button": "This button no longer works; open the app.",
        "card.not_bound": "Your messenger account is not linked to a person here; ask an admin.",
        "card.sso_title": "Cannot sign in",
        "card.sso_unknown_user": (
            "Your account ({user}) is not linked to a person here. Ask an admin to record it, then try again."
        ),
        "card.sso_not_member": "Only members of the company's directory can sign in.",
        "card.sso_expired": "This sign-in link has expired; open it again from the message.",
        "card.sso_failed": "Signing in did not work just now; try again later.",
        "card.sso_back": "Back to sign-in",
        "card.not_yours": "This button belongs to a message sent to someone else.",
        "card.warning_not_found": "No such warning in your scope.",
        "card.notification_not_found": "No such message for you.",
        "card.own_reply": "Nobody confirms their own reply.",
        "card.not_unit_head": "Only the head of the person's unit or an inspector may confirm.",
        "card.invalid_transition": "The warning's state does not allow this now.",
        "card.state_changed": "Someone else just acted on this warning; open the app.",
        "card.account_disabled": "Your account is disabled.",
        "card.no_account": "You have no account here.",
        "card.refused_other": "This was not done; open the app.",
    },
}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
URGENCY = {"high": "high", "medium": "normal", "low": "low"}

#: Telegram button data the bot (``bot/``) answers: "<kind>:<action>:<id>", well under 64 bytes
READ_NOTIFICATION = "n:read:{}"
VERIFY_WARNING = "w:verify:{}"
CONFIRM_WARNING = "w:confirm:{}"
RETURN_WARNING = "w:return:{}"
SHOW_BROADCAST = "b:show:{}"
#: opens (or resumes) a check-up campaign in the chat (``bot/checkup.py`` answers it)
ANSWER_CHECKUP = "c:go:{}"
CHECKUP = "checkup_campaign"
#: a chat message carries at most this many answer buttons (one per campaign)
MAX_ANSWER_BUTTONS = 3
#: alerts the responsible person answers from the message (Verify), and the one heads decide on
ANSWER_KINDS = frozenset(
    {
        "warning.raised",
        "warning.due_soon",
        "warning.overdue",
        "warning.urged",
        "warning.supervision_order",
        "warning.returned",
    }
)
DECIDE_KIND = "warning.submitted"


@dataclass(frozen=True)
class Item:
    """One in-app notification as the renderer may see it: ids, kind, level, due date."""

    recipient_id: int
    event_id: int
    kind: str
    level: str | None
    subject_type: str
    subject_id: int
    due_at: datetime | None = None
    #: only read with the detail setting on
    topic_code: str | None = None
    title: str | None = None
    #: why the person is told (subject, head, inspector …): picks the Telegram buttons
    reason: str | None = None


@dataclass(frozen=True)
class Button:
    text: str
    url: str | None = None
    callback_data: str | None = None


@dataclass(frozen=True)
class Message:
    title: str
    body: str
    link: str
    level: str | None
    count: int
    due_at: datetime | None
    urgency: str
    tag: str
    keys: tuple[str, ...]
    buttons: tuple[Button, ...] = field(default_factory=tuple)

    def push_json(self) -> dict[str, Any]:
        """The Web Push body (encrypted end to end to the browser)."""
        return {
            "title": self.title,
            "body": self.body,
            "url": self.link,
            "tag": self.tag,
            "level": self.level,
            "count": self.count,
            "due": self.due_at.isoformat() if self.due_at else None,
            "keys": list(self.keys),
        }

    def shrunk_json(self) -> dict[str, Any]:
        """The smallest useful Web Push body (after a 413)."""
        return {"title": self.title, "url": self.link, "tag": self.tag}

    def text(self) -> str:
        return f"{self.body}\n{self.link}"


def item_from_event(
    recipient_id: int,
    event_id: int,
    kind: str,
    level: str | None,
    subject_type: str,
    subject_id: int,
    data: dict[str, Any],
    reason: str | None = None,
) -> Item:
    due: datetime | None = None
    raw = data.get("due_at")
    if isinstance(raw, str):
        try:
            due = datetime.fromisoformat(raw)
        except ValueError:
            due = None
    topic = data.get("topic_code")
    title = data.get("title") if subject_type == "broadcast" else None
    return Item(
        recipient_id=recipient_id,
        event_id=event_id,
        kind=kind,
        level=level,
        subject_type=subject_type,
        subject_id=subject_id,
        due_at=due,
        topic_code=str(topic)[:32] if isinstance(topic, str) else None,
        title=str(title)[:120] if isinstance(title, str) else None,
        reason=reason,
    )


@lru_cache(maxsize=4096)
def _body(language: str, kind: str, level: str | None, count: int, due: date | None) -> str:
    """The text without detail: the same for every message of a fan-out, so made once."""
    texts = TEXTS.get(language, TEXTS["zh"])
    body = texts.get(kind, texts["other"]).format(
        count=count, level=LEVELS.get(language, LEVELS["zh"]).get(level or "", "")
    )
    if due is not None:
        body += texts["due"].format(month=due.month, day=due.day, month_name=MONTHS[due.month - 1])
    return body


def _link(public_url: str, items: Sequence[Item]) -> str:
    base = public_url.rstrip("/")
    if len(items) == 1:
        item = items[0]
        if item.subject_type == "warning":
            return f"{base}/#/warnings/{item.subject_id}"
        if item.subject_type == "broadcast":
            return f"{base}/#/broadcasts/{item.subject_id}"
        if item.subject_type == CHECKUP:
            return f"{base}/#/checkups/{item.subject_id}"
    if all(i.subject_type == CHECKUP for i in items):
        return f"{base}/#/checkups"
    return f"{base}/#/notifications"


def render(
    items: Sequence[Item],
    keys: Sequence[str],
    *,
    public_url: str,
    language: str = "zh",
    detail: bool = False,
    buttons: bool = True,
) -> Message:
    """One message for one or more notifications of the same kind and level to one person.
    ``buttons=False`` leaves out the chat buttons (channels that show none: made per message)."""
    assert items, "nothing to render"
    texts = TEXTS.get(language, TEXTS["zh"])
    first = items[0]
    count = len(items)
    level = first.level
    dues = [i.due_at for i in items if i.due_at is not None]
    due = min(dues) if dues else None
    day = local(due).date() if due is not None and first.subject_type in ("warning", CHECKUP) else None
    body = _body(language, first.kind, level, count, day)
    if detail:
        codes = sorted({i.topic_code for i in items if i.topic_code})
        if codes:
            body += " · " + ", ".join(texts["topic"].format(code=c) for c in codes[:3])
        titles = [i.title for i in items if i.title]
        if titles:
            body += " · " + titles[0]
    link = _link(public_url, items)
    return Message(
        title=texts["app"],
        body=body,
        link=link,
        level=level,
        count=count,
        due_at=due,
        urgency=URGENCY.get(level or "", "low" if first.subject_type == "broadcast" else "normal"),
        tag=keys[0],
        keys=tuple(keys),
        buttons=_buttons(items, texts, link) if buttons else (),
    )


def _buttons(items: Sequence[Item], texts: dict[str, str], link: str) -> tuple[Button, ...]:
    """Open; for one notification Read and what it asks of the person; Answer for check-ups."""
    first, count = items[0], len(items)
    buttons = [Button(texts["open"], url=link)]
    if count == 1:
        buttons.append(Button(texts["read"], callback_data=READ_NOTIFICATION.format(first.recipient_id)))
        if first.subject_type == "warning":
            buttons += _warning_buttons(first, texts)
        elif first.subject_type == "broadcast":
            buttons.append(Button(texts["show"], callback_data=SHOW_BROADCAST.format(first.subject_id)))
    if first.subject_type == CHECKUP:  # answer in the chat: one button per campaign (a few at most)
        campaigns = sorted({i.subject_id for i in items if i.subject_type == CHECKUP})
        buttons += [
            Button(
                texts["answer"] if len(campaigns) == 1 else f"{texts['answer']} {n}",
                callback_data=ANSWER_CHECKUP.format(c),
            )
            for n, c in enumerate(campaigns[:MAX_ANSWER_BUTTONS], start=1)
        ]
    return tuple(buttons)


def _warning_buttons(item: Item, texts: dict[str, str]) -> list[Button]:
    """Verify for the responsible person; Confirm / Return for a head told of a reply."""
    if item.kind in ANSWER_KINDS and item.reason in (None, "subject"):
        return [Button(texts["verify"], callback_data=VERIFY_WARNING.format(item.subject_id))]
    if item.kind == DECIDE_KIND:
        return [
            Button(texts["confirm"], callback_data=CONFIRM_WARNING.format(item.subject_id)),
            Button(texts["return"], callback_data=RETURN_WARNING.format(item.subject_id)),
        ]
    return []
