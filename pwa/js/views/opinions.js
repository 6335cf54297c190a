// Collaborative supervision opinions (协同监督意见书, B.15): inspectors draft and submit them with the
// project group leader's opinion, the committee approves or returns them, inspectors send them to
// the department, its head answers, inspectors follow up; the form as a PDF.
import { api, saveFile } from "../api.js";
import { exportButton } from "../exporting.js";
import { fmtDate, fmtDay, t } from "../i18n.js";
import { add, busy, checkedForm, emptyState, field, h, heading, icon, toast } from "../ui.js";
import { caseCard, choice, facts, firstEmpty, select, stateFilter, stepForm, timeline } from "./casefile.js";

const STATES = ["drafted", "submitted", "approved", "sent", "answered", "closed"];

function card(o) {
  return caseCard("#/opinions/" + o.id, o.unit_name, [o.state, t("op_state." + o.state)], o.problem, [o.number, t("op.drafted_on", { date: fmtDay(o.drafted_at) })]);
}

async function list(root, state, ctx) {
  const opinions = await api("/api/opinions?limit=100" + (state ? "&state=" + state : ""));
  add(
    root,
    h("a", { class: "back", href: "#/me" }, icon("back"), t("common.back")),
    heading(t("op.title")),
    h("p", { class: "hint" }, t("op.lead")),
    ctx.has("inspector") ? h("a", { class: "btn btn-primary btn-block", href: "#/opinions/new" }, t("op.new")) : null,
    stateFilter(t("clue.filter"), [["", t("clue.all")], ...STATES.map((s) => [s, t("op_state." + s)])], state || "", (value) =>
      ctx.navigate("#/opinions" + (value ? "?state=" + value : "")),
    ),
    opinions.length ? exportButton("opinions", state ? { state } : {}) : null,
    opinions.length ? h("ul", { class: "wlist" }, opinions.map(card)) : emptyState(t("op.none")),
  );
}

async function create(root, ctx) {
  const units = await api("/api/units");
  const unit = select(units.map((u) => [u.id, u.name]), t("clue.pick_unit"));
  const problem = h("textarea", { rows: 5, maxlength: 4000 });
  const advice = h("textarea", { rows: 5, maxlength: 4000 });
  const save = h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("op.save"));
  const form = checkedForm(
    { class: "card" },
    (fail) => {
      if (firstEmpty([unit, problem, advice])) return;
      busy(
        save,
        async () => {
          const made = await api("/api/opinions", { method: "POST", json: { unit_id: Number(unit.value), problem: problem.value.trim(), advice: advice.value.trim() } });
          toast(t("op.saved"), "ok");
          ctx.navigate("#/opinions/" + made.id, true);
        },
        fail,
      );
    },
    field("op-unit", t("op.unit"), unit, { required: true }),
    field("op-problem", t("op.problem"), problem, { required: true }),
    field("op-advice", t("op.advice"), advice, { required: true }),
    save,
  );
  add(root, h("a", { class: "back", href: "#/opinions" }, icon("back"), t("common.back")), heading(t("op.new")), form);
}

function actions(file, ctx) {
  const o = file.opinion;
  const common = { ctx, done: t("clue.done") };
  const path = (step) => `/api/opinions/${o.id}/${step}`;
  const text = (key, step, open = true, primary = true) => {
    const area = h("textarea", { rows: 3, maxlength: 4000 });
    return stepForm({ ...common, id: "op-" + step, title: t("op." + step), controls: [[t(key), area, true]], submit: t("op." + step), path: path(step), body: () => ({ text: area.value.trim() }), open, primary });
  };
  const out = [];
  if (file.actions.includes("submit")) out.push(text("op.leader_opinion", "submit"));
  if (file.actions.includes("approve")) out.push(text("op.committee_opinion", "approve"));
  if (file.actions.includes("return")) out.push(text("op.return_reason", "return", false, false));
  if (file.actions.includes("send")) out.push(stepForm({ ...common, id: "op-send", title: t("op.send"), hint: t("op.send_hint"), controls: [], submit: t("op.send"), path: path("send"), body: () => ({}), open: true }));
  if (file.actions.includes("answer")) out.push(text("op.answer", "answer"));
  if (file.actions.includes("follow")) {
    const settled = choice(t("op.follow_result"), [["yes", t("op.settled")], ["no", t("op.not_settled")]], "yes");
    const area = h("textarea", { rows: 3, maxlength: 4000 });
    out.push(stepForm({ ...common, id: "op-follow", title: t("op.follow"), controls: [[t("op.follow_result"), settled], [t("op.follow_up"), area, true]], submit: t("op.follow"), path: path("follow"), body: () => ({ text: area.value.trim(), settled: settled.value === "yes" }), open: true }));
  }
  return out;
}

function signed(text, name, at) {
  return text ? text + "（" + [name, at ? fmtDate(at) : ""].filter(Boolean).join(" ") + "）" : "";
}

async function detail(root, id, ctx) {
  const file = await api("/api/opinions/" + id);
  const o = file.opinion;
  const pdf = h("button", { type: "button", class: "btn btn-block" }, icon("download"), t("op.pdf"));
  pdf.onclick = () => busy(pdf, () => saveFile(`/api/opinions/${o.id}/pdf`, `opinion-${o.number}.pdf`));
  add(
    root,
    h("a", { class: "back", href: "#/opinions" }, icon("back"), t("common.back")),
    heading(t("op.title_of", { unit: o.unit_name })),
    h("p", {}, h("span", { class: "chip is-" + o.state }, t("op_state." + o.state))),
    h(
      "section",
      { class: "card" },
      facts([
        [t("clue.number"), o.number],
        [t("op.unit"), o.unit_name],
        [t("op.problem"), o.problem],
        [t("op.advice"), o.advice],
        [t("op.leader_opinion"), signed(o.leader_opinion, o.leader_name, o.leader_at)],
        [t("op.committee_opinion"), signed(o.committee_opinion, o.committee_name, o.committee_at)],
        [t("op.sent_at"), o.sent_at ? fmtDate(o.sent_at, true) : ""],
        [t("op.answer"), signed(o.answer, o.answered_by_name, o.answered_at)],
        [t("op.follow_up"), o.follow_up],
      ]),
      pdf,
    ),
    actions(file, ctx),
    timeline(t("clue.timeline"), file.steps, "op.step."),
  );
}

export default async function render(root, ctx, params, query) {
  if (params[0] === "new") await create(root, ctx);
  else if (params[0]) await detail(root, params[0], ctx);
  else await list(root, query.get("state"), ctx);
}
