// What I was told (warnings raised, due, chased, returned, confirmed; check-up calls) and the
// broadcasts sent to me, with read marking.
import { api } from "../api.js";
import { currentLang, fmtDate, fmtDay, maybe, t } from "../i18n.js";
import { add, busy, emptyState, h, heading, LEVELS, levelBadge, segmented } from "../ui.js";

function target(n) {
  if (n.subject_type === "warning") return "#/warnings/" + n.subject_id;
  if (n.subject_type === "broadcast") return "#/broadcasts/" + n.subject_id;
  if (n.subject_type === "checkup_campaign") return "#/checkups/" + n.subject_id;
  if (n.subject_type === "ladder_case") return "#/ladder/" + n.subject_id;
  if (n.subject_type === "eval_tag" || n.subject_type === "eval_score") return "#/evaluation";
  if (n.subject_type === "clue") return "#/clues/" + n.subject_id;
  if (n.subject_type === "opinion") return "#/opinions/" + n.subject_id;
  if (n.subject_type === "problem") return "#/problems/" + n.subject_id;
  return null;
}

async function markRead(n) {
  if (n.read_at) return;
  if (n.subject_type === "broadcast") await api("/api/broadcasts/" + n.subject_id + "/read", { method: "POST" });
  else await api("/api/notifications/" + n.id + "/read", { method: "POST" });
}

/** What happened, in words: the kind (a ladder step by its step), never a code. */
function happened(n) {
  const step = n.data && n.data.step;
  if (n.kind === "ladder.step" && step) return maybe("notice.ladder.step." + step) || t("notice.ladder.other");
  return maybe("notice." + n.kind) || t("notice.other");
}

/** The badge: a warning's level, or a ladder case's tier (蓝 告知 / 黄 质询 / 红 监察建议). */
function badge(n) {
  if (n.subject_type === "ladder_case") {
    const tier = (n.subject && n.subject.tier) || (n.data && n.data.tier);
    return tier ? h("span", { class: "badge tier-" + tier }, t("tier." + tier)) : null;
  }
  return LEVELS.includes(n.level) ? levelBadge(n.level) : null;
}

/** What it is about: the topic and object of a warning (whose, when it is not mine), a case's subject. */
function about(n) {
  const s = n.subject;
  if (!s) return null;
  if (n.subject_type === "warning") {
    const whose = n.reason !== "subject" && s.person_name ? s.person_name + " · " : "";
    return whose + (s.topic_name || t("warning.untitled")) + (s.object_key ? " · " + t("notice.object", { object: s.object_key }) : "");
  }
  return s.title || null;
}

function notificationItem(n, ctx) {
  const href = target(n);
  const open = async (e) => {
    e.preventDefault();
    await markRead(n).catch(() => null);
    ctx.refreshBadges();
    if (href) ctx.navigate(href);
    else ctx.reload();
  };
  const due = (n.data && (n.data.order_due_on || n.data.due_at)) || null;
  const text = about(n);
  return h(
    "li",
    {},
    h(
      "a",
      { href: href || "#/notifications", class: "notice" + (n.read_at ? "" : " unread"), onclick: open },
      n.read_at ? null : h("span", { class: "dot", "aria-label": t("notice.unread") }),
      h(
        "span",
        { class: "notice-main" },
        h("span", { class: "notice-title" }, badge(n), h("span", {}, happened(n))),
        text ? h("span", { class: "notice-about" }, text) : null,
        h(
          "span",
          { class: "notice-meta" },
          h("time", { datetime: n.created_at }, fmtDate(n.created_at, true)),
          due ? " · " + t(n.data.order_due_on ? "notice.order_due" : "due.on", { date: fmtDay(due) }) : null,
        ),
      ),
    ),
  );
}

export default async function render(root, ctx, _params, query) {
  const tab = query.get("tab") === "broadcasts" ? "broadcasts" : "notifications";
  add(root, 
    heading(t("notices.title")),
    segmented(t("notices.tabs"), [["notifications", t("notices.tab_notifications")], ["broadcasts", t("notices.tab_broadcasts")]], tab, (v) =>
      ctx.navigate("#/notifications" + (v === "broadcasts" ? "?tab=broadcasts" : "")),
    ),
  );
  if (tab === "broadcasts") {
    const [list, unread] = await Promise.all([api("/api/broadcasts?limit=50"), api("/api/notifications?unread=true&limit=100")]);
    const unreadIds = new Set(unread.items.filter((n) => n.subject_type === "broadcast").map((n) => n.subject_id));
    add(root, 
      list.length
        ? h(
            "ul",
            { class: "notices" },
            list.map((b) =>
              h(
                "li",
                {},
                h(
                  "a",
                  { href: "#/broadcasts/" + b.id, class: "notice" + (unreadIds.has(b.id) ? " unread" : "") },
                  unreadIds.has(b.id) ? h("span", { class: "dot", "aria-label": t("notice.unread") }) : null,
                  h(
                    "span",
                    { class: "notice-main" },
                    h("span", { class: "notice-title" }, b.title),
                    h("span", { class: "notice-meta" }, h("time", { datetime: b.sent_at || b.created_at }, fmtDate(b.sent_at || b.created_at, true))),
                  ),
                ),
              ),
            ),
          )
        : emptyState(t("notices.no_broadcasts")),
    );
    return;
  }
  const page = await api("/api/notifications?limit=50&lang=" + currentLang());
  const markAll = h("button", { type: "button", class: "btn btn-quiet" }, t("notices.mark_all"));
  markAll.onclick = () =>
    busy(markAll, async () => {
      for (const n of page.items.filter((x) => !x.read_at)) await markRead(n);
      ctx.refreshBadges();
      ctx.reload();
    });
  add(root, 
    h("p", { class: "row-between" }, h("span", { class: "muted" }, t("notices.unread_count", { n: page.unread })), page.unread ? markAll : null),
    page.items.length ? h("ul", { class: "notices" }, page.items.map((n) => notificationItem(n, ctx))) : emptyState(t("notices.none")),
  );
}
