// The problem list (问题清单): the problems of my scope and their effect summed; registering one
// (inspectors) or reporting one of my own unit (heads: 自查上报); a problem's file with its next
// step: classify, assign, measures and due date, done, check, close (销号) with the effect, re-check.
import { api } from "../api.js";
import { fmtDay, fmtNumber, t } from "../i18n.js";
import { add, busy, checkedForm, emptyState, field, h, heading, icon, toast } from "../ui.js";
import { exportButton } from "../exporting.js";
import { caseCard, choice, facts, firstEmpty, select, stateFilter, stepForm, timeline } from "./casefile.js";

const STATES = ["registered", "classified", "assigned", "rectifying", "rectified", "checked", "closed"];
const ORIGINS = ["inspection", "audit", "case", "supervision"];
const CATEGORIES = ["process", "control", "conduct", "finance", "other"];

function card(p) {
  return caseCard("#/problems/" + p.id, p.title, [p.state, t("pb_state." + p.state)], p.unit_name, [
    p.number,
    t("pb.origin." + p.origin),
    p.due_on && p.state === "rectifying" ? t(p.overdue ? "pb.overdue" : "pb.due", { date: fmtDay(p.due_on) }) : null,
  ]);
}

async function list(root, state, ctx) {
  const [problems, effect] = await Promise.all([
    api("/api/problems?limit=100" + (state ? "&state=" + state : "")),
    api("/api/problems/effect"),
  ]);
  add(
    root,
    h("a", { class: "back", href: "#/me" }, icon("back"), t("common.back")),
    heading(t("pb.title")),
    h("section", { class: "card" }, facts([
      [t("pb.effect_total"), fmtNumber(effect.total)],
      [t("pb.effect_closed"), fmtNumber(effect.closed)],
      [t("pb.money_recovered"), t("pb.yuan", { n: fmtNumber(effect.money_recovered, 2) })],
      [t("pb.problems_avoided"), fmtNumber(effect.problems_avoided)],
    ])),
    ctx.has("inspector", "head") ? h("a", { class: "btn btn-primary btn-block", href: "#/problems/new" }, t(ctx.has("inspector") ? "pb.new" : "pb.self_report")) : null,
    stateFilter(t("clue.filter"), [["", t("clue.all")], ...STATES.map((s) => [s, t("pb_state." + s)])], state || "", (value) =>
      ctx.navigate("#/problems" + (value ? "?state=" + value : "")),
    ),
    problems.length ? exportButton("problems", state ? { state } : {}) : null,
    problems.length ? h("ul", { class: "wlist" }, problems.map(card)) : emptyState(t("pb.none")),
  );
}

async function create(root, ctx) {
  const units = await api("/api/units");
  const inspector = ctx.has("inspector");
  const unit = select(units.map((u) => [u.id, u.name]), t("clue.pick_unit"), inspector ? "" : ctx.me.unit_id);
  const origin = inspector ? choice(t("pb.origin"), ORIGINS.map((o) => [o, t("pb.origin." + o)]), "inspection") : null;
  const title = h("input", { type: "text", maxlength: 200 });
  const description = h("textarea", { rows: 5, maxlength: 4000 });
  const save = h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("pb.save"));
  const form = checkedForm(
    { class: "card" },
    (fail) => {
      if (firstEmpty([unit, title, description])) return;
      busy(
        save,
        async () => {
          const json = { unit_id: Number(unit.value), origin: origin ? origin.value : "self_report", title: title.value.trim(), description: description.value.trim() };
          const made = await api("/api/problems", { method: "POST", json });
          toast(t("pb.saved"), "ok");
          ctx.navigate("#/problems/" + made.id, true);
        },
        fail,
      );
    },
    field("pb-unit", t("pb.unit"), unit, { required: true }),
    origin ? h("div", { class: "field" }, h("p", { class: "field-label" }, t("pb.origin")), origin.el) : h("p", { class: "hint" }, t("pb.self_report_hint")),
    field("pb-title", t("pb.problem_title"), title, { required: true }),
    field("pb-description", t("pb.description"), description, { required: true }),
    save,
  );
  add(root, h("a", { class: "back", href: "#/problems" }, icon("back"), t("common.back")), heading(t(inspector ? "pb.new" : "pb.self_report")), form);
}

async function actions(file, ctx) {
  const p = file.problem;
  const common = { ctx, done: t("clue.done"), open: true };
  const path = (step) => `/api/problems/${p.id}/${step}`;
  const area = () => h("textarea", { rows: 3, maxlength: 4000 });
  const [action] = file.actions;
  if (action === "classify") {
    const category = choice(t("pb.category"), CATEGORIES.map((c) => [c, t("pb.category." + c)]), "process");
    return stepForm({ ...common, id: "pb-step", title: t("pb.classify"), controls: [[t("pb.category"), category]], submit: t("pb.classify"), path: path("classify"), body: () => ({ category: category.value }) });
  }
  if (action === "assign") {
    const people = (await api("/api/people?limit=500&unit_id=" + p.unit_id)).items;
    const who = select(people.map((x) => [x.id, x.name + " · " + (x.post_name || "")]), t("pb.assignee"));
    return stepForm({ ...common, id: "pb-step", title: t("pb.assign"), controls: [[t("pb.assignee"), who, true]], submit: t("pb.assign"), path: path("assign"), body: () => ({ assignee_person_id: Number(who.value) }) });
  }
  if (action === "plan") {
    const measures = area();
    const due = h("input", { type: "date" });
    return stepForm({ ...common, id: "pb-step", title: t("pb.plan"), controls: [[t("pb.measures"), measures, true], [t("pb.due_on"), due, true]], submit: t("pb.plan"), path: path("plan"), body: () => ({ measures: measures.value.trim(), due_on: due.value }) });
  }
  if (action === "done") {
    const text = area();
    return stepForm({ ...common, id: "pb-step", title: t("pb.done"), controls: [[t("pb.rectified_text"), text, true]], submit: t("pb.done"), path: path("done"), body: () => ({ text: text.value.trim() }) });
  }
  if (action === "check") {
    const passed = choice(t("pb.check_result"), [["yes", t("pb.passed")], ["no", t("pb.failed")]], "yes");
    const note = area();
    return stepForm({ ...common, id: "pb-step", title: t("pb.check"), controls: [[t("pb.check_result"), passed], [t("pb.check_note"), note, true]], submit: t("pb.check"), path: path("check"), body: () => ({ passed: passed.value === "yes", note: note.value.trim() }) });
  }
  if (action === "close") {
    const money = h("input", { type: "number", min: 0, step: "0.01", value: "0", inputmode: "decimal" });
    const avoided = h("input", { type: "number", min: 0, step: "1", value: "0", inputmode: "numeric" });
    const note = area();
    const recheck = h("input", { type: "date" });
    return stepForm({ ...common, id: "pb-step", title: t("pb.close"), hint: t("pb.close_hint"), controls: [[t("pb.money_recovered"), money], [t("pb.problems_avoided"), avoided], [t("pb.effect_note"), note], [t("pb.recheck_on"), recheck]], submit: t("pb.close"), path: path("close"),
      body: () => ({ money_recovered: Number(money.value || 0), problems_avoided: Number(avoided.value || 0), effect_note: note.value.trim(), recheck_on: recheck.value || null }) });
  }
  if (action === "recheck") {
    const result = choice(t("pb.recheck_result"), [["ok", t("pb.recheck_ok")], ["relapsed", t("pb.relapsed")]], "ok");
    const note = area();
    return stepForm({ ...common, id: "pb-step", title: t("pb.recheck"), controls: [[t("pb.recheck_result"), result], [t("pb.check_note"), note, true]], submit: t("pb.recheck"), path: path("recheck"), body: () => ({ note: note.value.trim(), relapsed: result.value === "relapsed" }) });
  }
  return null;
}

async function detail(root, id, ctx) {
  const file = await api("/api/problems/" + id);
  const p = file.problem;
  add(
    root,
    h("a", { class: "back", href: "#/problems" }, icon("back"), t("common.back")),
    heading(p.title),
    h("p", {}, h("span", { class: "chip is-" + p.state }, t("pb_state." + p.state)), p.category ? h("span", { class: "chip" }, t("pb.category." + p.category)) : null),
    h(
      "section",
      { class: "card" },
      facts([
        [t("clue.number"), p.number],
        [t("pb.unit"), p.unit_name],
        [t("pb.origin"), t("pb.origin." + p.origin)],
        [t("pb.description"), p.description],
        [t("pb.assignee"), p.assignee_name],
        [t("pb.measures"), p.measures],
        [t("pb.due_on"), p.due_on ? fmtDay(p.due_on) : ""],
        [t("pb.rectified_text"), p.rectified_text],
        [t("pb.money_recovered"), p.state === "closed" ? t("pb.yuan", { n: fmtNumber(p.money_recovered, 2) }) : ""],
        [t("pb.problems_avoided"), p.state === "closed" ? fmtNumber(p.problems_avoided) : ""],
        [t("pb.effect_note"), p.effect_note],
        [t("pb.recheck_on"), p.recheck_on ? fmtDay(p.recheck_on) : ""],
      ]),
    ),
    await actions(file, ctx),
    timeline(t("clue.timeline"), file.steps, "pb.step."),
  );
}

export default async function render(root, ctx, params, query) {
  if (params[0] === "new") await create(root, ctx);
  else if (params[0]) await detail(root, params[0], ctx);
  else await list(root, query.get("state"), ctx);
}
