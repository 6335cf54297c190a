// Problem clues (问题线索, B.16) for inspectors and the committee: the list, registering a clue (by
// hand, or from a true warning or a public report), and the file with its next step: triage into
// three levels, the committee's instruction, the handover, the receipt, the outcome; the B.16 PDF.
import { api, saveFile } from "../api.js";
import { fmtDate, fmtDay, t } from "../i18n.js";
import { add, busy, checkedForm, emptyState, field, h, heading, icon, setFieldError, toast } from "../ui.js";
import { exportButton } from "../exporting.js";
import { caseCard, choice, facts, select, stateFilter, stepForm, timeline } from "./casefile.js";

const STATES = ["registered", "triaged", "handed_over", "received", "concluded"];
const SOURCES = ["inspection", "letter", "manual"];
const LEVELS = ["first", "second", "third"];
const OUTCOMES = ["filed", "talk", "shelved", "dismissed"];

function card(c) {
  return caseCard(
    "#/clues/" + c.id,
    c.subject_name || c.unit_name,
    [c.state, t("clue_state." + c.state)],
    c.summary,
    [c.number, t("clue.registered_on", { date: fmtDay(c.registered_at) }), t("clue.source." + c.source), c.level ? t("clue.level." + c.level) : null],
  );
}

async function list(root, state, ctx) {
  const clues = await api("/api/clues?limit=100" + (state ? "&state=" + state : ""));
  add(
    root,
    h("a", { class: "back", href: "#/me" }, icon("back"), t("common.back")),
    heading(t("clue.title")),
    h("p", { class: "hint" }, t("clue.lead")),
    ctx.has("inspector") ? h("a", { class: "btn btn-primary btn-block", href: "#/clues/new" }, t("clue.new")) : null,
    stateFilter(
      t("clue.filter"),
      [["", t("clue.all")], ...STATES.map((s) => [s, t("clue_state." + s)])],
      state || "",
      (value) => ctx.navigate("#/clues" + (value ? "?state=" + value : "")),
    ),
    clues.length ? exportButton("clues", state ? { state } : {}) : null,
    clues.length ? h("ul", { class: "wlist" }, clues.map(card)) : emptyState(t("clue.none")),
  );
}

async function origin(query) {
  if (query.get("warning")) {
    const w = await api("/api/warnings/" + query.get("warning"));
    return { source: "warning", warning_id: w.warning.id, summary: [w.warning.topic_name, w.warning.object_key].filter(Boolean).join("：") };
  }
  if (query.get("intake")) {
    const r = await api("/api/intake/" + query.get("intake"));
    return { source: "public", intake_report_id: r.id, summary: r.body, anonymous: r.anonymous };
  }
  return null;
}

async function create(root, ctx, query) {
  const from = await origin(query);
  const units = await api("/api/units");
  const people = (await api("/api/people?limit=500")).items;
  const letter = h("div", { hidden: true });
  const source = from ? null : choice(t("clue.source"), SOURCES.map((s) => [s, t("clue.source." + s)]), "inspection", (value) => (letter.hidden = value !== "letter"));
  const unit = select(units.map((u) => [u.id, u.name]), t("clue.pick_unit"));
  const person = select(people.map((p) => [p.id, p.name + " · " + (p.unit_name || "")]), t("clue.none_person"));
  const text = (max, value = "") => h("input", { type: "text", maxlength: max, value });
  const subjectName = text(60);
  const rank = text(40);
  const reporter = text(60, from && from.anonymous ? t("clue.anonymous") : "");
  const reporterUnit = text(120);
  const reporterPost = text(60);
  const letterUnit = text(120);
  const letterNo = text(60);
  const nature = text(200);
  const summary = h("textarea", { rows: 5, maxlength: 4000 }, from ? from.summary : "");
  const save = h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("clue.save"));
  const form = checkedForm(
    { class: "card" },
    (fail) => {
      if (!summary.value.trim()) {
        setFieldError(summary, t("common.required"));
        return summary.focus();
      }
      const json = {
        source: from ? from.source : source.value,
        summary: summary.value.trim(),
        subject_name: subjectName.value.trim(),
        subject_rank: rank.value.trim(),
        reporter_name: reporter.value.trim(),
        reporter_unit: reporterUnit.value.trim(),
        reporter_post: reporterPost.value.trim(),
        letter_unit: letterUnit.value.trim(),
        letter_no: letterNo.value.trim(),
        nature: nature.value.trim(),
      };
      if (from && from.warning_id) json.warning_id = from.warning_id;
      if (from && from.intake_report_id) json.intake_report_id = from.intake_report_id;
      if (person.value) json.subject_person_id = Number(person.value);
      else if (unit.value) json.unit_id = Number(unit.value);
      busy(
        save,
        async () => {
          const clue = await api("/api/clues", { method: "POST", json });
          toast(t("clue.saved"), "ok");
          ctx.navigate("#/clues/" + clue.id, true);
        },
        fail,
      );
    },
    from ? h("p", { class: "hint" }, t("clue.source") + "：" + t("clue.source." + from.source)) : h("div", { class: "field" }, h("p", { class: "field-label" }, t("clue.source")), source.el),
    from && from.source === "warning" ? null : [field("clue-person", t("clue.subject_person"), person), field("clue-subject-name", t("clue.subject_name"), subjectName), field("clue-unit", t("clue.unit"), unit)],
    field("clue-rank", t("clue.subject_rank"), rank),
    field("clue-reporter", t("clue.reporter_name"), reporter),
    field("clue-reporter-unit", t("clue.reporter_unit"), reporterUnit),
    field("clue-reporter-post", t("clue.reporter_post"), reporterPost),
    add(letter, field("clue-letter-unit", t("clue.letter_unit"), letterUnit), field("clue-letter-no", t("clue.letter_no"), letterNo)),
    field("clue-nature", t("clue.nature"), nature),
    field("clue-summary", t("clue.summary"), summary, { required: true }),
    save,
  );
  add(root, h("a", { class: "back", href: "#/clues" }, icon("back"), t("common.back")), heading(t("clue.new_title")), form);
}

async function actions(file, ctx) {
  const c = file.clue;
  const path = (step) => `/api/clues/${c.id}/${step}`;
  const out = [];
  const area = (rows = 3) => h("textarea", { rows, maxlength: 2000 });
  if (file.actions.includes("triage")) {
    const level = choice(t("clue.level"), LEVELS.map((l) => [l, t("clue.level." + l)]), "second");
    const proposal = area();
    out.push(stepForm({ id: "clue-triage", title: t("clue.triage"), controls: [[t("clue.level"), level], [t("clue.proposal"), proposal, true]],
      submit: t("clue.triage"), path: path("triage"), body: () => ({ level: level.value, proposal: proposal.value.trim() }), done: t("clue.done"), ctx, open: true }));
  }
  if (file.actions.includes("instruct")) {
    const text = area();
    out.push(stepForm({ id: "clue-instruct", title: t("clue.instruct"), controls: [[t("clue.instruction"), text, true]],
      submit: t("clue.instruct"), path: path("instruct"), body: () => ({ instruction: text.value.trim() }), done: t("clue.done"), ctx, open: !file.actions.includes("receive") }));
  }
  if (file.actions.includes("hand_over")) {
    const receivers = await api(path("receivers"));
    const to = select(receivers.map((r) => [r.person_id, r.name + " · " + r.unit_name]), t("clue.receiver"));
    const note = area(2);
    out.push(stepForm({ id: "clue-hand-over", title: t("clue.hand_over"), controls: [[t("clue.receiver"), to, true], [t("clue.note"), note]],
      submit: t("clue.hand_over"), path: path("hand-over"), body: () => ({ receiver_person_id: Number(to.value), note: note.value.trim() }), done: t("clue.done"), ctx, open: true }));
  }
  if (file.actions.includes("receive")) {
    out.push(stepForm({ id: "clue-receive", title: t("clue.receive"), hint: t("clue.receive_hint"), controls: [],
      submit: t("clue.receive"), path: path("receive"), body: () => ({}), done: t("clue.done"), ctx, open: true }));
  }
  if (file.actions.includes("conclude")) {
    const outcome = choice(t("clue.outcome"), OUTCOMES.map((o) => [o, t("clue.outcome." + o)]), "talk");
    const text = area(4);
    out.push(stepForm({ id: "clue-conclude", title: t("clue.conclude"), controls: [[t("clue.outcome"), outcome], [t("clue.outcome_text"), text, true]],
      submit: t("clue.conclude"), path: path("conclude"), body: () => ({ outcome: outcome.value, text: text.value.trim() }), done: t("clue.done"), ctx, open: true }));
  }
  return out;
}

async function detail(root, id, ctx) {
  const file = await api("/api/clues/" + id);
  const c = file.clue;
  const pdf = h("button", { type: "button", class: "btn btn-block" }, icon("download"), t("clue.pdf"));
  pdf.onclick = () => busy(pdf, () => saveFile(`/api/clues/${c.id}/pdf`, `clue-${c.number}.pdf`));
  const subject = [c.subject_name, c.subject_unit, c.subject_post, c.subject_rank].filter(Boolean).join(" · ");
  const reporter = [c.reporter_name || (c.source === "public" ? t("clue.anonymous") : ""), c.reporter_unit, c.reporter_post].filter(Boolean).join(" · ");
  add(
    root,
    h("a", { class: "back", href: "#/clues" }, icon("back"), t("common.back")),
    heading(c.subject_name || c.unit_name),
    h("p", {}, h("span", { class: "chip is-" + c.state }, t("clue_state." + c.state)), c.level ? h("span", { class: "chip" }, t("clue.level." + c.level)) : null),
    h(
      "section",
      { class: "card" },
      facts([
        [t("clue.number"), c.number],
        [t("clue.source"), t("clue.source." + c.source)],
        [t("clue.unit"), c.unit_name],
        [t("clue.subject"), subject],
        [t("clue.reporter"), reporter],
        [t("clue.letter_unit"), c.letter_unit],
        [t("clue.letter_no"), c.letter_no],
        [t("clue.nature"), c.nature],
        [t("clue.summary"), c.summary],
        [t("clue.proposal"), c.proposal],
        [t("clue.instruction"), c.instruction],
        [t("clue.receiver"), c.receiver_name],
        [t("clue.received_at"), c.received_at ? fmtDate(c.received_at, true) : ""],
        [t("clue.outcome"), c.outcome ? t("clue.outcome." + c.outcome) + "：" + c.outcome_text : ""],
      ]),
      pdf,
    ),
    await actions(file, ctx),
    timeline(t("clue.timeline"), file.steps, "clue.step."),
  );
}

export default async function render(root, ctx, params, query) {
  if (params[0] === "new") await create(root, ctx, query);
  else if (params[0]) await detail(root, params[0], ctx);
  else await list(root, query.get("state"), ctx);
}
