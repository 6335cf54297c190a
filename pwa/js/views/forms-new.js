// Filing a statutory form from the phone: the role that files each one fills its fields and files
// it; the form then goes to its sign-off steps in order (待审批) and opens at its own page.
//   B.5 方案评审单 (a head, an inspector or a topic expert proposes a topic)
//   B.6 风险线索核查表 (an inspector sends risk clues to a department)
//   B.7 规则优化联系单 and B.11 阈值变更申请单 (a department's head)
//   B.8 出库告知单 (the topic expert group)
//   B.9 应用权限申请表 (a department's head asks an account for one of its people)
import { api } from "../api.js";
import { errorText, t } from "../i18n.js";
import { add, busy, checkedForm, field, h, heading, icon, setFieldError, toast } from "../ui.js";

const LEVELS = ["high", "medium", "low"];
const PERIODS = ["daily", "weekly", "monthly"];
const TIERS = ["high", "medium", "low"];
const USERNAME = /^[A-Za-z0-9_.@-]{2,64}$/;

/** Which roles file each form (the API refuses the others). */
export const FILERS = {
  b5: ["head", "inspector", "expert"],
  b6: ["inspector"],
  b7: ["head"],
  b8: ["expert"],
  b9: ["head"],
  b11: ["head"],
};

/** The forms the signed-in user may file, in the standard's order. */
export function fileable(ctx) {
  return Object.keys(FILERS).filter((kind) => ctx.has(...FILERS[kind]));
}

const input = (max, attrs = {}) => h("input", { type: "text", maxlength: max, ...attrs });
const area = (max, rows = 4) => h("textarea", { rows, maxlength: max });
const choose = (options, placeholder) =>
  h("select", {}, placeholder === null ? null : h("option", { value: "" }, placeholder), options.map(([value, text]) => h("option", { value: String(value) }, text)));

async function liveTopics() {
  return (await api("/api/topics")).filter((tp) => tp.current_version && tp.state !== "retired");
}

/** A form's inputs by API field: each with its label, whether it must be filled, and a hint. */
class Fields {
  constructor(kind) {
    this.kind = kind;
    this.items = [];
    this.byName = {};
  }

  add(name, label, control, { required = false, hint } = {}) {
    this.byName[name] = { control, label, required };
    this.items.push(field(`fn-${this.kind}-${name.replace(/\W/g, "-")}`, label, control, { required, hint }));
    return control;
  }

  /** Marks every empty required input; true when all are filled. */
  check() {
    let ok = true;
    for (const { control, label, required } of Object.values(this.byName)) {
      if (!required) continue;
      const empty = !control.value.trim();
      setFieldError(control, empty ? t(control.tagName === "SELECT" ? "fnew.need_pick" : "fnew.need", { field: label }) : "");
      if (empty && ok) {
        control.focus();
        ok = false;
      }
    }
    return ok;
  }

  /** An API refusal shown at the field it names (its own words, or "…填写有误"); false if none. */
  show(err) {
    const named = [];
    if (err && err.body) {
      if (err.body.field) named.push([err.body.field, errorText(err)]);
      for (const e of err.body.errors || []) if (e.field) named.push([e.field, null]);
    }
    let shown = false;
    for (const [path, text] of named) {
      const name = Object.keys(this.byName).find((n) => path === n || path.endsWith("." + n) || path.startsWith(n + "."));
      if (!name) continue;
      const { control, label } = this.byName[name];
      setFieldError(control, text || t("fnew.invalid", { field: label }));
      if (!shown) control.focus();
      shown = true;
    }
    return shown;
  }
}

function bounds(fields, old) {
  const inputs = Object.fromEntries(
    LEVELS.map((lv) => [lv, fields.add("thresholds." + lv, t("fnew.bound." + lv), h("input", { type: "number", inputmode: "decimal", step: "any" }), { hint: old ? t("fnew.keep_hint") : undefined })]),
  );
  return inputs;
}

function thresholdsOf(tp, inputs, { keepIfBlank }) {
  const old = tp.current_version.thresholds;
  const changed = LEVELS.some((lv) => inputs[lv].value !== "");
  if (keepIfBlank && !changed) return null;
  const out = { measure: old.measure, direction: old.direction };
  for (const lv of LEVELS) out[lv] = inputs[lv].value === "" ? (keepIfBlank ? old[lv] ?? null : null) : Number(inputs[lv].value);
  return out;
}

function topicPicker(fields, topics, onPick) {
  const pick = fields.add("topic_id", t("form.field.topic"), choose(topics.map((tp) => [tp.id, tp.name]), t("fnew.choose_topic")), { required: true });
  pick.onchange = () => onPick && onPick(topics.find((tp) => String(tp.id) === pick.value));
  return pick;
}

const BUILD = {
  async b5(fields) {
    const topic = fields.add("topic", t("fnew.b5.topic"), input(500), { required: true });
    const goal = fields.add("goal", t("form.field.goal"), area(2000), { required: true });
    return () => ({ topic: topic.value.trim(), goal: goal.value.trim() });
  },

  async b6(fields) {
    const units = (await api("/api/units")).filter((u) => u.active && u.kind !== "company");
    const unit = fields.add("unit_id", t("fnew.b6.unit"), choose(units.map((u) => [u.id, u.name]), t("clue.pick_unit")), { required: true });
    const list = h("div", { class: "fnew-items" });
    const rows = [];
    const addItem = () => {
      const n = rows.length;
      const tier = choose(TIERS.map((lv) => [t("fnew.tier." + lv), t("fnew.tier." + lv)]), t("fnew.b6.pick_tier"));
      const row = {
        risk_point: fields.add(`items.${n}.risk_point`, t("fnew.b6.risk_point"), input(500), { required: true }),
        tier: fields.add(`items.${n}.tier`, t("fnew.b6.tier"), tier, { required: true }),
        description: fields.add(`items.${n}.description`, t("fnew.b6.description"), area(2000), { required: true }),
        note: fields.add(`items.${n}.note`, t("fnew.b6.note"), input(500)),
      };
      rows.push(row);
      list.append(h("fieldset", { class: "fnew-item" }, h("legend", {}, t("fnew.b6.item", { n: n + 1 })), fields.items.splice(-4)));
      if (rows.length >= 20) more.hidden = true;
      if (n > 0) row.risk_point.focus();
    };
    const more = h("button", { type: "button", class: "btn btn-block" }, t("fnew.b6.more"));
    more.onclick = addItem;
    addItem();
    fields.items.push(list, more);
    return () => ({
      unit_id: Number(unit.value),
      items: rows.map((r) => ({ risk_point: r.risk_point.value.trim(), tier: r.tier.value, description: r.description.value.trim(), note: r.note.value.trim() })),
    });
  },

  async b7(fields) {
    const topics = await liveTopics();
    const now = h("p", { class: "muted small" });
    let chosen = null;
    topicPicker(fields, topics, (tp) => {
      chosen = tp;
      const old = tp ? tp.current_version.thresholds : null;
      now.textContent = old ? t("fnew.current", { high: old.high ?? "—", medium: old.medium ?? "—", low: old.low ?? "—" }) : "";
    });
    fields.items.push(now);
    const reason = fields.add("reason", t("fnew.b7.reason"), area(1000), { required: true });
    const period = fields.add("period", t("form.field.period"), choose(PERIODS.map((p) => [p, t("fnew.period." + p)]), t("fnew.unchanged")));
    const inputs = bounds(fields, true);
    const dims = fields.add("fields", t("form.field.fields"), input(500), { hint: t("fnew.b7.fields_hint") });
    return () => ({
      topic_id: chosen.id,
      reason: reason.value.trim(),
      period: period.value || null,
      thresholds: thresholdsOf(chosen, inputs, { keepIfBlank: true }),
      fields: dims.value.trim(),
    });
  },

  async b8(fields) {
    const [topics, units] = await Promise.all([liveTopics(), api("/api/units")]);
    const pick = topicPicker(fields, topics);
    const departments = units.filter((u) => u.active && u.kind === "department");
    const unit = fields.add("unit_id", t("fnew.b8.unit"), choose(departments.map((u) => [u.id, u.name]), t("clue.pick_unit")), { required: true, hint: t("fnew.b8.unit_hint") });
    const exitOn = fields.add("exit_on", t("form.field.exit_on"), h("input", { type: "date" }), { required: true });
    const reason = fields.add("reason", t("form.field.reason"), area(1000), { required: true });
    return () => ({ topic_id: Number(pick.value), unit_id: Number(unit.value), exit_on: exitOn.value, reason: reason.value.trim() });
  },

  async b9(fields) {
    const employee = fields.add("employee_no", t("fnew.b9.employee_no"), input(32, { autocomplete: "off" }), { required: true, hint: t("fnew.b9.employee_hint") });
    const username = fields.add("username", t("form.field.username"), input(64, { autocomplete: "off", autocapitalize: "none", spellcheck: false }), { required: true, hint: t("fnew.b9.username_hint") });
    const system = fields.add("system", t("form.field.system"), input(120), { hint: t("fnew.b9.system_hint") });
    const permission = fields.add("permission", t("form.field.permission"), input(200), { required: true });
    const reason = fields.add("reason", t("form.field.reason"), area(1000), { required: true });
    fields.extra = () => {
      const bad = username.value.trim() && !USERNAME.test(username.value.trim());
      if (bad) setFieldError(username, t("fnew.b9.bad_username"));
      return !bad;
    };
    return () => ({
      employee_no: employee.value.trim(),
      username: username.value.trim(),
      ...(system.value.trim() ? { system: system.value.trim() } : {}),
      permission: permission.value.trim(),
      reason: reason.value.trim(),
    });
  },

  async b11(fields) {
    const topics = await liveTopics();
    const now = h("p", { class: "muted small" });
    let chosen = null;
    let inputs = null;
    topicPicker(fields, topics.filter((tp) => !tp.offline), (tp) => {
      chosen = tp;
      const old = tp ? tp.current_version.thresholds : null;
      now.textContent = old ? t("fnew.current", { high: old.high ?? "—", medium: old.medium ?? "—", low: old.low ?? "—" }) : "";
      for (const lv of LEVELS) inputs[lv].value = old && old[lv] !== null && old[lv] !== undefined ? String(old[lv]) : "";
    });
    fields.items.push(now);
    inputs = bounds(fields, false);
    const reason = fields.add("reason", t("fnew.reason"), area(1000), { required: true });
    return () => ({ topic_id: chosen.id, thresholds: thresholdsOf(chosen, inputs, { keepIfBlank: false }), reason: reason.value.trim() });
  },
};

export default async function render(root, ctx, [kind]) {
  const fields = new Fields(kind);
  const body = await BUILD[kind](fields);
  const title = t("form.title." + kind);
  const send = h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("fnew.send_kind", { title }));
  const form = checkedForm(
    { class: "card fnew-form", "aria-label": title },
    (fail) => {
      const filled = fields.check();
      if (!(fields.extra ? fields.extra() && filled : filled)) return;
      busy(
        send,
        async () => {
          const filed = await api("/api/forms/" + kind, { method: "POST", json: body() });
          toast(t("fnew.sent"), "ok");
          ctx.refreshBadges && ctx.refreshBadges();
          ctx.navigate("#/forms/" + filed.id);
        },
        (err) => {
          if (!fields.show(err)) fail(err);
        },
      );
    },
    fields.items,
    send,
  );
  add(root, h("a", { class: "back", href: "#/forms" }, icon("back"), t("common.back")), heading(title), h("p", { class: "hint" }, t("fnew.lead." + kind)), form);
}
