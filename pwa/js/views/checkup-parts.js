// Pieces the check-up screens share: the five dimensions, grade badges and window chips, the
// profile chart (a radar drawn here as SVG, with the numbers as a table), a result's "why", and
// downloads behind the bearer token.
import { request } from "../api.js";
import { figure, table } from "../charts.js";
import { currentLang, fmtDate, fmtNumber, t } from "../i18n.js";
import { h, s } from "../ui.js";

/** In the order of form B.2. */
export const DIMENSIONS = ["cognitive", "personality", "stress", "support", "emotion"];
/** Standard 10.3: the measures that fit each kind of risk (the server checks the same). */
export const CARE_KINDS = {
  psychological: ["talk", "counselling", "group_session"],
  post: ["controls", "education"],
  tenure: ["rotation"],
};

/** The zh or en variant of a bilingual field: pick(q, "text") reads q.text_zh or q.text_en,
 * pick(label) reads label.zh or label.en. */
export function pick(obj, base = "") {
  if (!obj) return "";
  const [zh, en] = base ? [base + "_zh", base + "_en"] : ["zh", "en"];
  return (currentLang() === "en" ? obj[en] : obj[zh]) || obj[zh] || "";
}

export function score(value) {
  return value === null || value === undefined ? "—" : fmtNumber(value, 1);
}

export function gradeBadge(grade) {
  return h("span", { class: "badge ck-grade lv-" + grade }, t("ck.grade." + grade));
}

export function windowChip(window) {
  return h("span", { class: "chip ckw-" + window }, t("ck.window." + window));
}

export function statusChip(status) {
  return h("span", { class: "chip cks-" + status }, t("ck.status." + status));
}

/** A bar for "n of total" (answered questions, submitted people). */
export function meter(label, value, max) {
  return h("progress", { class: "ck-meter", value: String(value), max: String(Math.max(1, max)), "aria-label": label });
}

/** Dimension scores (0–100, higher = more risk) as a radar, with a table of the same numbers. */
export function profileChart(title, dimensions) {
  const W = 400;
  const H = 330;
  const cx = W / 2;
  const cy = 165;
  const R = 108;
  const at = (i, r) => {
    const a = (-90 + i * 72) * (Math.PI / 180);
    return [cx + r * Math.cos(a), cy + r * Math.sin(a)];
  };
  const ring = (r) => DIMENSIONS.map((_, i) => at(i, r).map((v) => v.toFixed(1)).join(",")).join(" ");
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", class: "chart-svg ck-radar" });
  for (const r of [25, 50, 75, 100]) svg.append(s("polygon", { points: ring((R * r) / 100), class: "grid", fill: "none" }));
  DIMENSIONS.forEach((_, i) => {
    const [x, y] = at(i, R);
    svg.append(s("line", { x1: cx, y1: cy, x2: x.toFixed(1), y2: y.toFixed(1), class: "grid" }));
  });
  const value = (d) => Math.max(0, Math.min(100, Number(dimensions[d]) || 0));
  const shape = DIMENSIONS.map((d, i) => at(i, (R * value(d)) / 100).map((v) => v.toFixed(1)).join(",")).join(" ");
  svg.append(s("polygon", { points: shape, class: "ck-shape" }));
  DIMENSIONS.forEach((d, i) => {
    const [x, y] = at(i, (R * value(d)) / 100);
    svg.append(s("circle", { cx: x.toFixed(1), cy: y.toFixed(1), r: 4, class: "ck-dot" }, s("title", {}, `${t("ck.dim." + d)}: ${score(dimensions[d])}`)));
    const [lx, ly] = at(i, R + 16);
    const anchor = Math.abs(lx - cx) < 4 ? "middle" : lx < cx ? "end" : "start";
    const top = i === 0 ? ly - 18 : ly > cy ? ly + 6 : ly - 4;
    svg.append(
      s(
        "text",
        { x: lx.toFixed(1), y: top.toFixed(1), "text-anchor": anchor, class: "axis" },
        s("tspan", { x: lx.toFixed(1) }, t("ck.dim_short." + d)),
        s("tspan", { x: lx.toFixed(1), dy: 16, class: "value" }, score(dimensions[d])),
      ),
    );
  });
  return figure(
    title,
    svg,
    table([t("ck.dimension"), t("ck.score")], DIMENSIONS.map((d) => [t("ck.dim." + d), score(dimensions[d])])),
  );
}

/** "Why this grade": factors, weights and contributions, the cut-offs, the policy version and date. */
export function whyCard(why) {
  const rows = why.factors.map((f) =>
    h("tr", {}, h("th", { scope: "row" }, pick(f, "name")), h("td", {}, score(f.score)), h("td", {}, "× " + fmtNumber(f.weight, 2)), h("td", {}, score(f.contribution))),
  );
  return h(
    "section",
    { class: "card ck-why", "aria-labelledby": "ck-why-title" },
    h("h2", { id: "ck-why-title" }, t("ck.why_title")),
    h(
      "div",
      { class: "scroll-x" },
      h(
        "table",
        { class: "data" },
        h("thead", {}, h("tr", {}, [t("ck.factor"), t("ck.score"), t("ck.weight"), t("ck.contribution")].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, rows),
        h("tfoot", {}, h("tr", {}, h("th", { scope: "row", colspan: "3" }, t("ck.composite")), h("td", {}, h("strong", {}, score(why.composite))))),
      ),
    ),
    h("p", { class: "ck-cutoffs" }, t("ck.cutoffs", { high: fmtNumber(why.composite_high, 1), medium: fmtNumber(why.composite_medium, 1) })),
    h("p", { class: "small" }, t("ck.psych_cutoffs", { score: score(why.psych_score), high: fmtNumber(why.psych_high, 1), medium: fmtNumber(why.psych_medium, 1) })),
    h("p", { class: "small muted" }, t("ck.dim_weights"), " ", DIMENSIONS.map((d) => t("ck.dim." + d) + " " + fmtNumber(why.dimension_weights[d], 2)).join(" · ")),
    h("p", { class: "small" }, pick(why, "text")),
    h("p", { class: "small muted ck-policy" }, t("ck.policy_line", { version: why.policy_version, date: fmtDate(why.policy_date) })),
  );
}

/** A result as its person or their inspector sees it: grades, the chart, the why. */
export function resultView(r) {
  const facts = [
    [t("ck.composite"), score(r.composite)],
    [t("ck.psych_grade"), [gradeBadge(r.psych_grade), " ", score(r.psych_score)]],
    [t("ck.psych_total"), score(r.psych_total)],
    [t("ck.post_risk"), r.post_risk_known ? score(r.post_risk) : t("ck.post_risk_unknown", { value: score(r.post_risk) })],
    [t("ck.tenure"), r.tenure_years === null ? t("ck.tenure_unknown") : t("ck.tenure_years", { n: fmtNumber(r.tenure_years, 1), score: score(r.tenure_score) })],
    [t("ck.graded_at"), fmtDate(r.graded_at, true)],
  ];
  return [
    h(
      "section",
      { class: "card ck-summary" },
      h("p", { class: "ck-headline" }, h("span", {}, t("ck.composite_grade")), gradeBadge(r.composite_grade)),
      r.current ? null : h("p", { class: "alert alert-warn" }, t("ck.superseded", { date: fmtDate(r.superseded_at, true) })),
      h("dl", { class: "facts" }, facts.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
    ),
    profileChart(t("ck.profile_chart"), r.dimensions),
    h("p", { class: "hint" }, t("ck.direction")),
    whyCard(r.why),
  ];
}

/** Save a file the API serves behind the bearer token (B.2 as XLSX). */
export async function download(path, fallbackName) {
  const res = await request(path);
  const blob = await res.blob();
  const disposition = res.headers.get("Content-Disposition") || "";
  const match = disposition.match(/filename\*=UTF-8''([^;]+)/i) || disposition.match(/filename="?([^";]+)"?/i);
  const name = match ? decodeURIComponent(match[1]) : fallbackName;
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  return name;
}

/** A datetime-local value in Beijing time as an ISO string with its offset. */
export function beijing(value) {
  return value ? value + ":00+08:00" : null;
}

/** "YYYY-MM-DDTHH:MM" in Beijing time, days from now (for datetime-local defaults). */
export function beijingInput(days = 0, hhmm = null) {
  const d = new Date(Date.now() + days * 86400000 + 8 * 3600000).toISOString().slice(0, 16);
  return hhmm ? d.slice(0, 11) + hhmm : d;
}
