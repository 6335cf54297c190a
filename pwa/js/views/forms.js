// Forms waiting for my sign-off (待审批): a statutory form's fields, its steps in order, and — when
// the next step is mine — approve or return it with an opinion. Every form downloads as its PDF.
import { api, saveFile } from "../api.js";
import { fmtDate, t } from "../i18n.js";
import { add, busy, checkedForm, emptyState, field, h, heading, icon, segmented, setFieldError, toast } from "../ui.js";
import { fileable } from "./forms-new.js";

/** The fields each form shows on the phone, in the form's order (the rest stay in the PDF). */
const SHOWN = {
  b13: ["level", "topic", "source", "unit", "people", "description", "warnings", "possible_risk", "requirements", "feedback_due"],
  b14: ["letter_number", "level", "topic", "source", "unit", "people", "confirmation", "cause", "measures"],
  b11: ["unit", "requester", "topic", "rule", "old_thresholds", "new_thresholds", "reason"],
  b7: ["unit", "requester", "topic", "old_rule", "reason", "new_rule", "period", "new_thresholds", "fields"],
  b8: ["topic", "requester", "unit", "exit_on", "reason", "six_months"],
  b5: ["unit", "topic", "goal"],
  b6: ["unit"],
  b9: ["requester", "unit", "system", "username", "permission", "reason"],
};

/** Forms that are tables, downloaded as a workbook too. */
const TABULAR = new Set(["b6"]);

function formCard(form) {
  const next = form.steps[form.position];
  return h(
    "li",
    {},
    h(
      "a",
      { class: "wcard form-card", href: "#/forms/" + form.id },
      h("span", { class: "wcard-top" }, h("span", { class: "topic" }, t("form.title." + form.kind)), h("span", { class: "chip fs-" + form.state }, t("form.state." + form.state))),
      h("span", { class: "wcard-object" }, t("form.number", { n: form.number }) + (form.fields.unit ? " · " + form.fields.unit : "")),
      h("span", { class: "wcard-bottom small muted" }, next && form.state === "open" ? t("form.next", { box: t("form.box." + next.box) }) : fmtDate(form.closed_at || form.created_at, true)),
    ),
  );
}

async function list(root, ctx, params) {
  const all = params.get("all") === "1";
  const forms = await api("/api/forms?limit=100" + (all ? "" : "&pending=true"));
  add(
    root,
    heading(t("form.list_title")),
    segmented(t("form.list_title"), [["pending", t("form.pending")], ["all", t("form.all")]], all ? "all" : "pending", (v) => {
      location.hash = v === "all" ? "#/forms?all=1" : "#/forms";
    }),
    forms.length ? h("ul", { class: "wlist" }, forms.map(formCard)) : emptyState(all ? t("form.none") : t("form.none_pending")),
    fileLinks(ctx),
  );
}

/** The forms I may file from the phone, each a link to its page (nothing when there are none). */
function fileLinks(ctx) {
  const kinds = fileable(ctx);
  if (!kinds.length) return null;
  return h(
    "section",
    { class: "fnew-links", "aria-labelledby": "fnew-links-title" },
    h("h2", { id: "fnew-links-title" }, t("fnew.file_title")),
    kinds.map((kind) => h("a", { class: "card hub-link", href: "#/forms/new/" + kind }, h("strong", {}, t("fnew.link." + kind)), h("span", { class: "muted" }, t("fnew.hint." + kind)))),
  );
}

function fieldsList(form) {
  const keys = (SHOWN[form.kind] || []).filter((k) => form.fields[k] !== undefined);
  const items = form.kind === "b6" ? form.fields.items.map((i, n) => [t("form.item", { n: n + 1 }), `${i.risk_point}（${i.tier}）\n${i.description}`]) : [];
  return h("dl", { class: "facts" }, [
    ...keys.map((k) => [h("dt", {}, t("form.field." + k)), h("dd", { class: "pre" }, String(form.fields[k]))]),
    ...items.map(([label, text]) => [h("dt", {}, label), h("dd", { class: "pre" }, text)]),
  ]);
}

function stepsList(form) {
  return h(
    "ol",
    { class: "form-steps" },
    form.steps.map((s) =>
      h(
        "li",
        { class: "form-step " + (s.outcome ? "done-" + s.outcome : s.position === form.position && form.state === "open" ? "current" : "todo") },
        h("strong", {}, t("form.box." + s.box)),
        h("span", { class: "muted small" }, " · " + t("role." + s.role)),
        s.outcome
          ? h("p", {}, h("span", { class: "chip fs-" + s.outcome }, t("form.outcome." + s.outcome)), " ", s.opinion, h("br"), h("span", { class: "muted small" }, t("form.signed_by", { name: s.signer_name || "", date: fmtDate(s.done_at, true) })))
          : h("p", { class: "muted small" }, s.position === form.position && form.state === "open" ? t("form.waiting") : t("form.later")),
      ),
    ),
  );
}

function signForm(form, ctx) {
  const step = form.steps[form.position];
  const opinion = h("textarea", { rows: 4, maxlength: 2000 });
  let yes = true; // which button sent the form (its click comes before the submit)
  const approve = h("button", { type: "submit", class: "btn btn-primary btn-block", onclick: () => (yes = true) }, t("form.approve"));
  const back = h("button", { type: "submit", class: "btn btn-block", onclick: () => (yes = false) }, t("form.return"));
  return checkedForm(
    { class: "card sign-form" },
    (fail) => {
      const text = opinion.value.trim();
      setFieldError(opinion, text ? "" : t("form.need_opinion"));
      if (!text) return;
      busy(
        yes ? approve : back,
        async () => {
          await api(`/api/forms/${form.id}/steps/${form.position}`, { method: "POST", json: { approve: yes, opinion: text } });
          toast(yes ? t("form.approved") : t("form.returned"), "ok");
          ctx.refreshBadges && ctx.refreshBadges();
          ctx.reload();
        },
        fail,
      );
    },
    h("h2", {}, t("form.sign_title", { box: t("form.box." + step.box) })),
    field("form-opinion", t("form.opinion"), opinion, { required: true, hint: t("form.opinion_hint") }),
    approve,
    back,
  );
}

async function detail(root, ctx, id) {
  const form = await api("/api/forms/" + id);
  const pdf = h("button", { type: "button", class: "btn btn-block" }, icon("down"), t("form.pdf"));
  pdf.onclick = () => busy(pdf, () => saveFile(`/api/forms/${form.id}/pdf`, `${form.number}.pdf`));
  // a tabular form (B.6) is also a workbook
  const xlsx = TABULAR.has(form.kind) ? h("button", { type: "button", class: "btn btn-block" }, icon("down"), t("form.xlsx")) : null;
  if (xlsx) xlsx.onclick = () => busy(xlsx, () => saveFile(`/api/forms/${form.id}/xlsx`, `${form.number}.xlsx`));
  add(
    root,
    h("a", { class: "back", href: "#/forms" }, icon("back"), t("common.back")),
    h("header", { class: "detail-head" }, heading(t("form.title." + form.kind)), h("p", {}, h("span", { class: "chip fs-" + form.state }, t("form.state." + form.state)), " ", t("form.number", { n: form.number }))),
    fieldsList(form),
    h("section", { class: "card" }, h("h2", {}, t("form.steps")), stepsList(form)),
    form.mine ? signForm(form, ctx) : null,
    pdf,
    xlsx,
  );
}

export default async function render(root, ctx, [id], params) {
  if (id) return detail(root, ctx, Number(id));
  return list(root, ctx, params);
}

/** A link to my pending forms for the queue and the dashboard (nothing when there are none). */
export async function formsLink() {
  let forms;
  try {
    forms = await api("/api/forms?pending=true&limit=100");
  } catch (_) {
    return null;
  }
  return h("a", { class: "card hub-link forms-link", href: "#/forms" }, h("strong", {}, t("form.list_title")), h("span", { class: "muted" }, t("form.waiting_n", { n: forms.length })));
}
