// The personal ladder on the phone (issue 16): 告知 → 质询 → 监察建议. The person sees their
// cases, reads what is asked and by when, answers in writing within the deadline, and may appeal
// (申诉); every step of the case file (一事一档) is listed in words.
import { api, core } from "../api.js";
import { fmtDate, fmtDay, maybe, t } from "../i18n.js";
import { exportButton } from "../exporting.js";
import { add, busy, checkedForm, emptyState, field, h, heading, icon, note, setFieldError, toast } from "../ui.js";
import { caseActions, issueForm } from "./ladder-act.js";

const OPEN = new Set(["open", "answered"]);

function tierBadge(tier) {
  return h("span", { class: "badge tier-" + tier }, t("tier." + tier));
}

function dueText(c) {
  const date = fmtDay(c.due_at);
  if (c.state !== "open") return t("ladder.state." + c.state);
  return t(c.overdue ? "ladder.due_late" : "ladder.due_" + c.tier, { date });
}

function caseCard(c, me) {
  return h(
    "li",
    {},
    h(
      "a",
      { class: "wcard ladder-card tier-" + c.tier + (c.overdue && OPEN.has(c.state) ? " overdue" : ""), href: "#/ladder/" + c.id },
      h("span", { class: "wcard-top" }, tierBadge(c.tier), h("span", { class: "topic" }, c.subject), h("span", { class: "chip" }, t("ladder.state." + c.state))),
      c.person_name && c.person_id !== me ? h("span", { class: "whose" }, c.person_name) : null,
      h("span", { class: "due" + (c.overdue && OPEN.has(c.state) ? " is-overdue" : "") }, dueText(c)),
    ),
  );
}

async function list(root, ctx) {
  const cases = await api("/api/ladder?limit=50");
  const inspector = ctx.has("inspector", "committee");
  add(root, 
    h("a", { class: "back", href: "#/me" }, icon("back"), t("common.back")),
    heading(t(inspector ? "ladder.title_units" : "ladder.title")),
    h("p", { class: "hint" }, t(inspector ? "ladder.lead_units" : "ladder.lead")),
    ctx.has("inspector") ? await issueForm(ctx) : null,
    cases.length ? exportButton("ladder") : null,
    cases.length ? h("ul", { class: "wlist" }, cases.map((c) => caseCard(c, ctx.me.person_id))) : emptyState(t("ladder.none")),
  );
}

function answerForm(c, ctx) {
  const clientId = core.uuid();
  const text = h("textarea", { rows: 5, maxlength: 4000 });
  const measures = h("textarea", { rows: 4, maxlength: 4000 });
  const needMeasures = c.tier !== "notice";
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("ladder.answer_send"));
  return checkedForm(
    { class: "card ladder-answer", "aria-labelledby": "ladder-answer-title" },
    (fail) => {
      setFieldError(text, text.value.trim() ? "" : t("ladder.need_text"));
      setFieldError(measures, needMeasures && !measures.value.trim() ? t("err.measures_required") : "");
      if (!text.value.trim()) return text.focus();
      if (needMeasures && !measures.value.trim()) return measures.focus();
      busy(
        submit,
        async () => {
          const json = { client_id: clientId, text: text.value.trim(), measures: measures.value.trim() };
          await api("/api/ladder/" + c.id + "/answer", { method: "POST", json });
          toast(t("ladder.answered"), "ok");
          ctx.reload();
        },
        fail,
      );
    },
    h("h2", { id: "ladder-answer-title" }, t("ladder.answer_title_" + c.tier)),
    field("ladder-text", t("ladder.answer_text"), text, { required: true, hint: t("ladder.answer_hint") }),
    needMeasures ? field("ladder-measures", t("ladder.answer_measures"), measures, { required: true }) : null,
    submit,
  );
}

function appealForm(c, ctx) {
  const text = h("textarea", { rows: 4, maxlength: 4000 });
  const submit = h("button", { type: "submit", class: "btn btn-block" }, t("ladder.appeal_send"));
  return h(
    "details",
    { class: "card ladder-appeal" },
    h("summary", {}, t("ladder.appeal_open")),
    h("p", { class: "hint" }, t("ladder.appeal_hint")),
    checkedForm(
      {},
      (fail) => {
        if (!text.value.trim()) {
          setFieldError(text, t("ladder.need_appeal"));
          return text.focus();
        }
        busy(
          submit,
          async () => {
            await api("/api/ladder/" + c.id + "/appeal", { method: "POST", json: { text: text.value.trim() } });
            toast(t("ladder.appealed"), "ok");
            ctx.reload();
          },
          fail,
        );
      },
      field("ladder-appeal-text", t("ladder.appeal_text"), text, { required: true }),
      submit,
    ),
  );
}

function stepItem(s) {
  return h(
    "li",
    {},
    h("time", { datetime: s.at }, fmtDate(s.at, true)),
    h("span", { class: "step" }, maybe("ladder.step." + s.kind) || t("ladder.step.other"), " · ", t("tier." + s.tier)),
    s.text ? h("p", { class: "pre small" }, s.text) : null,
  );
}

function appealItem(a) {
  return h(
    "article",
    { class: "card" },
    h("p", {}, h("strong", {}, t("ladder.appeal_on", { date: fmtDate(a.filed_at, true) }))),
    h("p", { class: "pre" }, a.text),
    a.answer
      ? h("p", { class: "decision " + (a.outcome === "upheld" ? "confirmed" : "returned") }, t("ladder.appeal_" + a.outcome), h("span", { class: "pre" }, " — " + a.answer))
      : h("p", { class: "muted" }, t("ladder.appeal_waiting")),
  );
}

async function caseFile(root, ctx, id) {
  const file = await api("/api/ladder/" + id);
  const c = file.case;
  const mine = c.person_id === ctx.me.person_id;
  add(root, 
    h("a", { class: "back", href: "#/ladder" }, icon("back"), t("common.back")),
    h("header", { class: "detail-head ladder-head tier-" + c.tier }, heading(c.subject), h("p", {}, tierBadge(c.tier), " ", h("span", { class: "chip" }, t("ladder.state." + c.state)))),
    h("p", { class: "instruction" + (c.overdue && OPEN.has(c.state) ? " is-overdue" : "") }, dueText(c)),
    h("section", { class: "card" }, h("h2", {}, t("ladder.problem")), h("p", { class: "pre" }, c.problem), c.requirements ? [h("h2", {}, t("ladder.requirements")), h("p", { class: "pre" }, c.requirements)] : null),
    file.actions.includes("answer") ? answerForm(c, ctx) : null,
    c.state === "answered" && mine ? note(t("ladder.answered_wait"), "info") : null,
    file.appeals.length ? h("section", {}, h("h2", {}, t("ladder.appeals")), file.appeals.map(appealItem)) : null,
    file.actions.includes("appeal") ? appealForm(c, ctx) : null,
    mine ? null : caseActions(file, ctx),
    h("section", { class: "card" }, h("h2", {}, t("ladder.file")), h("ol", { class: "timeline" }, file.steps.map(stepItem))),
  );
}

export default async function render(root, ctx, [id]) {
  return id ? caseFile(root, ctx, id) : list(root, ctx);
}
