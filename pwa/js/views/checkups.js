// The integrity check-up (廉洁体检) hub: my check-ups (window, progress, what to do next); for
// admins, the committee, inspectors and heads the campaigns; care measures; the admin's tools.
import { api, core } from "../api.js";
import { ratioBar } from "../charts.js";
import { fmtDate, t } from "../i18n.js";
import { add, emptyState, h, heading } from "../ui.js";
import { meter, statusChip, windowChip } from "./checkup-parts.js";

/** What a person may do with a check-up now, from its window, status and personal deadline. */
export function checkupState(c) {
  if (c.status === "submitted") return "submitted";
  const open = c.window === "open" || c.window === "late";
  const reopened = !open && c.window !== "scheduled" && c.deadline && Date.parse(c.deadline) > Date.now();
  if (reopened) return "reopened";
  if (c.window === "scheduled") return "scheduled";
  if (!open) return "closed";
  return c.window === "late" ? "late" : "open";
}

function myCard(c, waiting) {
  const state = checkupState(c);
  const answered = Math.min(c.total, c.answered + waiting);
  const action = {
    submitted: [t("ck.see_result"), "#/checkups/" + c.campaign_id + "/result"],
    open: [answered ? t("ck.continue", { n: Math.min(c.total, answered + 1) }) : t("ck.start"), "#/checkups/" + c.campaign_id],
    late: [t("ck.continue_late"), "#/checkups/" + c.campaign_id],
    reopened: [t("ck.continue_reopened"), "#/checkups/" + c.campaign_id],
    scheduled: null,
    closed: null,
  }[state];
  return h(
    "li",
    { class: "card ck-mine" },
    h("p", { class: "row-between" }, h("strong", {}, c.title), h("span", {}, windowChip(c.window), statusChip(c.status))),
    h("p", { class: "small" }, t("ck.answered_of", { n: answered, total: c.total })),
    meter(t("ck.answered_of", { n: answered, total: c.total }), answered, c.total),
    c.deadline && action ? h("p", { class: "small muted" }, t("ck.deadline", { date: fmtDate(c.deadline, true) })) : null,
    state === "reopened" ? h("p", { class: "alert alert-ok" }, t("ck.reopened_note", { date: fmtDate(c.deadline, true) })) : null,
    state === "late" ? h("p", { class: "alert alert-warn" }, t("ck.late_note", { date: fmtDate(c.deadline, true) })) : null,
    state === "closed" ? h("p", { class: "alert alert-error" }, t("ck.closed_note")) : null,
    state === "scheduled" ? h("p", { class: "alert" }, t("ck.scheduled_note")) : null,
    action ? h("a", { class: "btn btn-primary btn-block", href: action[1] }, action[0]) : null,
  );
}

function campaignCard(c) {
  return h(
    "li",
    {},
    h(
      "a",
      { class: "card hub-link ck-campaign", href: "#/checkups/campaigns/" + c.id },
      h("span", { class: "row-between" }, h("strong", {}, c.title), windowChip(c.window)),
      h("span", { class: "small muted" }, t("ck.window_dates", { from: fmtDate(c.opens_at), to: fmtDate(c.closes_at) })),
      ratioBar(t("ck.submitted_rate"), c.participants ? c.submitted / c.participants : null, t("ck.submitted_of", { n: c.submitted, total: c.participants })),
    ),
  );
}

export default async function render(root, ctx) {
  const figures = ctx.has("admin", "committee", "inspector", "head");
  const [mine, campaigns, care, waiting] = await Promise.all([
    api("/api/checkups/mine"),
    figures ? api("/api/checkups/campaigns") : null,
    ctx.has("inspector", "head") ? api("/api/checkups/care?status=open").catch(() => null) : null,
    core.outbox.answers(ctx.me.person_id),
  ]);
  const queuedFor = (id) => waiting.filter((i) => i.campaign_id === id).reduce((n, i) => n + Object.keys(i.body.answers).length, 0);
  add(
    root,
    heading(t("ck.title")),
    h("p", { class: "hint" }, t("ck.lead")),
    h("h2", { class: "sub" }, t("ck.mine")),
    mine.length ? h("ul", { class: "plain" }, mine.map((c) => myCard(c, queuedFor(c.campaign_id)))) : emptyState(t("ck.none_mine")),
  );
  if (care) {
    const overdue = care.filter((c) => c.overdue).length;
    add(
      root,
      h("a", { class: "card hub-link", href: "#/checkups/care" }, h("strong", {}, t("ck.care_title")), h("span", { class: "muted" }, t("ck.care_count", { n: care.length, overdue }))),
    );
  }
  if (ctx.has("admin")) {
    add(
      root,
      h(
        "div",
        { class: "actions" },
        h("a", { class: "btn btn-primary", href: "#/checkups/new" }, t("ck.new_campaign")),
        h("a", { class: "btn", href: "#/checkups/policy" }, t("ck.policy_title")),
      ),
    );
  }
  if (campaigns) {
    add(
      root,
      h("h2", { class: "sub" }, t("ck.campaigns")),
      campaigns.length ? h("ul", { class: "plain" }, campaigns.map(campaignCard)) : emptyState(t("ck.none_campaigns")),
    );
  }
}
