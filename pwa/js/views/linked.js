// Linked warnings (联动预警): risk notice letters (B.13) to a department, answered by a risk report
// (B.14) within 15 working days. Heads answer; inspectors and the committee read.
import { api } from "../api.js";
import { fmtDate, t } from "../i18n.js";
import { exportButton } from "../exporting.js";
import { add, busy, checkedForm, dueLine, emptyState, field, h, heading, icon, levelBadge, setFieldError, toast } from "../ui.js";

function due(letter) {
  return dueLine({ due_at: letter.report_due_at, deadline_provisional: letter.report_provisional, overdue: letter.state === "raised" && Date.parse(letter.report_due_at) < Date.now() });
}

function letterCard(letter, unitName) {
  return h(
    "li",
    {},
    h(
      "a",
      { class: "wcard lv-" + letter.level, href: "#/linked/" + letter.id },
      h("span", { class: "wcard-top" }, levelBadge(letter.level), h("span", { class: "topic" }, t("linked_rule." + letter.rule)), h("span", { class: "chip ls-" + letter.state }, t("linked_state." + letter.state))),
      h("span", { class: "wcard-object" }, [unitName, letter.topic_code].filter(Boolean).join(" · ")),
      h("span", { class: "wcard-bottom" }, due(letter)),
    ),
  );
}

async function list(root, ctx) {
  const [letters, units] = await Promise.all([api("/api/linked?limit=100"), api("/api/units").catch(() => [])]);
  const names = new Map(units.map((u) => [u.id, u.name]));
  add(
    root,
    h("a", { class: "back", href: ctx.has("head", "inspector") ? "#/queue" : "#/dashboard" }, icon("back"), t("common.back")),
    heading(t("linked.title")),
    h("p", { class: "hint" }, t("linked.lead")),
    letters.length ? exportButton("linked") : null,
    letters.length ? h("ul", { class: "wlist" }, letters.map((l) => letterCard(l, names.get(l.unit_id)))) : emptyState(t("linked.none")),
  );
}

async function detail(root, ctx, id) {
  const [letter, units, forms] = await Promise.all([api("/api/linked/" + id), api("/api/units").catch(() => []), api("/api/forms?linked_id=" + id).catch(() => [])]);
  const filed = (kind) => forms.some((f) => f.kind === kind && f.state !== "returned");
  const unit = units.find((u) => u.id === letter.unit_id);
  const person = letter.person_id ? await api("/api/people/" + letter.person_id).catch(() => null) : null;
  add(
    root,
    h("a", { class: "back", href: "#/linked" }, icon("back"), t("common.back")),
    h("header", { class: "detail-head lv-" + letter.level }, heading(t("linked.letter_title")), h("p", {}, levelBadge(letter.level), " ", h("span", { class: "chip ls-" + letter.state }, t("linked_state." + letter.state)))),
    h("dl", { class: "facts" }, [
      h("dt", {}, t("linked.why")),
      h("dd", {}, (letter.patterns && letter.patterns.length ? letter.patterns : [{ rule: letter.rule, warning_ids: letter.warning_ids }]).map((p, i) => [i ? h("br") : null, t("linked_rule." + p.rule) + " · " + t("linked.n_warnings", { n: p.warning_ids.length })])),
      h("dt", {}, t("linked.unit")),
      h("dd", {}, unit ? unit.name : "#" + letter.unit_id),
      letter.topic_code ? [h("dt", {}, t("linked.topic")), h("dd", {}, letter.topic_code)] : null,
      person ? [h("dt", {}, t("warning.person")), h("dd", {}, person.name)] : null,
      letter.object_key ? [h("dt", {}, t("warning.object")), h("dd", {}, letter.object_key)] : null,
      h("dt", {}, t("linked.raised")),
      h("dd", {}, fmtDate(letter.raised_at, true)),
      h("dt", {}, t("linked.report_due")),
      h("dd", {}, due(letter)),
      h("dt", {}, t("linked.warnings")),
      h("dd", {}, letter.warning_ids.map((w, i) => [i ? " " : null, h("a", { href: "#/warnings/" + w }, "#" + w)])),
    ]),
    letter.report_text
      ? h(
          "section",
          { class: "card" },
          h("h2", {}, t("linked.report")),
          h("p", { class: "muted small" }, letter.answered_at ? t("linked.answered", { date: fmtDate(letter.answered_at, true) }) : null),
          h("dl", { class: "facts" }, h("dt", {}, t("linked.report_text")), h("dd", { class: "pre" }, letter.report_text), h("dt", {}, t("reply.measures")), h("dd", { class: "pre" }, letter.report_measures || "")),
        )
      : null,
    forms.length
      ? h(
          "section",
          { class: "card" },
          h("h2", {}, t("linked.forms")),
          h("ul", { class: "plain" }, forms.map((f) => h("li", {}, h("a", { href: "#/forms/" + f.id }, t("form.title." + f.kind) + " · " + t("form.number", { n: f.number })), " ", h("span", { class: "chip fs-" + f.state }, t("form.state." + f.state))))),
        )
      : null,
    letter.state === "raised" && ctx.has("head") && !filed("b14") ? reportForm(letter, ctx) : null,
    letter.state === "raised" && ctx.has("inspector") && !filed("b13") ? noticeForm(letter, ctx) : null,
  );
}

/** B.13: the inspector writes the letter's possible risk and requirements; the leader approves. */
function noticeForm(letter, ctx) {
  const risk = h("textarea", { rows: 3, maxlength: 4000 });
  const asks = h("textarea", { rows: 3, maxlength: 4000 });
  const send = h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("linked.notice_send"));
  return checkedForm(
    { class: "card" },
    (fail) => {
      for (const box of [risk, asks]) setFieldError(box, box.value.trim() ? "" : t("linked.need_text"));
      if (!risk.value.trim() || !asks.value.trim()) return;
      busy(
        send,
        async () => {
          const form = await api("/api/forms/b13", { method: "POST", json: { linked_id: letter.id, possible_risk: risk.value.trim(), requirements: asks.value.trim() } });
          toast(t("linked.notice_sent"), "ok");
          ctx.navigate("#/forms/" + form.id);
        },
        fail,
      );
    },
    h("h2", {}, t("linked.notice_form")),
    field("lk-risk", t("form.field.possible_risk"), risk, { required: true }),
    field("lk-asks", t("form.field.requirements"), asks, { required: true }),
    send,
  );
}

/** B.14: the head's risk report (it answers the letter); then the head's opinion and discipline's
 * instruction are signed on the form. */
function reportForm(letter, ctx) {
  const confirmation = h("textarea", { rows: 3, maxlength: 4000 });
  const cause = h("textarea", { rows: 4, maxlength: 4000 });
  const measures = h("textarea", { rows: 4, maxlength: 4000 });
  const send = h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("linked.send_report"));
  return checkedForm(
    { class: "card" },
    (fail) => {
      const boxes = [confirmation, cause, measures];
      for (const box of boxes) setFieldError(box, box.value.trim() ? "" : t("linked.need_text"));
      if (boxes.some((b) => !b.value.trim())) return;
      busy(
        send,
        async () => {
          const json = { linked_id: letter.id, confirmation: confirmation.value.trim(), cause: cause.value.trim(), measures: measures.value.trim() };
          const form = await api("/api/forms/b14", { method: "POST", json });
          toast(t("linked.sent"), "ok");
          ctx.navigate("#/forms/" + form.id);
        },
        fail,
      );
    },
    h("h2", {}, t("linked.report_form")),
    field("lk-confirm", t("form.field.confirmation"), confirmation, { required: true }),
    field("lk-cause", t("form.field.cause"), cause, { required: true, hint: t("linked.report_hint") }),
    field("lk-measures", t("form.field.measures"), measures, { required: true }),
    send,
  );
}

export default async function render(root, ctx, [id]) {
  if (id) return detail(root, ctx, Number(id));
  return list(root, ctx);
}

/** A link to the letters for the queue and the dashboard, when the server has them. */
export async function lettersLink() {
  let letters;
  try {
    letters = await api("/api/linked?state=raised&limit=100");
  } catch (_) {
    return null; // no linked warnings on this server, or not for this role
  }
  return h("a", { class: "card hub-link linked-link", href: "#/linked" }, h("strong", {}, t("linked.title")), h("span", { class: "muted" }, t("linked.waiting", { n: letters.length })));
}
