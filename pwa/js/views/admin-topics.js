// Topics: the library with each topic's state, moving it along its lifecycle, running it now.
import { api } from "../api.js";
import { confirmSheet } from "../sheet.js";
import { errorText, fmtDate, maybe, t } from "../i18n.js";
import { add, busy, emptyState, h, heading, icon, segmented, toast } from "../ui.js";

const STATES = ["proposed", "validating", "online", "retired"];
/** where a topic may go next (the server decides; this only offers the sensible buttons) */
const NEXT = {
  proposed: ["validating", "retired"],
  validating: ["online", "proposed", "retired"],
  online: ["retired", "validating"],
  retired: ["proposed"],
};

function runSummary(run) {
  if (run.status === "queued") return h("p", { class: "muted" }, t("topics.run_queued", { code: run.topic_code }));
  if (run.error) return h("p", { class: "error-text" }, t("topics.run_failed", { code: run.topic_code }), " ", run.error);
  return h(
    "p",
    { class: "ok-text" },
    t("topics.run_done", {
      code: run.topic_code,
      rows: run.rows_scanned,
      high: run.hits_high,
      medium: run.hits_medium,
      low: run.hits_low,
      created: run.warnings_created,
      updated: run.warnings_updated,
      ms: run.duration_ms,
    }),
    run.trial ? " " + t("topics.trial") : "",
  );
}

/** The labels people read for the rule's output columns (set through PATCH /api/topics/{id}). */
function labelList(labels) {
  const entries = Object.entries(labels || {});
  if (!entries.length) return h("p", { class: "small muted" }, t("topics.no_labels"));
  return h(
    "dl",
    { class: "facts small" },
    entries.map(([, l]) => [
      h("dt", {}, l.label),
      h("dd", {}, [l.label_en, l.unit ? t("topics.unit", { unit: maybe("unit_name." + l.unit) || "" }) : null].filter(Boolean).join(" · ")),
    ]),
  );
}

function topicCard(topic, ctx, manage) {
  const out = h("div", { role: "status" });
  const actions = [];
  const runnable = !topic.offline && (topic.state === "online" || topic.state === "validating");
  if (runnable) {
    const run = h("button", { type: "button", class: "btn btn-primary" }, t("topics.run"));
    run.onclick = () =>
      busy(
        run,
        async () => {
          const runs = await api("/api/rules/run", { method: "POST", json: { topics: [topic.code] } });
          out.replaceChildren(...runs.map(runSummary));
        },
        (err) => out.replaceChildren(h("p", { class: "error-text" }, errorText(err))),
      );
    actions.push(run);
  }
  if (manage) {
    const nexts = topic.offline && topic.state === "proposed" ? ["online", "retired"] : NEXT[topic.state] || [];
    for (const to of nexts) {
      const b = h("button", { type: "button", class: "btn" }, t("topics.to_" + to));
      b.onclick = async () => {
        if (to === "retired") {
          const sure = await confirmSheet({ title: t("topics.retire_title"), lines: [topic.name, t("topics.retire_effect")], confirm: t("topics.to_retired"), danger: true });
          if (!sure) return;
        }
        busy(
          b,
          async () => {
            await api("/api/topics/" + topic.id + "/transition", { method: "POST", json: { to } });
            toast(t("topics.moved", { name: topic.name, state: t("topic_state." + to) }), "ok");
            ctx.reload();
          },
          (err) => out.replaceChildren(h("p", { class: "error-text" }, errorText(err))),
        );
      };
      actions.push(b);
    }
  }
  return h(
    "li",
    { class: "card topic" },
    h("p", { class: "row-between" }, h("strong", {}, topic.name), h("span", { class: "chip ts-" + topic.state }, t("topic_state." + topic.state))),
    h(
      "p",
      { class: "muted small" },
      [
        maybe("specialty." + topic.specialty) || topic.specialty,
        "★".repeat(topic.stars) + "☆".repeat(5 - topic.stars),
        topic.offline ? t("topics.offline") : null,
        topic.last_run_at ? t("topics.last_run", { date: fmtDate(topic.last_run_at, true) }) : t("topics.never_run"),
      ]
        .filter(Boolean)
        .join(" · "),
    ),
    topic.risk_point ? h("p", { class: "small" }, topic.risk_point) : null,
    topic.instruction ? h("p", { class: "small instruction" }, topic.instruction) : null,
    labelList(topic.labels),
    actions.length ? h("div", { class: "actions" }, actions) : null,
    out,
  );
}

export default async function render(root, ctx, _params, query) {
  const state = STATES.includes(query.get("state")) ? query.get("state") : "";
  const topics = await api("/api/topics" + (state ? "?state=" + state : ""));
  const manage = ctx.has("admin", "expert");
  const runAll = h("button", { type: "button", class: "btn" }, t("topics.run_all"));
  const out = h("div", { role: "status" });
  runAll.onclick = () =>
    busy(
      runAll,
      async () => {
        const runs = await api("/api/rules/run", { method: "POST", json: { topics: [] } });
        out.replaceChildren(...(runs.length ? runs.map(runSummary) : [h("p", {}, t("topics.none_online"))]));
      },
      (err) => out.replaceChildren(h("p", { class: "error-text" }, errorText(err))),
    );
  add(root, 
    h("a", { class: "back", href: "#/admin" }, icon("back"), t("common.back")),
    heading(t("topics.title")),
    segmented(t("topics.filter"), [["", t("topics.all")], ...STATES.map((s) => [s, t("topic_state." + s)])], state, (v) =>
      ctx.navigate("#/admin/topics" + (v ? "?state=" + v : "")),
    ),
    h("div", { class: "actions" }, runAll),
    out,
    topics.length ? h("ul", { class: "plain topics" }, topics.map((tp) => topicCard(tp, ctx, manage))) : emptyState(t("topics.empty")),
  );
}
