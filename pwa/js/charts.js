// Charts drawn as SVG here (no library): stacked bars by level, weekly columns, a ratio bar.
// Each chart is a <figure> with a caption and the same numbers as a table for screen readers.
import { fmtNumber, fmtPercent, t } from "./i18n.js";
import { h, LEVELS, s } from "./ui.js";

export const LEVEL_COLOURS = { high: "#c62828", medium: "#e8710a", low: "#f2b705" };
let uid = 0;

export function figure(title, svg, table) {
  const id = "chart-" + ++uid;
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-labelledby", id);
  return h(
    "figure",
    { class: "chart card" },
    h("figcaption", { id }, title),
    svg,
    h("details", {}, h("summary", {}, t("chart.table")), table),
  );
}

export function table(head, rows) {
  return h(
    "table",
    { class: "data" },
    h("thead", {}, h("tr", {}, head.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c, i) => (i === 0 ? h("th", { scope: "row" }, c) : h("td", {}, c)))))),
  );
}

/** A row's label, as a link to the list behind it when there is one. */
function linkTo(label, href) {
  return href ? h("a", { href, class: "cell-link" }, label) : label;
}

function legend() {
  return h(
    "p",
    { class: "legend" },
    LEVELS.map((l) => h("span", {}, h("i", { style: "background:" + LEVEL_COLOURS[l] }), t("level." + l))),
  );
}

function short(label, max = 8) {
  return label.length > max ? label.slice(0, max - 1) + "…" : label;
}

/** rows: [{label, full?, high, medium, low, overdue, href?}] as horizontal stacked bars by level; a row
 * with ``href`` links to the list behind it. */
export function stackedBars(title, rows) {
  const W = 360;
  const left = 124;
  const right = 60;
  // a row that is a link is a touch target: 48 units high (about 44 px on a phone)
  const linked = rows.some((r) => r.href);
  const bar = 22;
  const gap = linked ? 28 : 12;
  const H = Math.max(1, rows.length) * (bar + gap) + 8;
  const max = Math.max(1, ...rows.map((r) => r.high + r.medium + r.low));
  const scale = (W - left - right) / max;
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", preserveAspectRatio: "xMinYMin meet", class: "chart-svg" });
  rows.forEach((r, i) => {
    const y = 4 + i * (bar + gap);
    const named = `${r.full || r.label}: ${r.high + r.medium + r.low}`;
    const group = r.href ? s("a", { href: r.href, class: "bar-link", "aria-label": named }, s("rect", { x: 0, y: y - gap / 2, width: W, height: bar + gap, class: "hit" })) : svg;
    group.append(s("text", { x: left - 6, y: y + bar / 2 + 4, "text-anchor": "end", class: "axis" }, s("title", {}, r.full || r.label), short(r.label)));
    let x = left;
    for (const l of LEVELS) {
      const w = r[l] * scale;
      if (w > 0) group.append(s("rect", { x, y, width: w, height: bar, fill: LEVEL_COLOURS[l] }, s("title", {}, `${r.label} · ${t("level." + l)}: ${r[l]}`)));
      x += w;
    }
    const total = r.high + r.medium + r.low;
    group.append(s("text", { x: x + 4, y: y + bar / 2 + 4, class: "value" }, String(total) + (r.overdue ? ` (${r.overdue}!)` : "")));
    if (group !== svg) svg.append(group);
  });
  const fig = figure(
    title,
    svg,
    table(
      ["", ...LEVELS.map((l) => t("level." + l)), t("dash.overdue")],
      rows.map((r) => [linkTo(r.full || r.label, r.href), r.high, r.medium, r.low, r.overdue]),
    ),
  );
  fig.insertBefore(legend(), fig.querySelector("details"));
  return fig;
}

/** weeks: [{label, high, medium, low, href?}] as stacked columns, oldest first (linked like rows). */
export function columns(title, weeks) {
  const W = 360;
  const H = 190;
  const bottom = 26;
  const top = 14;
  const left = 32;
  const max = Math.max(1, ...weeks.map((w) => w.high + w.medium + w.low));
  const step = (W - left - 4) / Math.max(1, weeks.length);
  const bw = Math.max(4, step * 0.7);
  const scale = (H - bottom - top) / max;
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", class: "chart-svg" });
  for (const v of [0, max]) {
    const y = H - bottom - v * scale;
    svg.append(s("line", { x1: left, x2: W, y1: y, y2: y, class: "grid" }), s("text", { x: left - 4, y: y + 4, "text-anchor": "end", class: "axis" }, fmtNumber(v)));
  }
  weeks.forEach((w, i) => {
    const x = left + i * step + (step - bw) / 2;
    let y = H - bottom;
    const hit = s("rect", { x: left + i * step, y: 0, width: step, height: H, class: "hit" });
    const named = `${w.label}: ${w.high + w.medium + w.low}`;
    const group = w.href ? s("a", { href: w.href, class: "bar-link", "aria-label": named }, hit) : svg;
    if (group !== svg) svg.append(group);
    for (const l of LEVELS) {
      const hgt = w[l] * scale;
      if (hgt > 0) {
        y -= hgt;
        group.append(s("rect", { x, y, width: bw, height: hgt, fill: LEVEL_COLOURS[l] }, s("title", {}, `${w.label} · ${t("level." + l)}: ${w[l]}`)));
      }
    }
    if (i % 2 === weeks.length % 2 || weeks.length < 7) {
      svg.append(s("text", { x: x + bw / 2, y: H - 8, "text-anchor": "middle", class: "axis" }, w.label));
    }
  });
  const fig = figure(
    title,
    svg,
    table(["", ...LEVELS.map((l) => t("level." + l))], weeks.map((w) => [linkTo(w.label, w.href), w.high, w.medium, w.low])),
  );
  fig.insertBefore(legend(), fig.querySelector("details"));
  return fig;
}

/** A ratio as a bar with its percentage (on-time rate, read rate); a goal, when given, as a mark. */
export function ratioBar(label, ratio, detail, goal) {
  const pct = ratio === null || ratio === undefined ? 0 : Math.max(0, Math.min(1, ratio));
  const short = goal !== undefined && ratio !== null && ratio !== undefined && ratio < goal;
  const svg = s(
    "svg",
    { viewBox: "0 0 300 16", width: "100%", height: 16, class: "ratio", "aria-hidden": "true", preserveAspectRatio: "none" },
    s("rect", { x: 0, y: 0, width: 300, height: 16, rx: 8, class: "ratio-bg" }),
    s("rect", { x: 0, y: 0, width: 300 * pct, height: 16, rx: 8, class: "ratio-fg" + (short ? " short" : "") }),
    goal !== undefined ? s("rect", { x: 300 * goal - 1.5, y: 0, width: 3, height: 16, class: "ratio-goal" }) : null,
  );
  return h("div", { class: "ratio-box" }, h("p", { class: "row-between" }, h("span", {}, label), h("strong", {}, fmtPercent(ratio))), svg, detail ? h("p", { class: "small muted" }, detail) : null);
}
