"""The words of messenger cards and pages, zh-CN first (one catalogue for WeCom and DingTalk)."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "zh": {
        "source": "廉洁预警",
        "level": "等级",
        "due": "处理期限",
        "due_value": "{month}月{day}日前",
        "btn_view": "查看",
        "btn_read": "已读",
        "btn_verify": "核查反馈",
        "btn_confirm": "确认",
        "btn_return": "退回",
        "btn_answer": "作答",
        "done_read": "已读",
        "done_confirm": "已确认",
        "done_by": "由您于{month}月{day}日 {hour:02d}:{minute:02d}办理",
        "refused": "未办理",
        "unknown_button": "这个按钮已失效，请在应用中查看。",
        "not_bound": "您的账号还没有关联到本系统的人员，请联系管理员。",
        "sso_title": "无法登录",
        "sso_unknown_user": (
            "您的账号（{user}）还没有关联到本系统的人员。请联系系统管理员，在人员信息中登记您的账号后再试。"
        ),
        "sso_not_member": "只有本单位通讯录中的成员可以登录。",
        "sso_expired": "登录链接已失效，请回到消息中重新打开。",
        "sso_failed": "暂时无法完成登录，请稍后重试。",
        "sso_back": "返回登录页",
        "not_yours": "这个按钮属于发给其他人的消息，不能由您办理。",
        # refusals, by the services' error codes
        "warning_not_found": "找不到这条预警，或它不在您的范围内。",
        "notification_not_found": "找不到这条消息，或它不是发给您的。",
        "own_reply": "不能确认自己提交的反馈。",
        "not_unit_head": "只有责任人所在单位的负责人或纪检监察人员可以确认。",
        "invalid_transition": "预警当前的状态不允许这个操作。",
        "state_changed": "预警刚刚被其他人处理过，请在应用中查看。",
        "account_disabled": "您的账号已停用。",
        "no_account": "您没有本系统的账号。",
        "refused_other": "这个操作没有办理，请在应用中查看。",
    },
    "en": {
        "source": "Probity",
        "level": "Level",
        "due": "Due",
        "due_value": "by {day} {month_name}",
        "btn_view": "View",
        "btn_read": "Read",
        "btn_verify": "Verify",
        "btn_confirm": "Confirm",
        "btn_return": "Return",
        "btn_answer": "Answer",
        "done_read": "Marked read",
        "done_confirm": "Confirmed",
        "done_by": "by you on {day} {month_name} at {hour:02d}:{minute:02d}",
        "refused": "Not done",
        "unknown_button": "This button no longer works; open the app.",
        "not_bound": "Your messenger account is not linked to a person here; ask an admin.",
        "sso_title": "Cannot sign in",
        "sso_unknown_user": (
            "Your account ({user}) is not linked to a person here. Ask an admin to record it, then try again."
        ),
        "sso_not_member": "Only members of the company's directory can sign in.",
        "sso_expired": "This sign-in link has expired; open it again from the message.",
        "sso_failed": "Signing in did not work just now; try again later.",
        "sso_back": "Back to sign-in",
        "not_yours": "This button belongs to a message sent to someone else.",
        "warning_not_found": "No such warning in your scope.",
        "notification_not_found": "No such message for you.",
        "own_reply": "Nobody confirms their own reply.",
        "not_unit_head": "Only the head of the person's unit or an inspector may confirm.",
        "invalid_transition": "The warning's state does not allow this now.",
        "state_changed": "Someone else just acted on this warning; open the app.",
        "account_disabled": "Your account is disabled.",
        "no_account": "You have no account here.",
        "refused_other": "This was not done; open the app.",
    },
}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def t(language: str, key: str, **values: object) -> str:
    texts = TEXTS.get(language, TEXTS["zh"])
    return texts.get(key, key).format(**values)


def refusal(language: str, code: str) -> str:
    texts = TEXTS.get(language, TEXTS["zh"])
    return texts.get(code) or texts["refused_other"]
