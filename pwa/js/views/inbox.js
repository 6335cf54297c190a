// The inbox: 待办 (open, overdue first, then red, orange, yellow, then the nearest deadline) and
// 已办; each card says what the warning is about (the topic's name and instruction), whose it is
// (unit view), and how its deadline stands. Replies still waiting on this phone are marked.
// Heads and inspectors switch to their unit.
import { api, core } from "../api.js";
import { currentLang, fmtPeriod, fmtTime, t } from "../i18n.js";
import { keepDetails, keepPage } from "../kept.js";
import { add, dueLine, emptyState, h, heading, levelBadge, LEVELS, note, segmented, stateChip } from "../ui.js";

const PAGE = 20;

/** The export bar (``exporting.js``), its module fetched after the list shows: not in the first load. */
function exportBar(list, params) {
  const slot = h("div", { class: "export-bar" });
  import("../exporting.js").then((m) => slot.replaceWith(m.exportButton(list, params))).catch(() => slot.remove());
  return slot;
}

export function warningCard(w, { waiting, person } = {}) {
  const whose = person || w.person_name;
  return h(
    "li",
    {},
    h(
      "a",
      { class: "wcard lv-" + w.level + (w.overdue ? " overdue" : ""), href: "#/warnings/" + w.id },
      h("span", { class: "wcard-top" }, levelBadge(w.level), h("span", { class: "topic" }, w.topic_name || t("warning.untitled")), stateChip(w.state)),
      whose ? h("span", { class: "wcard-person" }, whose) : null,
      w.instruction ? h("span", { class: "wcard-instruction" }, w.instruction) : null,
      h("span", { class: "wcard-object" }, t("warning.object_period", { object: w.object_key, period: fmtPeriod(w.period_key) })),
      h("span", { class: "wcard-bottom" }, dueLine(w), waiting ? h("span", { class: "badge waiting" }, t("outbox.badge")) : null),
    ),
  );
}

/** The statistics' drill-down keys: a figure's list is the warnings list with these filters. */
const DRILL = ["raised_from", "raised_to", "topic", "unit_id", "specialty", "post_id", "status", "finding"];
const PASSED = [...DRILL, "level", "overdue"];

/** The list behind a dashboard figure: every warning (open or done) matching its filters, in my units. */
async function drilled(root, ctx, query) {
  const params = new URLSearchParams({ view: "unit", lang: currentLang(), limit: String(PAGE) });
  for (const key of PASSED) if (query.get(key)) params.set(key, query.get(key));
  const page = await api("/api/warnings?" + params);
  const list = h("ul", { class: "wlist" }, page.items.map((w) => warningCard(w)));
  add(
    root,
    heading(t("list.title")),
    query.get("about") ? h("p", { class: "list-about" }, t("list.about", { about: query.get("about") })) : null,
    h("p", { class: "muted small", role: "status" }, t("list.total", { n: page.total })),
    page.total ? exportBar("warnings", params) : null,
    page.items.length ? list : emptyState(t("list.empty")),
  );
  more(root, list, params, page);
  add(root, h("p", { class: "small" }, h("a", { href: "#/warnings" }, t("list.clear"))));
}

function more(root, list, params, page, waiting = new Set()) {
  let offset = page.items.length;
  if (offset >= page.total) return;
  const button = h("button", { type: "button", class: "btn btn-block" }, t("common.more"));
  button.onclick = async () => {
    button.disabled = true;
    params.set("offset", String(offset));
    const next = await api("/api/warnings?" + params).catch(() => null);
    button.disabled = false;
    if (!next) return;
    for (const w of next.items) list.append(warningCard(w, { waiting: waiting.has(w.id) }));
    offset += next.items.length;
    if (offset >= next.total || !next.items.length) button.remove();
  };
  add(root, button);
}

export default async function render(root, ctx, _params, query) {
  if (ctx.has("head", "inspector", "committee") && DRILL.some((k) => query.has(k))) return drilled(root, ctx, query);
  const supervisor = ctx.has("head", "inspector", "committee");
  const view = supervisor && query.get("view") === "unit" ? "unit" : "mine";
  const level = LEVELS.includes(query.get("level")) ? query.get("level") : "";
  const overdue = query.get("overdue") === "1";
  const box = query.get("box") === "done" ? "done" : "todo";
  const params = new URLSearchParams({ view, box, lang: currentLang(), limit: String(PAGE) });
  if (level) params.set("level", level);
  if (overdue) params.set("overdue", "true");

  const go = (changes) => {
    const next = new URLSearchParams({ view, box, level, overdue: overdue ? "1" : "" });
    for (const [k, v] of Object.entries(changes)) next.set(k, v);
    for (const [k, v] of [...next.entries()]) if (!v || (k === "view" && v === "mine") || (k === "box" && v === "todo")) next.delete(k);
    const qs = next.toString();
    ctx.navigate("#/warnings" + (qs ? "?" + qs : ""));
  };

  const page = await api("/api/warnings?" + params);
  const waiting = new Set((await core.outbox.pending(ctx.me.person_id)).map((i) => i.warning_id));
  const list = h("ul", { class: "wlist" }, page.items.map((w) => warningCard(w, { waiting: waiting.has(w.id) })));
  const counts = page.counts;
  const all = counts.high + counts.medium + counts.low;

  add(root, 
    heading(view === "unit" ? t("inbox.title_unit") : t("inbox.title")),
    supervisor ? segmented(t("inbox.view_label"), [["mine", t("inbox.view_mine")], ["unit", t("inbox.view_unit")]], view, (v) => go({ view: v })) : null,
    page.$savedAt ? note(t("status.saved_copy", { time: fmtTime(page.$savedAt) }), "warn") : page.items.length ? exportBar("warnings", params) : null,
    h(
      "div",
      { class: "box-tabs", role: "group", "aria-label": t("inbox.box_label") },
      [["todo", t("inbox.todo"), page.todo], ["done", t("inbox.done"), page.done]].map(([value, text, n]) =>
        h(
          "button",
          { type: "button", class: "bt", "aria-pressed": String(box === value), onclick: () => go({ box: value, level: "", overdue: "" }) },
          h("span", {}, text),
          h("span", { class: "count" }, String(n)),
        ),
      ),
    ),
    box === "todo"
      ? h(
          "div",
          { class: "level-tabs", role: "group", "aria-label": t("inbox.level_label") },
          [["", t("inbox.all"), all], ...LEVELS.map((l) => [l, t("level." + l), counts[l]])].map(([value, text, n]) =>
            h(
              "button",
              { type: "button", class: "lt" + (value ? " lv-" + value : ""), "aria-pressed": String(level === value), onclick: () => go({ level: value }) },
              h("span", {}, text),
              h("span", { class: "count" }, String(n)),
            ),
          ),
        )
      : null,
    box === "todo"
      ? h(
          "label",
          { class: "toggle" },
          h("input", { type: "checkbox", checked: overdue, onchange: (e) => go({ overdue: e.target.checked ? "1" : "" }) }),
          h("span", {}, t("inbox.only_overdue")),
        )
      : null,
    page.items.length ? list : emptyState(box === "done" ? t("inbox.empty_done") : overdue || level ? t("inbox.empty_filtered") : t("inbox.empty")),
  );

  if (view === "mine" && box === "todo" && !page.$savedAt) {
    // the page and its open items kept for offline use, in the background (a failure only means no copy)
    keepPage("/api/warnings?" + params, page).catch(() => null);
    const open = page.items.filter((w) => w.person_id === ctx.me.person_id).map((w) => w.id);
    keepDetails(open, currentLang()).catch(() => 0);
  }

  more(root, list, params, page, waiting);
}
