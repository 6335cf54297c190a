// The inspector's side of the personal ladder on the phone (issue 16): issue a notice, inquiry or
// recommendation to a person; on a case, move it up a tier, grant the recommendation's one
// extension, record a follow-up visit (回访, which may lift the case) and answer an appeal. Each
// form appears only when the case file says the action is open to the caller now.
import { api } from "../api.js";
import { t } from "../i18n.js";
import { busy, checkedForm, field, h, setFieldError, toast } from "../ui.js";

const TIERS = ["notice", "inquiry", "recommendation"];

function textArea(rows, max = 4000) {
  return h("textarea", { rows, maxlength: max });
}

// one folded form: a title, fields, a required check per field, and what the button posts
function actionForm(id, title, fields, send, ctx, { primary = false } = {}) {
  const submit = h("button", { type: "submit", class: "btn btn-block" + (primary ? " btn-primary" : "") }, t("ladder.act_" + id + "_send"));
  const form = checkedForm(
    { class: "ladder-act", "aria-label": title },
    (fail) => {
      const missing = fields.filter((f) => f.required && !f.control.value.trim());
      for (const f of fields) if (f.required) setFieldError(f.control, f.control.value.trim() ? "" : t("ladder.need_field"));
      if (missing.length) return missing[0].control.focus();
      busy(
        submit,
        async () => {
          await send();
          toast(t("ladder.act_" + id + "_done"), "ok");
          ctx.reload();
        },
        fail,
      );
    },
    fields.map((f) => field(f.id, f.label, f.control, { required: f.required, hint: f.hint })),
    submit,
  );
  return h("details", { class: "card ladder-act-box", id: "act-" + id }, h("summary", {}, title), form);
}

function escalateForm(c, ctx) {
  const reason = textArea(3, 2000);
  const next = TIERS[TIERS.indexOf(c.tier) + 1];
  return actionForm(
    "escalate",
    t("ladder.act_escalate", { tier: t("tier." + next) }),
    [{ id: "act-escalate-reason", label: t("ladder.act_reason"), control: reason, required: true, hint: t("ladder.act_escalate_hint") }],
    () => api(`/api/ladder/${c.id}/escalate`, { method: "POST", json: { reason: reason.value.trim() } }),
    ctx,
  );
}

function extendForm(c, ctx) {
  const until = h("input", { type: "date", min: (c.due_at || "").slice(0, 10) });
  const reason = textArea(3, 2000);
  return actionForm(
    "extend",
    t("ladder.act_extend"),
    [
      { id: "act-extend-until", label: t("ladder.act_until"), control: until, required: true, hint: t("ladder.act_extend_hint") },
      { id: "act-extend-reason", label: t("ladder.act_reason"), control: reason, required: true },
    ],
    () => api(`/api/ladder/${c.id}/extend`, { method: "POST", json: { until: until.value, reason: reason.value.trim() } }),
    ctx,
  );
}

function visitForm(c, ctx) {
  const text = textArea(4);
  const lifted = h("input", { type: "checkbox", id: "act-visit-lifted" });
  const box = actionForm(
    "visit",
    t("ladder.act_visit"),
    [{ id: "act-visit-note", label: t("ladder.act_visit_note"), control: text, required: true, hint: t("ladder.act_visit_hint") }],
    () => api(`/api/ladder/${c.id}/visit`, { method: "POST", json: { note: text.value.trim(), lifted: lifted.checked } }),
    ctx,
    { primary: true },
  );
  box.querySelector("button[type=submit]").before(h("label", { class: "choice" }, lifted, h("span", {}, t("ladder.act_visit_lift"))));
  return box;
}

function appealAnswerForm(c, appeal, ctx) {
  const answer = textArea(4);
  const outcome = h("select", {}, h("option", { value: "rejected" }, t("ladder.appeal_rejected")), h("option", { value: "upheld" }, t("ladder.appeal_upheld")));
  return actionForm(
    "appeal", // one appeal is pending at a time
    t("ladder.act_appeal"),
    [
      { id: `act-appeal-${appeal.id}-outcome`, label: t("ladder.act_outcome"), control: outcome, required: true },
      { id: `act-appeal-${appeal.id}-answer`, label: t("ladder.act_answer"), control: answer, required: true },
    ],
    () => api(`/api/ladder/${c.id}/appeals/${appeal.id}/answer`, { method: "POST", json: { answer: answer.value.trim(), outcome: outcome.value } }),
    ctx,
    { primary: true },
  );
}

// the forms open to the caller on this case (from the case file's actions)
export function caseActions(file, ctx) {
  const c = file.case;
  const can = new Set(file.actions);
  const open = file.appeals.filter((a) => !a.answer);
  return [
    can.has("answer_appeal") ? open.map((a) => appealAnswerForm(c, a, ctx)) : null,
    can.has("visit") ? visitForm(c, ctx) : null,
    can.has("escalate") && c.tier !== "recommendation" ? escalateForm(c, ctx) : null,
    can.has("extend") ? extendForm(c, ctx) : null,
  ];
}

// an inspector issues a case to a person of their units
export async function issueForm(ctx) {
  const people = (await api("/api/people?limit=500").catch(() => ({ items: [] }))).items.filter((p) => p.active !== false && p.id !== ctx.me.person_id);
  const who = h("select", {}, h("option", { value: "" }, t("ladder.act_pick_person")), people.map((p) => h("option", { value: p.id }, [p.name, p.post_name].filter(Boolean).join(" · "))));
  const tier = h("select", {}, TIERS.map((x) => h("option", { value: x }, t("tier." + x))));
  const subject = h("input", { type: "text", maxlength: 200, autocomplete: "off" });
  const problem = textArea(4);
  const requirements = textArea(3, 2000);
  return actionForm(
    "issue",
    t("ladder.act_issue"),
    [
      { id: "act-issue-person", label: t("ladder.act_person"), control: who, required: true },
      { id: "act-issue-tier", label: t("ladder.act_tier"), control: tier, required: true },
      { id: "act-issue-subject", label: t("ladder.act_subject"), control: subject, required: true },
      { id: "act-issue-problem", label: t("ladder.problem"), control: problem, required: true },
      { id: "act-issue-requirements", label: t("ladder.requirements"), control: requirements },
    ],
    () =>
      api("/api/ladder", {
        method: "POST",
        json: { person_id: Number(who.value), tier: tier.value, subject: subject.value.trim(), problem: problem.value.trim(), requirements: requirements.value.trim() },
      }),
    ctx,
    { primary: true },
  );
}
