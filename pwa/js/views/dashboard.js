// Inspectors, committee and heads: the statistics of a week, month, quarter or year in my scope, as
// the server counts them (GET /api/stats: no tally here). Every figure, tile, bar and column is a link
// to the list behind it: the warnings list with the same period and filter.
import { api } from "../api.js";
import { columns, ratioBar, stackedBars, table } from "../charts.js";
import { fmtNumber, fmtPercent, t } from "../i18n.js";
import { add, h, heading, LEVELS, segmented } from "../ui.js";
import { formsLink } from "./forms.js";
import { lettersLink } from "./linked.js";

const KINDS = ["week", "month", "quarter", "year"];
const DAY = 86400000;

function ymd(text) {
  const [y, m, d] = text.split("-").map(Number);
  return { y, m, d, q: Math.floor((m - 1) / 3) + 1 };
}

function today() {
  return new Date(Date.now() + 8 * 3600000).toISOString().slice(0, 10);
}

function addDays(text, days) {
  return new Date(Date.parse(text + "T00:00:00Z") + days * DAY).toISOString().slice(0, 10);
}

/** The period as people name it: 2026年11月, 2026年第4季度, 11月2日—11月8日 … */
export function periodLabel(p) {
  const a = ymd(p.start);
  const b = ymd(p.last_day);
  return t("dash.p." + p.kind, { y: a.y, m: a.m, q: a.q, d: a.d, m2: b.m, d2: b.d, month: t("month." + a.m), month2: t("month." + b.m) });
}

function pointLabel(kind, p) {
  const a = ymd(p.start);
  return t("dash.pt." + kind, { y: a.y, m: a.m, q: a.q, d: a.d, month: t("month." + a.m) });
}

/** The list behind a figure: the warnings of the period with ``filters``, described by ``about``. */
function listOf(p, filters, about) {
  const q = new URLSearchParams({ view: "unit", raised_from: p.start, raised_to: p.last_day, ...filters });
  q.set("about", [periodLabel(p), about].filter(Boolean).join(" · "));
  return "#/warnings?" + q;
}

function tile(label, value, href, { cls = "", extra = null } = {}) {
  return h(
    "a",
    { class: "tile " + cls, href },
    h("span", { class: "tile-value" }, value),
    h("span", { class: "tile-label" }, label),
    extra,
  );
}

/** Against the previous period: "较上期 +3" / "较上期 −2" / "与上期持平". */
function trend(now, before) {
  if (before === null || before === undefined || now === null || now === undefined) return null;
  const diff = now - before;
  const text = diff === 0 ? t("dash.trend_same") : t("dash.trend_diff", { diff: (diff > 0 ? "+" : "−") + fmtNumber(Math.abs(diff)) });
  return h("span", { class: "tile-trend " + (diff > 0 ? "up" : diff < 0 ? "down" : "") }, text);
}

function rows(groups, p, label, filterOf) {
  return groups.slice(0, 10).map((g) => ({
    label: label(g),
    high: g.high,
    medium: g.medium,
    low: g.low,
    overdue: g.overdue,
    href: listOf(p, filterOf(g), label(g)),
  }));
}

function rateSection(title, hint, groups, p, label, filterOf, pick) {
  const shown = groups.filter((g) => pick(g) !== null).slice(0, 10);
  if (!shown.length) return null;
  return h(
    "section",
    { class: "card" },
    h("h2", {}, title),
    shown.map((g) => h("a", { class: "ratio-link", href: listOf(p, filterOf(g), label(g)) }, ratioBar(label(g), pick(g), hint(g)))),
  );
}

function ratioOf(trueWarnings, interviewed, goal) {
  const ratio = trueWarnings ? interviewed / trueWarnings : null;
  return { true_warnings: trueWarnings, interviewed, goal, ratio, met: ratio === null ? null : ratio >= goal };
}

function interviewSection(iv, units, p) {
  const line = (c) => t("dash.iv_line", { n: c.interviewed, of: c.true_warnings, goal: fmtPercent(c.goal) });
  const verdict = (c) =>
    c.met === null ? h("span", { class: "muted" }, "—") : h("span", { class: "chip " + (c.met ? "iv-met" : "iv-short") }, t(c.met ? "dash.iv_met" : "dash.iv_short"));
  const cell = (c) => (c.true_warnings ? [`${c.interviewed}/${c.true_warnings} `, fmtPercent(c.ratio), " ", verdict(c)] : "—");
  const bar = (label, c, filters) =>
    h("a", { class: "ratio-link", href: listOf(p, { finding: "true", ...filters }, label) }, ratioBar(label, c.ratio, [line(c), " ", verdict(c)], c.goal));
  return h(
    "section",
    { class: "card iv-ratio" },
    h("h2", {}, t("dash.iv_title")),
    h("p", { class: "hint" }, t("dash.iv_goals", { red: fmtPercent(iv.red.goal), other: fmtPercent(iv.orange_yellow.goal) })),
    bar(t("dash.iv_red"), iv.red, { level: "high" }),
    bar(t("dash.iv_other"), iv.orange_yellow, {}),
    units.length
      ? h(
          "div",
          { class: "scroll-x" },
          table(
            [t("dash.iv_unit"), t("dash.iv_red_short"), t("dash.iv_other_short")],
            units.map((u) => {
              const red = ratioOf(u.true_red, u.interviewed_red, iv.red.goal);
              const other = ratioOf(u.true_other, u.interviewed_other, iv.orange_yellow.goal);
              return [h("a", { class: "cell-link", href: listOf(p, { unit_id: u.key, finding: "true" }, u.label) }, u.label || t("dash.no_unit")), cell(red), cell(other)];
            }),
          ),
        )
      : h("p", { class: "muted" }, t("dash.iv_none")),
    h("p", { class: "small" }, h("a", { href: "#/interviews" }, t("iv.title"))),
  );
}

function othersSection(body) {
  const parts = [];
  const l = body.linked;
  parts.push(
    h(
      "a",
      { class: "row-link", href: "#/linked" },
      h("span", {}, t("dash.letters")),
      h("strong", {}, t("dash.letters_line", { n: l.letters, answered: l.answered, overdue: l.overdue })),
    ),
  );
  if (body.ladder) {
    for (const tier of body.ladder.tiers) {
      parts.push(h("p", { class: "row-between" }, h("span", {}, t("dash.tier." + tier.tier)), h("strong", {}, t("dash.tier_line", tier))));
    }
  }
  const c = body.checkups;
  if (c) {
    const grades = c.grades
      ? LEVELS.map((g) => t("dash.grade_line", { grade: t("ck.grade." + g), n: c.grades[g] === null ? t("dash.hidden") : fmtNumber(c.grades[g]) })).join("，")
      : t("dash.grades_hidden", { k: c.min_cell });
    parts.push(
      h(
        "a",
        { class: "row-link", href: "#/checkups/campaigns/" + c.campaign_id },
        h("span", {}, c.title),
        h("strong", {}, t("dash.checkup_line", { done: c.submitted, of: c.participants, rate: fmtPercent(c.rate) })),
      ),
      h("p", { class: "small muted" }, grades),
    );
  }
  return h("section", { class: "card others" }, h("h2", {}, t("dash.others")), parts);
}

export default async function render(root, ctx, _params, query) {
  const kind = KINDS.includes(query.get("period")) ? query.get("period") : "month";
  const at = /^\d{4}-\d{2}-\d{2}$/.test(query.get("at") || "") ? query.get("at") : today();
  const go = (k, day) => ctx.navigate(`#/dashboard?period=${k}&at=${day}`);
  const [body, letters, forms] = await Promise.all([api(`/api/stats?period=${kind}&at=${at}`), lettersLink(), formsLink()]);
  const p = body.period;
  const tot = body.totals;
  const before = body.previous_totals;
  const specialty = (g) => (g.key ? t("specialty." + g.key) : t("dash.no_specialty"));
  const named = (fallback) => (g) => g.label || t(fallback);

  add(
    root,
    heading(t("dash.title")),
    segmented(t("dash.period"), KINDS.map((k) => [k, t("dash.kind." + k)]), kind, (k) => go(k, at)),
    h(
      "div",
      { class: "period-nav" },
      h("button", { type: "button", class: "btn period-step", "aria-label": t("dash.prev"), onclick: () => go(kind, addDays(p.start, -1)) }, "‹"),
      h("strong", { class: "period-label" }, periodLabel(p)),
      h("button", { type: "button", class: "btn period-step", "aria-label": t("dash.next"), onclick: () => go(kind, addDays(p.last_day, 1)) }, "›"),
    ),
    forms,
    letters,
    h(
      "div",
      { class: "tiles" },
      tile(t("dash.raised"), fmtNumber(tot.raised), listOf(p, {}, ""), { extra: trend(tot.raised, before.raised) }),
      tile(t("dash.open"), fmtNumber(tot.open), listOf(p, { status: "open" }, t("dash.open")), { extra: trend(tot.open, before.open) }),
      tile(t("dash.overdue"), fmtNumber(tot.overdue), listOf(p, { overdue: "true" }, t("dash.overdue")), { cls: tot.overdue ? "bad" : "", extra: trend(tot.overdue, before.overdue) }),
      tile(t("dash.waiting"), fmtNumber(tot.waiting), listOf(p, { status: "waiting" }, t("dash.waiting"))),
      tile(t("dash.closed"), fmtNumber(tot.closed), listOf(p, { status: "closed" }, t("dash.closed"))),
      tile(t("dash.true_rate"), fmtPercent(tot.true_rate), listOf(p, { finding: "true" }, t("dash.true_list")), {
        extra: h("span", { class: "tile-trend" }, t("dash.true_hint", { n: tot.true, of: tot.decided })),
      }),
      tile(t("dash.on_time"), fmtPercent(tot.on_time_rate), listOf(p, { overdue: "true" }, t("dash.overdue")), {
        extra: h("span", { class: "tile-trend" }, t("dash.on_time_hint", { on: tot.on_time, due: tot.answered + tot.late_open })),
      }),
    ),
    h("h2", { class: "sub" }, t("dash.raised_by_level")),
    h("div", { class: "tiles levels" }, LEVELS.map((l) => tile(t("level." + l), fmtNumber(tot[l]), listOf(p, { level: l }, t("level." + l)), { cls: "lv-" + l }))),
    stackedBars(t("dash.by_unit"), rows(body.by_unit, p, named("dash.no_unit"), (g) => ({ unit_id: g.key }))),
    stackedBars(t("dash.by_topic"), rows(body.by_topic, p, named("warning.untitled"), (g) => ({ topic: g.key }))),
    stackedBars(t("dash.by_specialty"), rows(body.by_specialty, p, specialty, (g) => ({ specialty: g.key }))),
    stackedBars(t("dash.by_post"), rows(body.by_post, p, named("dash.no_post"), (g) => ({ post_id: g.key || "0" }))),
    columns(
      t("dash.series." + kind),
      body.series.map((s) => ({ ...s, label: pointLabel(kind, s), href: listOf({ ...s, kind }, {}, "") })),
    ),
    rateSection(t("dash.true_by_topic"), (g) => t("dash.true_hint", { n: g.true, of: g.decided }), body.by_topic, p, named("warning.untitled"), (g) => ({ topic: g.key, finding: "true" }), (g) => g.true_rate),
    rateSection(t("dash.true_by_unit"), (g) => t("dash.true_hint", { n: g.true, of: g.decided }), body.by_unit, p, named("dash.no_unit"), (g) => ({ unit_id: g.key, finding: "true" }), (g) => g.true_rate),
    rateSection(
      t("dash.on_time_units"),
      (g) => t("dash.unit_line", { raised: g.raised, answered: g.answered, overdue: g.late_open }),
      [...body.by_unit].sort((a, b) => (a.on_time_rate ?? 2) - (b.on_time_rate ?? 2)),
      p,
      named("dash.no_unit"),
      (g) => ({ unit_id: g.key, overdue: "true" }),
      (g) => g.on_time_rate,
    ),
    interviewSection(body.interviews, body.by_unit.filter((u) => u.true_red + u.true_other), p),
    othersSection(body),
    h("a", { class: "card hub-link", href: "#/reports" }, h("strong", {}, t("rep.title")), h("span", { class: "muted" }, t("rep.hint"))),
    h("a", { class: "card hub-link", href: "#/portrait" }, h("strong", {}, t("pt.title")), h("span", { class: "muted" }, t("pt.link_hint"))),
    h("a", { class: "card hub-link", href: "#/registers" }, h("strong", {}, t("reg.title")), h("span", { class: "muted" }, t("reg.link_hint"))),
    h("a", { class: "card hub-link", href: "#/archive" }, h("strong", {}, t("archive.title")), h("span", { class: "muted" }, t("archive.hint"))),
  );
}
