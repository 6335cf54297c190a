// 督办单: the warnings of my scope under a supervision order, with the date the order gives, who
// ordered it and why; those still open first, the nearest date first (issue 16).
import { api } from "../api.js";
import { currentLang, fmtDay, fmtDate, t } from "../i18n.js";
import { add, emptyState, h, heading, icon, levelBadge, stateChip } from "../ui.js";

function orderCard(o) {
  return h(
    "li",
    {},
    h(
      "a",
      { class: "wcard lv-" + o.level + (o.overdue ? " overdue" : ""), href: "#/warnings/" + o.warning_id },
      h("span", { class: "wcard-top" }, levelBadge(o.level), h("span", { class: "topic" }, o.topic_name || t("warning.untitled")), stateChip(o.state)),
      o.person_name ? h("span", { class: "wcard-person" }, o.person_name) : null,
      h(
        "span",
        { class: "due" + (o.overdue ? " is-overdue" : "") },
        o.due_on ? t("sv.due", { date: fmtDay(o.due_on) }) : t("sv.due_none"),
        o.overdue ? h("span", { class: "badge overdue" }, t("due.overdue")) : null,
      ),
      o.note ? h("span", { class: "wcard-instruction" }, o.note) : null,
      h("span", { class: "wcard-object" }, o.by_name ? t("sv.by", { who: o.by_name, date: fmtDate(o.ordered_at) }) : t("sv.auto", { date: fmtDate(o.ordered_at) })),
    ),
  );
}

export default async function render(root) {
  const orders = await api("/api/warnings/supervision?lang=" + currentLang());
  const open = orders.filter((o) => ["raised", "delivered", "read", "returned"].includes(o.state));
  add(root, 
    h("a", { class: "back", href: "#/queue" }, icon("back"), t("common.back")),
    heading(t("sv.title")),
    h("p", { class: "muted" }, t("sv.lead", { n: open.length, total: orders.length })),
    orders.length ? h("ul", { class: "wlist" }, orders.map(orderCard)) : emptyState(t("sv.empty")),
  );
}
