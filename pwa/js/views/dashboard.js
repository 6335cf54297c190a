// Inspectors, committee and heads: open and overdue by level, unit and topic, on-time rate, true
// rate and the weekly trend, over the warnings in my scope (read page by page from the inbox API).
import { api } from "../api.js";
import { columns, ratioBar, stackedBars, table } from "../charts.js";
import { fmtNumber, fmtPercent, t } from "../i18n.js";
import { add, h, heading, LEVELS, note, segmented } from "../ui.js";
import { lettersLink } from "./linked.js";

const PAGE = 100;
const MAX_ROWS = 5000;
const PERIODS = { 30: "dash.days30", 90: "dash.days90", 365: "dash.days365" };
const DAY = 86400000;

function shanghaiDate(ms) {
  return new Date(ms + 8 * 3600000).toISOString().slice(0, 10);
}

async function scopeWarnings(from, progress) {
  const items = [];
  let total = 0;
  for (let offset = 0; offset < MAX_ROWS; offset += PAGE) {
    const page = await api(`/api/warnings?view=scope&limit=${PAGE}&offset=${offset}&raised_from=${from}`);
    total = page.total;
    items.push(...page.items);
    progress(items.length, total);
    if (items.length >= total || !page.items.length) break;
  }
  return { items, total };
}

function tally(items, key, label) {
  const groups = new Map();
  for (const w of items) {
    const k = key(w);
    const g = groups.get(k) || { ...label(k), high: 0, medium: 0, low: 0, overdue: 0, open: 0 };
    if (w.open) {
      g[w.level] += 1;
      g.open += 1;
    }
    if (w.overdue) g.overdue += 1;
    groups.set(k, g);
  }
  return [...groups.values()].filter((g) => g.open || g.overdue).sort((a, b) => b.open - a.open || b.overdue - a.overdue).slice(0, 10);
}

function weeks(items, days) {
  const n = Math.min(12, Math.max(4, Math.ceil(days / 7)));
  const now = Date.now();
  const out = Array.from({ length: n }, (_, i) => {
    const start = now - (n - i) * 7 * DAY;
    return { start, label: shanghaiDate(start).slice(5).replace("-", "/"), high: 0, medium: 0, low: 0 };
  });
  for (const w of items) {
    const at = Date.parse(w.raised_at);
    const i = Math.floor((at - (now - n * 7 * DAY)) / (7 * DAY));
    if (i >= 0 && i < n) out[i][w.level] += 1;
  }
  return out;
}

/** 9.2.2.2: interviews per true red warning (goal 80 %) and per true orange/yellow one (goal 50 %). */
function interviewRatio(ratio, unitName) {
  if (!ratio) return null;
  const line = (c) => t("dash.iv_line", { n: c.interviewed, of: c.true_warnings, goal: fmtPercent(c.goal) });
  const verdict = (c) =>
    c.met === null ? h("span", { class: "muted" }, "—") : h("span", { class: "chip " + (c.met ? "iv-met" : "iv-short") }, t(c.met ? "dash.iv_met" : "dash.iv_short"));
  const cell = (c) => (c.true_warnings ? [`${c.interviewed}/${c.true_warnings} `, fmtPercent(c.ratio), " ", verdict(c)] : "—");
  const { red, orange_yellow: other } = ratio.total;
  return h(
    "section",
    { class: "card iv-ratio" },
    h("h2", {}, t("dash.iv_title")),
    h("p", { class: "hint" }, t("dash.iv_goals", { red: fmtPercent(red.goal), other: fmtPercent(other.goal) })),
    ratioBar(t("dash.iv_red"), red.ratio, [line(red), " ", verdict(red)], red.goal),
    ratioBar(t("dash.iv_other"), other.ratio, [line(other), " ", verdict(other)], other.goal),
    ratio.units.length
      ? h(
          "div",
          { class: "scroll-x" },
          table(
            [t("dash.iv_unit"), t("dash.iv_red_short"), t("dash.iv_other_short")],
            ratio.units.map((u) => [unitName.get(u.unit_id) || "#" + u.unit_id, cell(u.red), cell(u.orange_yellow)]),
          ),
        )
      : h("p", { class: "muted" }, t("dash.iv_none")),
    h("p", { class: "small" }, h("a", { href: "#/interviews" }, t("iv.title"))),
  );
}

function tile(label, value, cls) {
  return h("div", { class: "tile " + (cls || "") }, h("span", { class: "tile-value" }, value), h("span", { class: "tile-label" }, label));
}

export default async function render(root, ctx, _params, query) {
  const days = PERIODS[query.get("days")] ? Number(query.get("days")) : 90;
  const from = shanghaiDate(Date.now() - days * DAY);
  const status = h("p", { class: "muted small", role: "status" });
  add(root, 
    heading(t("dash.title")),
    segmented(t("dash.period"), Object.entries(PERIODS).map(([d, key]) => [Number(d), t(key)]), days, (d) => ctx.navigate("#/dashboard?days=" + d)),
    status,
  );
  const [{ items, total }, units, topics, onTime, letters, interviews] = await Promise.all([
    scopeWarnings(from, (n, of) => {
      status.textContent = t("dash.loading", { n, total: of });
    }),
    api("/api/units").catch(() => []),
    api("/api/topics").catch(() => []),
    api("/api/warnings/on-time?raised_from=" + from).catch(() => []),
    lettersLink(),
    api("/api/interviews/ratio?raised_from=" + from).catch(() => null),
  ]);
  status.textContent = t("dash.based_on", { n: items.length, from });
  const unitName = new Map(units.map((u) => [u.id, u.name]));
  const topicName = new Map(topics.map((tp) => [tp.code, tp.name]));

  const open = items.filter((w) => w.open);
  const overdue = items.filter((w) => w.overdue);
  const findings = items.filter((w) => w.finding);
  const trueRate = findings.length ? findings.filter((w) => w.finding === "true").length / findings.length : null;
  const sum = (k) => onTime.reduce((a, u) => a + (u[k] || 0), 0);
  const due = sum("answered") + sum("overdue_open");
  const onTimeRate = due ? sum("answered_on_time") / due : null;

  add(root, 
    total > items.length ? note(t("dash.truncated", { n: items.length, total }), "warn") : null,
    letters,
    h(
      "div",
      { class: "tiles" },
      tile(t("dash.open"), fmtNumber(open.length)),
      tile(t("dash.overdue"), fmtNumber(overdue.length), overdue.length ? "bad" : ""),
      tile(t("dash.on_time"), fmtPercent(onTimeRate)),
      tile(t("dash.true_rate"), fmtPercent(trueRate)),
    ),
    h("h2", { class: "sub" }, t("dash.open_by_level")),
    h(
      "div",
      { class: "tiles levels" },
      LEVELS.map((l) =>
        tile(
          t("level." + l),
          fmtNumber(open.filter((w) => w.level === l).length),
          "lv-" + l,
        ),
      ),
    ),
    stackedBars(t("dash.by_unit"), tally(items, (w) => w.unit_id, (id) => ({ label: unitName.get(id) || "#" + id }))),
    stackedBars(t("dash.by_topic"), tally(items, (w) => w.topic_code, (code) => ({ label: code, full: topicName.has(code) ? code + " " + topicName.get(code) : code }))),
    columns(t("dash.trend"), weeks(items, days)),
    onTime.length
      ? h(
          "section",
          { class: "card" },
          h("h2", {}, t("dash.on_time_units")),
          ratioBar(t("dash.on_time"), onTimeRate, t("dash.on_time_hint", { on: sum("answered_on_time"), due })),
          onTime
            .filter((u) => u.raised)
            .sort((a, b) => (a.on_time_rate ?? 2) - (b.on_time_rate ?? 2))
            .slice(0, 10)
            .map((u) => ratioBar(unitName.get(u.unit_id) || "#" + u.unit_id, u.on_time_rate, t("dash.unit_line", { raised: u.raised, answered: u.answered, overdue: u.overdue_open }))),
        )
      : null,
    interviewRatio(interviews, unitName),
  );
}
