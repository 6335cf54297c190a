"""What the bot says, in zh-CN (default) and English. No names, customers or evidence ever."""

from __future__ import annotations

from datetime import date, datetime

from backend.kernel.timeutil import local

LANGUAGES = ("zh", "en")

TEXTS: dict[str, dict[str, str]] = {
    "zh": {
        "not_bound": (
            "您好，这里是廉洁预警机器人。\n"
            "本机器人只为已绑定的账号服务。请在廉洁预警应用中打开“我的” → “绑定 Telegram”，"
            "再点击生成的链接（10 分钟内有效）。"
        ),
        "private_only": "请在与机器人的私聊中使用。",
        "bound": "绑定成功：预警将发送到这里。发送 /help 查看可用命令。",
        "link_unknown": "这个绑定链接无效。请在应用中重新生成。",
        "link_used": "这个绑定链接已经用过了。请在应用中重新生成。",
        "link_expired": "这个绑定链接已过期（有效期 10 分钟）。请在应用中重新生成。",
        "welcome_back": "您已绑定。发送 /help 查看可用命令。",
        "help": (
            "可用命令：\n"
            "/inbox 我的未办结预警\n"
            "/due 即将到期和已逾期的预警\n"
            "/news 通知\n"
            "/checkup 廉洁体检\n"
            "/cases 我的廉情预警（告知、质询、监察建议）\n"
            "/tag 填报评价标签（负责人、纪检）\n"
            "/mytags 关于我的评价标签\n"
            "{stats}"
            "/lang 切换语言\n"
            "/unbind 解除绑定\n"
            "/cancel 放弃正在填写的反馈\n"
            "收到预警后，点“核查反馈”即可在这里逐步填写。"
        ),
        "help_stats": "/stats 本单位统计（负责人、纪检）\n",
        "cases_none": "您没有廉情预警。",
        "cases_head": "我的廉情预警：",
        "btn_case_answer": "答复：{subject}",
        "btn_case_appeal": "申诉：{subject}",
        "ask_case_text": "{tier}：{subject}\n请写下您的书面说明（发送一条消息）。",
        "ask_case_measures": "请写下整改措施（发送一条消息）。",
        "case_answered": "已提交答复，纪检人员会跟进回访。",
        "ask_appeal": "申诉：{subject}\n请写下申诉理由（发送一条消息）。",
        "case_appealed": "已提交申诉，纪检人员答复后会通知您。",
        "cases_units_head": "所辖单位的廉情预警：",
        "btn_case_escalate": "升级：{subject}",
        "btn_case_extend": "延期：{subject}",
        "btn_case_visit": "回访：{subject}",
        "btn_case_answer_appeal": "答复申诉：{subject}",
        "ask_case_escalate": "升级：{subject}\n请写下升级理由（发送一条消息）。",
        "ask_case_extend": "延期整改：{subject}\n请发送新的整改期限，如 2027-01-15（仅一次，最长一个月）。",
        "ask_case_extend_reason": "请写下延期理由（发送一条消息）。",
        "ask_case_visit": "回访：{subject}\n请写下回访情况（听取汇报、查阅资料，发送一条消息）。",
        "ask_case_lift": "是否已整改到位、解除这份廉情预警？",
        "btn_case_lift": "已整改到位，解除",
        "btn_case_keep": "暂不解除",
        "ask_case_appeal_answer": "答复申诉：{subject}\n请写下答复意见（发送一条消息）。",
        "ask_appeal_outcome": "复核结论：",
        "btn_appeal_upheld": "申诉成立，撤销",
        "btn_appeal_rejected": "申诉不成立",
        "want_button": "请点上面的按钮选择。",
        "case_escalate_done": "已升级，已通知本人。",
        "case_extend_done": "已延期，已通知本人。",
        "case_visit_done": "回访已登记。",
        "case_answer_appeal_done": "申诉已答复，已通知本人。",
        "ev_nobody": "没有您可以填报评价标签的人员。",
        "ev_pick_person": "要为谁填报标签？",
        "ev_pick_tag": "您可以为 {person} 填报的标签：",
        "ev_ask_note": (
            "{tag}\n请写下事实情况（发送一条消息；可附一张照片，文字写在照片说明里），或点“跳过”。"
        ),
        "ev_ask_evidence": (
            "{tag}\n此标签需要说明依据：请写下事实与依据（发送一条消息；可附一张照片，文字写在照片说明里）。"
        ),
        "ev_photo_kept": "照片已收到。请再发送一条消息写下事实情况，标签随即提交。",
        "ev_filed": "标签已提交；除仅纪检可见的标签外，本人可在应用中看到。",
        "ev_mine_none": "还没有关于您的评价标签。",
        "ev_mine_head": "关于我的评价标签：",
        "ev_mine_hint": "在应用“我的 → 廉洁评价”中可查看说明并发表意见。",
        "unbound": "已解除绑定，预警不再发送到这里。",
        "lang_pick": "请选择语言：",
        "lang_set": "语言已切换为中文。",
        "inbox_none": "您没有未办结的预警。",
        "inbox_head": "您有 {total} 条未办结预警{more}：",
        "more": "（显示最新 {shown} 条）",
        "decide_head": "待您确认的核查反馈 {total} 条{more}：",
        "due_none": "没有即将到期或已逾期的预警。",
        "due_head": "按截止时间排序（{total} 条）：",
        "line": "{icon} #{id} {level}{due}{state}",
        "due_on": " · {month}月{day}日截止",
        "overdue": " · 已逾期",
        "provisional": "（暂定）",
        "state_returned": " · 已退回",
        "state_submitted": " · 待确认",
        "stats": (
            "本单位及下级单位：\n"
            "未办结：红 {high} · 橙 {medium} · 黄 {low}\n"
            "已逾期：{overdue}\n"
            "待确认反馈：{submitted}\n"
            "按时反馈率：{on_time}"
        ),
        "no_rate": "暂无",
        "ask_result": "预警 #{id}（{level}{due}）\n请先核实：预警是否属实？",
        "ask_cause": "请用一条消息说明原因分析。",
        "ask_measures_true": "请说明整改措施（属实时必填）。",
        "ask_measures_false": "如有整改措施请说明，或点“跳过”。",
        "measures_required": "属实的预警必须填写整改措施，请发送整改措施。",
        "ask_photos": "可发送现场照片（最多 12 张），发完点“完成”；没有照片请直接点“完成”。",
        "photo_saved": "已收到第 {n} 张照片。继续发送，或点“完成”。",
        "photo_again": "这张照片已经收到过了。",
        "too_many_photos": "最多 12 张照片，请点“完成”。",
        "want_text": "请发送文字。",
        "tap_button": "请点击上面的按钮选择。",
        "want_photo": "请发送照片，或点“完成”。",
        "summary": (
            "请确认后提交：\n预警 #{id}\n结论：{result}\n原因：{cause}\n"
            "整改措施：{measures}\n照片：{photos} 张"
        ),
        "result_true": "属实",
        "result_not_true": "不属实",
        "none": "（无）",
        "sent": "核查反馈已提交（预警 #{id}），等待负责人确认。",
        "sent_before": "这份反馈已经提交过了（预警 #{id}），没有重复保存。",
        "cancelled": "已放弃填写，什么都没有提交。",
        "timed_out": "填写超时，草稿已丢弃。请重新点“核查反馈”。",
        "stale": "这个表单已经结束。",
        "nothing_to_cancel": "当前没有正在填写的内容。",
        "confirmed": "已确认预警 #{id} 的核查反馈。",
        "ask_reason": "请用一条消息说明退回原因（预警 #{id}）。",
        "returned": "已退回预警 #{id} 的核查反馈。",
        "marked_read": "已标为已读。",
        "news_none": "没有发给您的通知。",
        "news_head": "最近的通知：",
        "unread": "（未读）",
        "btn_show": "阅读",
        "opened": "已标为已读，详情请在应用中查看。",
        "unknown_command": "没有这个命令。发送 /help 查看可用命令。",
        "hint": "发送 /help 查看可用命令。",
        "error": "抱歉，处理时出错了，已记录。请稍后再试。",
        "refused": "无法执行：{reason}",
        "btn_view": "查看",
        "btn_verify": "核查反馈",
        "btn_read": "标为已读",
        "btn_confirm": "确认",
        "btn_return": "退回",
        "btn_true": "属实",
        "btn_not_true": "不属实",
        "btn_skip": "跳过",
        "btn_done": "完成",
        "btn_send": "提交",
        "btn_cancel": "放弃",
        "ck_none": "您没有廉洁体检。",
        "ck_head": "我的廉洁体检（答案和结果只有您本人和本单位纪检人员可见）：",
        "ck_done": "已提交",
        "ck_scheduled": "尚未开始",
        "ck_progress": "已答 {answered}/{total} 题",
        "ck_closed_mark": " · 已截止",
        "ck_question": (
            "第 {n}/{total} 题\n\n{text}\n\n"
            "请选择最符合您的一项（每题点选即保存，可随时离开，发送 /checkup 从这里继续）。"
        ),
        "ck_confirm": "全部 {total} 题已作答。提交后即评定等级，不能再修改。确认提交吗？",
        "ck_submitted": "体检已提交，谢谢。",
        "ck_already": "这次体检已经提交过了，没有重复提交。",
        "ck_not_open": "这次体检还没有开始。",
        "ck_closed": "这次体检已截止。如需补答，请联系管理员重新开放。",
        "ck_result": "{icon} 您的综合等级：{grade}\n为什么：{why}",
        "btn_ck_go": "开始作答",
        "btn_ck_resume": "继续作答",
        "btn_ck_submit": "提交",
        "btn_ck_result": "我的结果",
        "btn_ck_profile": "在应用中查看五个维度和关怀资源",
    },
    "en": {
        "not_bound": (
            "Hello, this is the Probity bot.\n"
            "It only serves linked accounts. In the Probity app open Profile → Link Telegram and tap "
            "the link it makes (valid for 10 minutes)."
        ),
        "private_only": "Please use the bot in a private chat.",
        "bound": "Linked: alerts will come here. Send /help for the commands.",
        "link_unknown": "This link is not valid. Make a new one in the app.",
        "link_used": "This link was used already. Make a new one in the app.",
        "link_expired": "This link has expired (links last 10 minutes). Make a new one in the app.",
        "welcome_back": "You are linked. Send /help for the commands.",
        "help": (
            "Commands:\n"
            "/inbox my open warnings\n"
            "/due warnings due soon or overdue\n"
            "/news notices\n"
            "/checkup my integrity check-up\n"
            "/cases my integrity cases (notice, inquiry, recommendation)\n"
            "/tag file an evaluation tag (heads, inspectors)\n"
            "/mytags tags filed about me\n"
            "{stats}"
            "/lang change the language\n"
            "/unbind unlink this Telegram account\n"
            "/cancel drop the reply you are writing\n"
            "When an alert arrives, tap Verify to reply step by step here."
        ),
        "help_stats": "/stats figures for your unit (heads, inspectors)\n",
        "cases_none": "You have no integrity cases.",
        "cases_head": "My integrity cases:",
        "btn_case_answer": "Answer: {subject}",
        "btn_case_appeal": "Appeal: {subject}",
        "ask_case_text": "{tier}: {subject}\nWrite your explanation (one message).",
        "ask_case_measures": "Write the measures you take (one message).",
        "case_answered": "Your answer was sent; the inspectors will follow up.",
        "ask_appeal": "Appeal: {subject}\nWrite why you appeal (one message).",
        "case_appealed": "Your appeal was sent; you will be told the inspectors' answer.",
        "cases_units_head": "Cases in your units:",
        "btn_case_escalate": "Escalate: {subject}",
        "btn_case_extend": "Extend: {subject}",
        "btn_case_visit": "Visit: {subject}",
        "btn_case_answer_appeal": "Answer the appeal: {subject}",
        "ask_case_escalate": "Escalate: {subject}\nWrite why (one message).",
        "ask_case_extend": "Extend: {subject}\nSend the new deadline, e.g. 2027-01-15 (once, ≤ a month).",
        "ask_case_extend_reason": "Write why (one message).",
        "ask_case_visit": "Visit: {subject}\nWrite what the visit found (one message).",
        "ask_case_lift": "Corrected — lift the case?",
        "btn_case_lift": "Corrected: lift it",
        "btn_case_keep": "Not yet",
        "ask_case_appeal_answer": "Answer the appeal: {subject}\nWrite the answer (one message).",
        "ask_appeal_outcome": "Outcome:",
        "btn_appeal_upheld": "Upheld: withdraw the case",
        "btn_appeal_rejected": "Rejected",
        "want_button": "Please choose with a button above.",
        "case_escalate_done": "Escalated; the person is told.",
        "case_extend_done": "Extended; the person is told.",
        "case_visit_done": "Visit recorded.",
        "case_answer_appeal_done": "Appeal answered; the person is told.",
        "ev_nobody": "There is nobody you may file evaluation tags about.",
        "ev_pick_person": "Whom is the tag about?",
        "ev_pick_tag": "Tags you may file about {person}:",
        "ev_ask_note": (
            "{tag}\nWrite the facts in one message (a photo may come with them, the text as its "
            "caption), or press Skip."
        ),
        "ev_ask_evidence": (
            "{tag}\nThis tag needs evidence: write the facts and the evidence in one message (a photo "
            "may come with them, the text as its caption)."
        ),
        "ev_photo_kept": "Photo received. Send the facts in one more message and the tag is filed.",
        "ev_filed": "Tag filed; the person sees it in the app (unless it is for inspectors only).",
        "ev_mine_none": "No tags have been filed about you.",
        "ev_mine_head": "Tags filed about me:",
        "ev_mine_hint": "Open the app (Me → Integrity evaluation) to read the notes and comment.",
        "unbound": "Unlinked: alerts no longer come here.",
        "lang_pick": "Choose a language:",
        "lang_set": "The language is now English.",
        "inbox_none": "You have no open warnings.",
        "inbox_head": "You have {total} open warning(s){more}:",
        "more": " (newest {shown} shown)",
        "decide_head": "Replies awaiting your decision: {total}{more}:",
        "due_none": "Nothing is due soon or overdue.",
        "due_head": "By deadline ({total}):",
        "line": "{icon} #{id} {level}{due}{state}",
        "due_on": " · due {day} {month_name}",
        "overdue": " · OVERDUE",
        "provisional": " (provisional)",
        "state_returned": " · returned",
        "state_submitted": " · awaiting decision",
        "stats": (
            "Your unit and below:\n"
            "Open: red {high} · orange {medium} · yellow {low}\n"
            "Overdue: {overdue}\n"
            "Replies awaiting decision: {submitted}\n"
            "Answered on time: {on_time}"
        ),
        "no_rate": "n/a",
        "ask_result": "Warning #{id} ({level}{due})\nFirst: is the warning true?",
        "ask_cause": "Describe the cause in one message.",
        "ask_measures_true": "Describe the rectification measures (required when true).",
        "ask_measures_false": "Describe any measures taken, or tap Skip.",
        "measures_required": "Measures are required when the warning is true: send them, please.",
        "ask_photos": "Send photos from the site (up to 12), then tap Done; no photos: tap Done.",
        "photo_saved": "Photo {n} received. Send more or tap Done.",
        "photo_again": "This photo was received already.",
        "too_many_photos": "12 photos at most: tap Done.",
        "want_text": "Please send text.",
        "tap_button": "Please tap one of the buttons above.",
        "want_photo": "Please send a photo, or tap Done.",
        "summary": (
            "Check and send:\nWarning #{id}\nFinding: {result}\nCause: {cause}\nMeasures: {measures}\n"
            "Photos: {photos}"
        ),
        "result_true": "true",
        "result_not_true": "not true",
        "none": "(none)",
        "sent": "Reply sent (warning #{id}); it awaits your head's decision.",
        "sent_before": "This reply was sent already (warning #{id}); nothing was stored twice.",
        "cancelled": "Dropped: nothing was sent.",
        "timed_out": "The reply timed out and its draft was dropped. Tap Verify to start again.",
        "stale": "This form is finished.",
        "nothing_to_cancel": "Nothing is being written.",
        "confirmed": "Reply to warning #{id} confirmed.",
        "ask_reason": "Send the reason for returning the reply (warning #{id}) in one message.",
        "returned": "Reply to warning #{id} returned.",
        "marked_read": "Marked read.",
        "news_none": "No notices were sent to you.",
        "news_head": "Latest notices:",
        "unread": " (unread)",
        "btn_show": "Read",
        "opened": "Marked read; open the app for the details.",
        "unknown_command": "No such command. Send /help for the commands.",
        "hint": "Send /help for the commands.",
        "error": "Sorry, something went wrong on our side; it was logged. Try again later.",
        "refused": "Not done: {reason}",
        "btn_view": "View",
        "btn_verify": "Verify",
        "btn_read": "Mark read",
        "btn_confirm": "Confirm",
        "btn_return": "Return",
        "btn_true": "True",
        "btn_not_true": "Not true",
        "btn_skip": "Skip",
        "btn_done": "Done",
        "btn_send": "Send",
        "btn_cancel": "Cancel",
        "ck_none": "You have no integrity check-up.",
        "ck_head": (
            "My integrity check-ups (answers and results are seen only by you and your unit's inspectors):"
        ),
        "ck_done": "submitted",
        "ck_scheduled": "not open yet",
        "ck_progress": "{answered}/{total} answered",
        "ck_closed_mark": " · closed",
        "ck_question": (
            "Statement {n}/{total}\n\n{text}\n\nTap the answer that fits you best (each answer is saved "
            "at once; leave any time and send /checkup to go on from here)."
        ),
        "ck_confirm": (
            "All {total} statements are answered. Submitting grades them and locks the answers. Submit?"
        ),
        "ck_submitted": "Check-up submitted, thank you.",
        "ck_already": "This check-up was submitted already; nothing was submitted twice.",
        "ck_not_open": "This check-up is not open yet.",
        "ck_closed": "This check-up is closed. An admin can reopen it for you.",
        "ck_result": "{icon} Your composite grade: {grade}\nWhy: {why}",
        "btn_ck_go": "Start",
        "btn_ck_resume": "Go on",
        "btn_ck_submit": "Submit",
        "btn_ck_result": "My result",
        "btn_ck_profile": "Five dimensions and care resources in the app",
    },
}

#: refusals by the services' error codes (anything else: the generic refusal with the code)
REFUSALS: dict[str, dict[str, str]] = {
    "zh": {
        "warning_not_found": "找不到这条预警，或它不在您的范围内。",
        "notification_not_found": "找不到这条消息，或它不是发给您的。",
        "not_your_warning": "只有预警的责任人可以反馈。",
        "own_reply": "不能确认或退回自己的反馈。",
        "not_unit_head": "只有责任人所在单位的负责人或纪检人员可以确认或退回。",
        "role_required": "这个命令只供负责人和纪检人员使用。",
        "invalid_transition": "预警当前的状态不允许这个操作。",
        "warning_closed": "预警已办结。",
        "state_changed": "预警刚刚被其他人处理过，请刷新后再试。",
        "measures_required": "属实的预警必须填写整改措施。",
        "reason_required": "退回必须说明原因。",
        "photo_too_large": "照片太大，请压缩后再发。",
        "not_an_image": "这不是图片文件。",
        "photo_empty": "照片是空的。",
        "unknown_photo": "有照片不属于这条预警，请重新填写。",
        "client_id_reused": "这份反馈与之前提交的不一致，请重新填写。",
        "account_disabled": "您的账号已停用。",
        "no_account": "您的账号已不存在。",
        "telegram_not_bound": "当前没有绑定。",
        "broadcast_not_found": "找不到这条通知。",
        "checkup_not_found": "您不在这次体检的名单中。",
        "campaign_not_found": "找不到这次体检。",
        "campaign_not_open": "这次体检还没有开始。",
        "campaign_closed": "这次体检已截止。如需补答，请联系管理员重新开放。",
        "already_submitted": "这次体检已经提交过了。",
        "incomplete": "还有题目没有作答。",
        "result_not_found": "还没有您的体检结果。",
        "case_not_found": "找不到这份廉情预警，或它不在您的范围内。",
        "not_your_case": "只有本人可以答复或申诉。",
        "appeal_pending": "这份廉情预警已有申诉在等待答复。",
        "case_closed": "这份廉情预警已结束。",
        "top_tier": "已是最高一级（监察建议），不能再升级。",
        "already_extended": "已经延期过一次。",
        "not_recommendation": "只有监察建议可以延期。",
        "invalid_date": "日期格式不对，请按 2027-01-15 发送。",
        "extension_not_later": "新的期限要晚于原期限。",
        "extension_too_long": "最多延期一个月。",
        "appeal_not_found": "没有待答复的申诉。",
        "appeal_answered": "这份申诉已经答复过了。",
        "not_inspector": "只有纪检人员可以这样做。",
        "text_required": "请写下内容。",
        "not_filer": "您不能为此人填报这个标签。",
        "evidence_required": "这个标签需要写明事实与依据，请发送一条消息。",
        "not_a_subject": "此人不在这个类别的评价对象中。",
        "unknown_tag": "标签库中没有这个标签。",
        "own_tag": "不能为自己填报标签。",
        "category_not_found": "评价类别不存在。",
        "person_not_found": "此人不存在或不在您的权限范围内。",
    },
    "en": {
        "warning_not_found": "No such warning in your scope.",
        "notification_not_found": "No such message for you.",
        "not_your_warning": "Only the person responsible replies to a warning.",
        "own_reply": "Nobody confirms or returns their own reply.",
        "not_unit_head": "Only the head of the person's unit or an inspector may confirm or return.",
        "role_required": "This command is for heads and inspectors.",
        "invalid_transition": "The warning's state does not allow this now.",
        "warning_closed": "The warning is closed.",
        "state_changed": "Someone else just acted on this warning; look again.",
        "measures_required": "Measures are required when the warning is true.",
        "reason_required": "Say why the reply is returned.",
        "photo_too_large": "The photo is too large: shrink it and send it again.",
        "not_an_image": "This file is not an image.",
        "photo_empty": "The photo is empty.",
        "unknown_photo": "A photo does not belong to this warning: start the reply again.",
        "client_id_reused": "This reply differs from the one sent before: start it again.",
        "account_disabled": "Your account is disabled.",
        "no_account": "Your account no longer exists.",
        "telegram_not_bound": "Nothing is linked.",
        "broadcast_not_found": "No such notice.",
        "checkup_not_found": "You are not in this check-up.",
        "campaign_not_found": "No such check-up.",
        "campaign_not_open": "This check-up is not open yet.",
        "campaign_closed": "This check-up is closed; an admin can reopen it for you.",
        "already_submitted": "This check-up was submitted already.",
        "incomplete": "Some statements are not answered yet.",
        "result_not_found": "No check-up result of yours yet.",
        "case_not_found": "No such case in your scope.",
        "not_your_case": "Only the person concerned answers or appeals.",
        "appeal_pending": "An appeal of this case awaits its answer.",
        "case_closed": "This case is closed.",
        "top_tier": "It is at the top tier already.",
        "already_extended": "It was extended once already.",
        "not_recommendation": "Only a recommendation is extended.",
        "invalid_date": "Send the date as 2027-01-15.",
        "extension_not_later": "The new deadline must be later.",
        "extension_too_long": "At most one month more.",
        "appeal_not_found": "There is no appeal waiting.",
        "appeal_answered": "The appeal was answered already.",
        "not_inspector": "Only inspectors may do this.",
        "text_required": "Write something first.",
        "not_filer": "You may not file this tag about this person.",
        "evidence_required": "This tag needs its facts and evidence: write them in one message.",
        "not_a_subject": "This person is not evaluated in this category.",
        "unknown_tag": "The library has no such tag.",
        "own_tag": "You cannot file tags about yourself.",
        "category_not_found": "No such evaluation category.",
        "person_not_found": "No such person in your scope.",
    },
}

LEVELS = {
    "zh": {"high": "高风险·红色", "medium": "中风险·橙色", "low": "低风险·黄色"},
    "en": {"high": "high · red", "medium": "medium · orange", "low": "low · yellow"},
}
ICONS = {"high": "🔴", "medium": "🟠", "low": "🟡"}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def pick(language: str | None) -> str:
    return language if language in LANGUAGES else "zh"


def t(language: str | None, key: str, **values: object) -> str:
    lang = pick(language)
    text = TEXTS[lang].get(key) or TEXTS["zh"][key]
    return text.format(**values) if values else text


def refusal(language: str | None, code: str, detail: str) -> str:
    lang = pick(language)
    # a code without words of its own: never the bare code to a person (zh: a plain sentence)
    reason = REFUSALS[lang].get(code) or (
        detail if lang == "en" else "当前情况下不能这样操作，请在应用中查看详情。"
    )
    return t(lang, "refused", reason=reason)


def day(language: str | None, value: date) -> str:
    """12月7日 / 7 Dec."""
    if pick(language) == "en":
        return f"{value.day} {_MONTHS[value.month - 1]}"
    return f"{value.month}月{value.day}日"


def level(language: str | None, value: str) -> str:
    return LEVELS[pick(language)].get(value, value)


def due(language: str | None, due_at: datetime | None, provisional: bool = False) -> str:
    if due_at is None:
        return ""
    day = local(due_at)
    text = t(language, "due_on", month=day.month, day=day.day, month_name=_MONTHS[day.month - 1])
    return text + (t(language, "provisional") if provisional else "")


def language_of_user(code: str | None, default: str) -> str:
    """A Telegram user's language code as one of ours."""
    if code:
        if code.lower().startswith("zh"):
            return "zh"
        if code.lower().startswith("en"):
            return "en"
    return pick(default)
