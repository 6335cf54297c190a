// Admin: open a check-up campaign (year, window, late period, target units, questionnaire
// version), and the grading policy (weights and cut-offs; a new version each time, shown with
// every grade). Errors from the server are shown by their code, on the field they name.
import { api } from "../api.js";
import { errorText, fmtDate, fmtNumber, t } from "../i18n.js";
import { add, busy, checkedForm, field, h, heading, icon, note, setFieldError, toast } from "../ui.js";
import { unitTree } from "./admin-broadcast.js";
import { beijing, beijingInput, DIMENSIONS, pick } from "./checkup-parts.js";

/** Show a server error on the control it names (extra.field, or the first validation error). */
function onField(controls, fail) {
  return (err) => {
    const body = err.body || {};
    const named = body.field || (body.errors && body.errors[0] && body.errors[0].field) || "";
    const control = controls[named] || controls[named.split(".")[0]];
    if (control) setFieldError(control, errorText(err));
    fail(err);
  };
}

async function newCampaign(root, ctx) {
  const [questionnaires, policies, units] = await Promise.all([api("/api/checkups/questionnaires"), api("/api/checkups/policies"), api("/api/units")]);
  add(root, h("a", { class: "back", href: "#/checkups" }, icon("back"), t("common.back")), heading(t("ck.new_campaign")));
  if (!questionnaires.length) {
    add(root, note(t("ck.no_questionnaire"), "warn"));
    return;
  }
  if (!policies.length) add(root, note(t("ck.no_policy"), "warn"));
  const thisYear = Number(beijingInput().slice(0, 4));
  const year = h("input", { type: "number", min: 2000, max: 2100, value: String(thisYear), inputmode: "numeric" });
  const title = h("input", { maxlength: 120, value: t("ck.default_title", { year: thisYear }) });
  let titleTouched = false;
  title.oninput = () => (titleTouched = true);
  year.oninput = () => {
    if (!titleTouched) title.value = t("ck.default_title", { year: year.value });
  };
  const questionnaire = h(
    "select",
    {},
    questionnaires.map((q) => h("option", { value: String(q.id) }, t("ck.questionnaire_option", { title: pick(q, "title"), version: q.version, n: q.items.length }))),
  );
  const opens = h("input", { type: "datetime-local", value: beijingInput(0) });
  const closes = h("input", { type: "datetime-local", value: beijingInput(30, "23:59") });
  const late = h("input", { type: "datetime-local", value: beijingInput(45, "23:59") });
  const allowLate = h("input", { type: "checkbox", checked: true, onchange: () => (late.disabled = !allowLate.checked) });
  const boxes = unitTree(units).map(([u, depth]) =>
    h("label", { class: "toggle tree", style: `padding-inline-start:${depth * 1.25}rem` }, h("input", { type: "checkbox", value: u.code }), h("span", {}, u.name)),
  );
  const unitSet = h(
    "fieldset",
    { id: "ck-units", "aria-describedby": "ck-units-error" },
    h("legend", {}, t("ck.target_units"), h("span", { class: "req", "aria-hidden": "true" }, " *")),
    h("p", { class: "hint" }, t("ck.target_units_hint")),
    h("div", { class: "tree-box" }, boxes),
    h("p", { class: "field-error", id: "ck-units-error", hidden: true }),
  );
  const send = h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("ck.open_campaign"));
  const controls = { year, title, questionnaire_id: questionnaire, opens_at: opens, closes_at: closes, late_until: late, unit_codes: unitSet };
  const form = checkedForm(
    { class: "card" },
    (fail) => {
      const codes = boxes.map((l) => l.querySelector("input")).filter((i) => i.checked).map((i) => i.value);
      Object.values(controls).forEach((c) => setFieldError(c, ""));
      setFieldError(title, title.value.trim() ? "" : t("ck.need_title"));
      setFieldError(opens, opens.value ? "" : t("ck.need_time"));
      setFieldError(closes, closes.value ? "" : t("ck.need_time"));
      setFieldError(unitSet, codes.length ? "" : t("ck.need_units"));
      const bad = form.querySelector("[aria-invalid=true]");
      if (bad) return (bad.matches("fieldset") ? bad.querySelector("input") : bad).focus();
      const body = {
        year: Number(year.value),
        title: title.value.trim(),
        questionnaire_id: Number(questionnaire.value),
        opens_at: beijing(opens.value),
        closes_at: beijing(closes.value),
        unit_codes: codes,
      };
      if (allowLate.checked && late.value) body.late_until = beijing(late.value);
      return busy(
        send,
        async () => {
          const c = await api("/api/checkups/campaigns", { method: "POST", json: body });
          toast(t("ck.opened", { n: c.participants }), "ok");
          ctx.navigate("#/checkups/campaigns/" + c.id);
        },
        onField(controls, fail),
      );
    },
    field("ck-year", t("ck.year"), year, { required: true }),
    field("ck-title", t("ck.campaign_title"), title, { required: true }),
    field("ck-questionnaire", t("ck.questionnaire"), questionnaire, { hint: t("ck.questionnaire_hint") }),
    field("ck-opens", t("ck.opens_at"), opens, { required: true, hint: t("ck.beijing_time") }),
    field("ck-closes", t("ck.closes_at"), closes, { required: true }),
    h("label", { class: "toggle" }, allowLate, h("span", {}, t("ck.allow_late"))),
    field("ck-late", t("ck.late_until_label"), late, { hint: t("ck.late_hint") }),
    unitSet,
    send,
  );
  add(root, form);
}

const WEIGHTS = ["psych_weight", "post_weight", "tenure_weight"];
const CUTOFFS = ["psych_high", "psych_medium", "composite_high", "composite_medium"];
const OTHER = ["tenure_full_years", "post_attention", "rotation_years"];
const DEFAULTS = {
  psych_weight: 0.4, post_weight: 0.4, tenure_weight: 0.2,
  psych_high: 60, psych_medium: 40, composite_high: 65, composite_medium: 45,
  tenure_full_years: 5, post_attention: 70, rotation_years: 5,
}; // prettier-ignore

function policyCard(p) {
  return h(
    "section",
    { class: "card ck-policy-now", "aria-labelledby": "ck-policy-now" },
    h("h2", { id: "ck-policy-now" }, t("ck.policy_in_force", { version: p.version })),
    h("p", { class: "small muted" }, t("ck.policy_since", { date: fmtDate(p.created_at, true) }), p.note ? " · " + p.note : ""),
    h(
      "dl",
      { class: "facts" },
      [...WEIGHTS, ...CUTOFFS, ...OTHER].map((k) => [h("dt", {}, t("ck.p." + k)), h("dd", {}, fmtNumber(p[k], 2))]),
      h("dt", {}, t("ck.dim_weights")),
      h("dd", {}, DIMENSIONS.map((d) => t("ck.dim." + d) + " " + fmtNumber(p.dimension_weights[d], 2)).join(" · ")),
    ),
  );
}

async function policy(root, ctx) {
  const policies = await api("/api/checkups/policies");
  const now = policies[0] || null;
  const start = now || Object.assign({ dimension_weights: Object.fromEntries(DIMENSIONS.map((d) => [d, 0.2])) }, DEFAULTS);
  const input = (value, { max = 1, step = "0.05" } = {}) => h("input", { type: "number", min: 0, max, step, value: String(value), inputmode: "decimal" });
  const controls = {};
  for (const k of WEIGHTS) controls[k] = input(start[k]);
  for (const k of CUTOFFS) controls[k] = input(start[k], { max: 100, step: "1" });
  for (const k of OTHER) controls[k] = input(start[k], { max: k === "post_attention" ? 100 : 40, step: k === "post_attention" ? "1" : "0.5" });
  const dims = Object.fromEntries(DIMENSIONS.map((d) => [d, input(start.dimension_weights[d])]));
  const noteBox = h("input", { maxlength: 300 });
  const sums = { weights: h("p", { class: "small ck-sum", role: "status" }), dims: h("p", { class: "small ck-sum", role: "status" }) };
  const total = (inputs) => inputs.reduce((a, i) => a + (Number(i.value) || 0), 0);
  const showSums = () => {
    for (const [key, inputs] of [["weights", WEIGHTS.map((k) => controls[k])], ["dims", Object.values(dims)]]) {
      const sum = total(inputs);
      sums[key].textContent = t("ck.sum", { sum: fmtNumber(sum, 2) });
      sums[key].className = "small ck-sum " + (Math.abs(sum - 1) < 1e-6 ? "ok-text" : "error-text");
    }
  };
  [...WEIGHTS.map((k) => controls[k]), ...Object.values(dims)].forEach((i) => i.addEventListener("input", showSums));
  showSums();
  const dimSet = h(
    "fieldset",
    { id: "ck-p-dims", "aria-describedby": "ck-p-dims-error" },
    h("legend", {}, t("ck.dim_weights_legend")),
    h("div", { class: "two" }, DIMENSIONS.map((d) => field("ck-p-dim-" + d, t("ck.dim." + d), dims[d]))),
    sums.dims,
    h("p", { class: "field-error", id: "ck-p-dims-error", hidden: true }),
  );
  const errorsTo = Object.assign({ dimension_weights: dimSet, note: noteBox }, controls);
  const send = h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("ck.policy_save"));
  const form = checkedForm(
    { class: "card" },
    (fail) => {
      Object.values(errorsTo).forEach((c) => setFieldError(c, ""));
      const body = { dimension_weights: Object.fromEntries(DIMENSIONS.map((d) => [d, Number(dims[d].value)])) };
      for (const k of [...WEIGHTS, ...CUTOFFS, ...OTHER]) body[k] = Number(controls[k].value);
      if (noteBox.value.trim()) body.note = noteBox.value.trim();
      return busy(
        send,
        async () => {
          const p = await api("/api/checkups/policies", { method: "POST", json: body });
          toast(t("ck.policy_saved", { version: p.version }), "ok");
          ctx.reload();
        },
        onField(errorsTo, fail),
      );
    },
    h("h2", {}, t("ck.policy_new")),
    h("p", { class: "hint" }, t("ck.policy_hint")),
    h("fieldset", {}, h("legend", {}, t("ck.weights_legend")), h("div", { class: "two" }, WEIGHTS.map((k) => field("ck-p-" + k, t("ck.p." + k), controls[k]))), sums.weights),
    dimSet,
    h("fieldset", {}, h("legend", {}, t("ck.cutoffs_legend")), h("div", { class: "two" }, CUTOFFS.map((k) => field("ck-p-" + k, t("ck.p." + k), controls[k])))),
    h("fieldset", {}, h("legend", {}, t("ck.other_legend")), OTHER.map((k) => field("ck-p-" + k, t("ck.p." + k), controls[k], { hint: t("ck.p_hint." + k) }))),
    field("ck-p-note", t("ck.policy_note"), noteBox),
    send,
  );
  add(
    root,
    h("a", { class: "back", href: "#/checkups" }, icon("back"), t("common.back")),
    heading(t("ck.policy_title")),
    now ? policyCard(now) : note(t("ck.no_policy"), "warn"),
    form,
    policies.length > 1
      ? h(
          "details",
          { class: "card" },
          h("summary", {}, t("ck.policy_history", { n: policies.length })),
          h("ul", { class: "plain" }, policies.map((p) => h("li", { class: "cal-row" }, t("ck.policy_version", { version: p.version }), " · ", fmtDate(p.created_at, true), p.note ? " · " + p.note : ""))),
        )
      : null,
  );
}

export default async function render(root, ctx, [what]) {
  if (what === "policy") return policy(root, ctx);
  return newCampaign(root, ctx);
}
