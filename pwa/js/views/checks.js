// High-risk check sheets (高风险问题核查单, B.17): for a red warning found true, the department head
// (or an inspector over the unit) writes the check; the unit's leader adds an opinion; the sheet
// prints as the standard's form. Heads and inspectors only.
import { api, saveFile } from "../api.js";
import { fmtDate, t } from "../i18n.js";
import { add, busy, checkedForm, emptyState, field, h, heading, icon, setFieldError, toast } from "../ui.js";

const FIELDS = ["risk_description", "check_result", "possible_risk", "control_requirements", "head_opinion"];

function sheetCard(sheet) {
  return h(
    "li",
    {},
    h(
      "a",
      { class: "wcard lv-high", href: "#/checks/" + sheet.id },
      h("span", { class: "wcard-top" }, h("span", { class: "topic" }, t("checks.filed_on", { date: fmtDate(sheet.head_opinion_at) }))),
      h("span", { class: "wcard-object" }, sheet.risk_description),
      h("span", { class: "wcard-bottom" }, sheet.unit_opinion ? t("checks.complete") : t("checks.waiting_unit")),
    ),
  );
}

async function list(root) {
  const sheets = await api("/api/check-sheets?limit=100");
  add(
    root,
    h("a", { class: "back", href: "#/queue" }, icon("back"), t("common.back")),
    heading(t("checks.title")),
    h("p", { class: "hint" }, t("checks.lead")),
    sheets.length ? h("ul", { class: "wlist" }, sheets.map(sheetCard)) : emptyState(t("checks.none")),
  );
}

async function create(root, ctx, warningId) {
  const detail = await api("/api/warnings/" + warningId);
  const controls = Object.fromEntries(
    FIELDS.map((name) => {
      const area = h("textarea", { name, rows: name === "head_opinion" ? 3 : 4, maxlength: name === "head_opinion" ? 2000 : 4000 });
      area.addEventListener("input", () => setFieldError(area, ""));
      return [name, area];
    }),
  );
  const submit = h("button", { class: "btn btn-primary btn-block", type: "submit" }, t("checks.submit"));
  const form = checkedForm(
    { class: "card" },
    (fail) => {
      let first = null;
      for (const name of FIELDS) {
        const empty = !controls[name].value.trim();
        setFieldError(controls[name], empty ? t("checks.required") : "");
        if (empty && !first) first = controls[name];
      }
      if (first) {
        first.focus();
        return;
      }
      busy(
        submit,
        async () => {
          const body = Object.fromEntries(FIELDS.map((n) => [n, controls[n].value.trim()]));
          const sheet = await api("/api/check-sheets?warning_id=" + warningId, { method: "POST", json: body });
          toast(t("checks.saved"), "ok");
          ctx.navigate("#/checks/" + sheet.id, true);
        },
        fail,
      );
    },
    FIELDS.map((name) => field("check-" + name, t("checks.f." + name), controls[name], { required: true, hint: t("checks.h." + name) })),
    submit,
  );
  add(
    root,
    h("a", { class: "back", href: "#/warnings/" + warningId }, icon("back"), t("common.back")),
    heading(t("checks.new_title")),
    h("p", { class: "hint" }, t("checks.for_warning", { topic: detail.warning.topic_name || t("checks.warning"), object: detail.warning.object_key })),
    form,
  );
}

function row(label, value) {
  return [h("dt", {}, label), h("dd", { class: "pre" }, value)];
}

async function show(root, ctx, id) {
  const sheet = await api("/api/check-sheets/" + id);
  const [detail, people] = await Promise.all([
    api("/api/warnings/" + sheet.warning_id).catch(() => null),
    Promise.all([sheet.person_id, sheet.head_person_id, sheet.unit_person_id].map((p) => (p ? api("/api/people/" + p).catch(() => null) : null))),
  ]);
  const name = (p) => (p ? p.name : t("checks.someone"));
  const opinion = h("textarea", { rows: 3, maxlength: 2000 });
  opinion.addEventListener("input", () => setFieldError(opinion, ""));
  const give = h("button", { class: "btn btn-primary btn-block", type: "submit" }, t("checks.unit_submit"));
  const mayGive = !sheet.unit_opinion && ![sheet.person_id, sheet.head_person_id].includes(ctx.me.person_id);
  const unitForm = mayGive
    ? checkedForm(
        { class: "card" },
        (fail) => {
          if (!opinion.value.trim()) {
            setFieldError(opinion, t("checks.required"));
            opinion.focus();
            return;
          }
          busy(
            give,
            async () => {
              await api("/api/check-sheets/" + id + "/unit-opinion", { method: "POST", json: { opinion: opinion.value.trim() } });
              toast(t("checks.saved"), "ok");
              ctx.reload();
            },
            fail,
          );
        },
        h("h2", {}, t("checks.f.unit_opinion")),
        field("check-unit-opinion", t("checks.f.unit_opinion"), opinion, { required: true }),
        give,
      )
    : null;
  const pdf = h("button", { type: "button", class: "btn btn-block" }, icon("down"), t("checks.pdf"));
  pdf.onclick = () => busy(pdf, () => saveFile(sheet.pdf_url, "check-sheet-" + sheet.id + ".pdf"));
  add(
    root,
    h("a", { class: "back", href: detail ? "#/warnings/" + sheet.warning_id : "#/checks" }, icon("back"), t("common.back")),
    heading(t("checks.title_one")),
    h(
      "section",
      { class: "card" },
      h(
        "dl",
        { class: "facts" },
        row(t("checks.topic"), (detail && detail.warning.topic_name) || t("checks.warning")),
        row(t("checks.person"), name(people[0])),
        row(t("checks.risk_at"), detail ? fmtDate(detail.warning.raised_at) : ""),
        FIELDS.map((f) => row(t("checks.f." + f), sheet[f])),
        row(t("checks.head"), name(people[1]) + " · " + fmtDate(sheet.head_opinion_at, true)),
        sheet.unit_opinion ? row(t("checks.f.unit_opinion"), sheet.unit_opinion + "\n" + name(people[2]) + " · " + fmtDate(sheet.unit_opinion_at, true)) : null,
      ),
    ),
    unitForm,
    pdf,
  );
}

export default async function render(root, ctx, params, query) {
  if (params[0] === "new") return create(root, ctx, Number(query.get("warning")));
  if (params[0]) return show(root, ctx, params[0]);
  return list(root);
}
