// The personal integrity archive (廉洁档案, issue 20): one page per person, on the phone and the PC,
// with what the platform holds about them as far as the viewer may see it; one PDF to take away.
import { api, saveFile } from "../api.js";
import { fmtDay, fmtNumber, maybe, t } from "../i18n.js";
import { add, busy, emptyState, h, heading, icon } from "../ui.js";
import { DIMENSIONS, signed, tagCard } from "./evaluation.js";

function part(title, items, row, empty) {
  return h("section", { class: "card dossier-part" }, h("h2", {}, title, " ", h("span", { class: "muted small" }, t("dossier.count", { n: items.length }))), items.length ? h("ul", { class: "plain dossier-list" }, items.map((x) => h("li", {}, row(x)))) : emptyState(empty || t("dossier.none")));
}

function line(...bits) {
  return bits.filter(Boolean).join(" · ");
}

export default async function render(root, ctx, [id]) {
  const d = await api("/api/dossier/" + id);
  const p = d.person;
  const own = p.id === ctx.me.person_id;
  const pdf = h("button", { type: "button", class: "btn btn-block", onclick: (e) => busy(e.currentTarget, () => saveFile("/api/dossier/" + id + "/pdf", `${t("dossier.title")}-${p.name}.pdf`)) }, t("dossier.pdf"));
  const hidden = t("dossier.checkup_hidden");
  add(
    root,
    h("a", { class: "back", href: own ? "#/me" : "#/evaluation" }, icon("back"), t("common.back")),
    heading(own ? t("dossier.mine") : t("dossier.of", { name: p.name })),
    h("section", { class: "card me" }, h("p", { class: "me-name" }, p.name), h("p", { class: "muted" }, line(p.post_name, p.unit_name)), p.started_in_post ? h("p", { class: "muted small" }, t("dossier.in_post_since", { date: fmtDay(p.started_in_post) })) : null),
    h("p", { class: "hint" }, t("dossier.lead")),
    pdf,
    part(t("dossier.posts"), d.posts, (x) => line(x.post_name || t("dossier.no_post"), x.unit_name, x.since ? t("dossier.from_to", { from: fmtDay(x.since), to: x.until ? fmtDay(x.until) : t("dossier.now") }) : null)),
    part(t("dossier.evaluation"), d.evaluation, (x) => [h("strong", {}, x.round_name), " ", line(x.category_name, t("ev.total_is", { total: fmtNumber(x.total, 2) }), t("ev.rank_of", { rank: x.rank_category, of: x.of_category })), h("p", { class: "muted small" }, DIMENSIONS.map((k) => t("ev.dim." + k) + " " + signed(x[k])).join("　"))]),
    h("section", { class: "card dossier-part" }, h("h2", {}, t("dossier.tags"), " ", h("span", { class: "muted small" }, t("dossier.count", { n: d.tags.length }))), d.tags.length ? h("ul", { class: "plain" }, d.tags.map((x) => tagCard(x, ctx))) : emptyState(t("dossier.none"))),
    part(t("dossier.warnings"), d.warnings, (x) => [h("a", { href: "#/warnings/" + x.id }, x.topic_name), " ", line(t("level." + x.level), t("state." + x.state), fmtDay(x.raised_at), x.reply ? t("finding." + x.reply) : null, x.decision ? t("decision." + x.decision) : null)]),
    part(t("dossier.interviews"), d.interviews, (x) => [h("a", { href: "#/interviews/" + x.id }, fmtDay(x.held_at)), " ", line(x.place, x.suggestion)]),
    part(t("dossier.letters"), d.letters, (x) => line(t("linked_rule." + x.rule), t("level." + x.level), t("linked_state." + x.state), fmtDay(x.raised_at))),
    part(t("dossier.ladder"), d.ladder, (x) => [h("a", { href: "#/ladder/" + x.id }, x.subject), " ", line(t("tier." + x.tier), t("ladder.state." + x.state), fmtDay(x.opened_at))]),
    part(t("dossier.checkups"), d.checkups, (x) => line(t("ck.composite_grade") + " " + t("ck.grade." + x.composite_grade), t("ck.psych_grade") + " " + t("ck.grade." + x.psych_grade), fmtDay(x.graded_at)), d.checkups_hidden ? hidden : null),
    part(t("dossier.care"), d.care, (x) => line(t("ck.kind." + x.kind), maybe("ck.risk." + x.risk_type), t("ck.care_status." + x.status), fmtDay(x.due_date)), d.checkups_hidden ? hidden : null),
    h("section", { class: "card dossier-part" }, h("h2", {}, t("dossier.education")), h("p", { class: "muted" }, d.education_hours === null ? t("dossier.education_none") : t("dossier.hours", { n: fmtNumber(d.education_hours, 1) }))),
  );
}
