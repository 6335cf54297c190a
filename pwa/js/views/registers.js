// The risk registers: the B.1 risk list (each risk point, its posts, controls, and the online topic
// or offline check that watches it) and the B.4 four lists' summary (problem, risk, data and
// psychological lists per risk point), each downloadable as Excel. Topic experts and admins add and
// change risk points here; every change keeps the version before it.
import { api, saveFile } from "../api.js";
import { fmtDate, fmtNumber, maybe, t } from "../i18n.js";
import { add, busy, checkedForm, emptyState, field, h, heading, segmented, setFieldError, toast } from "../ui.js";

const DIMS = ["cognitive", "personality", "stress", "support", "emotion", "mean"];
// the fields an editor fills, in the form's order (B.1 first, then what B.4 adds)
const FIELDS = [
  ["business_item", true, 200],
  ["process_step", false, 200],
  ["posts", false, 200],
  ["risk_point", true, 500],
  ["manifestation", false, 1000],
  ["control_measures", false, 2000],
  ["topic_code", false, 32],
  ["offline_check", false, 500],
  ["owner", false, 120],
  ["inspection_findings", false, 1000],
  ["typical_cases", false, 1000],
  ["power_problems", false, 1000],
  ["units", false, 200],
  ["post_powers", false, 500],
  ["powers", false, 500],
  ["rule_basis", false, 1000],
];

function line(label, value) {
  return value ? h("p", { class: "small" }, h("span", { class: "muted" }, label + "："), value) : null;
}

function watch(r) {
  return r.topic_code ? t("reg.watch_online", { name: r.topic_name || t("reg.topic_unnamed") }) : t("reg.watch_offline", { how: r.offline_check || "—" });
}

function riskCard(r, ctx, editable) {
  return h(
    "li",
    { class: "card reg-point" },
    h("p", { class: "row-between" }, h("strong", {}, r.risk_point), h("span", { class: "chip" }, maybe("specialty." + r.specialty) || t("reg.specialty_other"))),
    line(t("reg.f.business_item"), [r.business_item, r.process_step].filter(Boolean).join(" · ")),
    line(t("reg.f.posts"), r.posts),
    line(t("reg.f.manifestation"), r.manifestation),
    line(t("reg.f.control_measures"), r.control_measures),
    line(t("reg.watch"), watch(r)),
    line(t("reg.f.owner"), r.owner),
    h("p", { class: "small muted" }, t("reg.version", { n: r.version, date: fmtDate(r.updated_at) })),
    editable ? h("details", { class: "reg-edit" }, h("summary", {}, t("reg.edit")), pointForm(ctx, r)) : null,
  );
}

function psychLine(p) {
  if (p.people == null) return h("p", { class: "small muted" }, t("reg.psych_hidden"));
  return h("p", { class: "small" }, t("reg.psych_people", { n: p.people }), " ", DIMS.map((d) => t("reg.dim." + d) + " " + fmtNumber(p[d], 1)).join("；"));
}

function fourCard(row) {
  const r = row.risk;
  const yes = { true: t("reg.yes"), false: t("reg.no") };
  return h(
    "li",
    { class: "card reg-point" },
    h("p", {}, h("strong", {}, r.risk_point)),
    h("h3", { class: "sub" }, t("reg.list.problems")),
    line(t("reg.f.inspection_findings"), r.inspection_findings) || h("p", { class: "small muted" }, t("reg.none_yet")),
    line(t("reg.f.typical_cases"), r.typical_cases),
    line(t("reg.f.power_problems"), r.power_problems),
    h("h3", { class: "sub" }, t("reg.list.risks")),
    line(t("reg.f.posts"), [r.posts, r.units].filter(Boolean).join(" · ")),
    line(t("reg.f.powers"), [r.post_powers, r.powers].filter(Boolean).join(" · ")),
    line(t("reg.has_rules"), r.has_rules == null ? t("reg.unknown") : yes[r.has_rules] + (r.rule_basis ? " · " + r.rule_basis : "")),
    h("h3", { class: "sub" }, t("reg.list.data")),
    line(t("reg.watch"), watch(r)),
    line(t("reg.rule"), row.topic_rule),
    h("h3", { class: "sub" }, t("reg.list.psych")),
    psychLine(row.psych),
  );
}

function pointForm(ctx, r) {
  const controls = {};
  const fields = FIELDS.map(([name, required, max]) => {
    const control = max > 200 ? h("textarea", { rows: 2, maxlength: max }) : h("input", { type: "text", maxlength: max, autocomplete: "off" });
    control.value = (r && r[name]) || "";
    controls[name] = control;
    return field(`reg-${r ? r.id : "new"}-${name}`, t("reg.f." + name), control, { required });
  });
  const specialty = h("select", {}, ["marketing", "finance", "materials", "engineering", "operations", "general"].map((s) => h("option", { value: s, selected: r && r.specialty === s }, maybe("specialty." + s) || s)));
  const code = h("input", { type: "text", maxlength: 32, autocomplete: "off", pattern: "[A-Za-z0-9_.-]{1,32}" });
  const rules = h("select", {}, [["", t("reg.unknown")], ["true", t("reg.yes")], ["false", t("reg.no")]].map(([v, l]) => h("option", { value: v, selected: r && String(r.has_rules) === v }, l)));
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block" }, t(r ? "reg.save" : "reg.add"));
  return checkedForm(
    { class: "reg-form", "aria-label": t(r ? "reg.edit" : "reg.add_title") },
    (fail) => {
      const missing = FIELDS.filter(([n, req]) => req && !controls[n].value.trim()).map(([n]) => controls[n]);
      if (!r && !code.value.trim()) missing.unshift(code);
      for (const c of [code, ...Object.values(controls)]) setFieldError(c, missing.includes(c) ? t("reg.need") : "");
      if (missing.length) return missing[0].focus();
      const json = Object.fromEntries(FIELDS.map(([n]) => [n, controls[n].value.trim()]));
      json.topic_code = json.topic_code || null;
      json.specialty = specialty.value;
      if (rules.value) json.has_rules = rules.value === "true";
      busy(
        submit,
        async () => {
          if (r) await api("/api/registers/risks/" + r.id, { method: "PATCH", json });
          else await api("/api/registers/risks", { method: "POST", json: { ...json, code: code.value.trim() } });
          toast(t("reg.saved"), "ok");
          ctx.reload();
        },
        fail,
      );
    },
    r ? null : field("reg-new-code", t("reg.code"), code, { required: true, hint: t("reg.code_hint") }),
    field(`reg-${r ? r.id : "new"}-specialty`, t("reg.specialty"), specialty),
    fields,
    field(`reg-${r ? r.id : "new"}-has_rules`, t("reg.has_rules"), rules),
    submit,
  );
}

export default async function render(root, ctx, _params, query) {
  const four = query.get("view") === "four";
  const editable = ctx.has("admin", "expert");
  const rows = await api(four ? "/api/registers/four-lists" : "/api/registers/risks");
  const download = (e) => busy(e.currentTarget, () => saveFile(four ? "/api/registers/four-lists/xlsx" : "/api/registers/risks/xlsx", t(four ? "reg.file_b4" : "reg.file_b1")));
  add(
    root,
    heading(t("reg.title")),
    segmented(t("reg.view"), [["risks", t("reg.tab.risks")], ["four", t("reg.tab.four")]], four ? "four" : "risks", (k) => ctx.navigate("#/registers" + (k === "four" ? "?view=four" : ""))),
    h("p", { class: "hint" }, t(four ? "reg.four_hint" : "reg.risks_hint")),
    h("button", { type: "button", class: "btn", onclick: download }, t("reg.download")),
    !four && editable ? h("details", { class: "card reg-edit" }, h("summary", {}, t("reg.add_title")), pointForm(ctx, null)) : null,
    rows.length ? h("ul", { class: "plain" }, four ? rows.map(fourCard) : rows.map((r) => riskCard(r, ctx, editable))) : emptyState(t("reg.none")),
  );
}
