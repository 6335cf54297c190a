// One evaluation round (issue 20): each person's score by dimension, rank in the category and the
// unit, the change since the last round, the flags (分析研判提醒), and every score explained (which
// indicators and tags, which coefficients). Heads, inspectors and the committee export it.
import { api, saveFile } from "../api.js";
import { fmtDay, fmtNumber, maybe, t } from "../i18n.js";
import { add, busy, emptyState, h, heading, icon } from "../ui.js";
import { DIMENSIONS, flagChips, signed } from "./evaluation.js";

function explainLine(item) {
  if (item.source === "base") return h("li", {}, t("ev.base_points", { n: fmtNumber(item.points, 2) }));
  const what = item.source === "indicator" ? t("ev.from_data") : t("ev.dim." + item.dimension);
  const label = item.confidential ? t("ev.confidential_item") : item.name;
  const value = fmtNumber(item.value, 2) + (item.unit || (item.source === "tag" ? t("ev.times") : ""));
  return h(
    "li",
    {},
    h("span", { class: "chip" }, what),
    " ",
    label,
    "：",
    t("ev.explain", { value, coefficient: fmtNumber(item.coefficient, 2), direction: t("ev.dir." + item.direction), points: signed(item.points) }),
  );
}

function scoreCard(sc) {
  return h(
    "li",
    { class: "card ev-score" + (sc.flags.length ? " flagged" : "") },
    h(
      "p",
      { class: "wcard-top" },
      h("span", { class: "rank" }, t("ev.rank_short", { n: sc.rank_category })),
      h("a", { href: "#/dossier/" + sc.person_id }, h("strong", {}, sc.person_name)),
      h("span", { class: "muted" }, sc.unit_name),
    ),
    h(
      "p",
      {},
      h("strong", { class: "big" }, fmtNumber(sc.total, 2)),
      " ",
      t("ev.points"),
      sc.change === null ? null : h("span", { class: "muted" }, " · ", t("ev.change", { n: signed(sc.change) })),
      " · ",
      t("ev.rank_in_unit", { rank: sc.rank_unit, of: sc.of_unit }),
    ),
    h("p", {}, flagChips(sc.flags), sc.talk_suggested && !sc.interview_id ? h("span", { class: "chip" }, t("ev.talk_suggested")) : null, sc.interview_id ? h("span", { class: "chip" }, t("ev.talk_recorded")) : null),
    h(
      "dl",
      { class: "ev-dims" },
      [["base", sc.base], ...DIMENSIONS.map((d) => [d, sc[d]])].map(([d, v]) => [h("dt", {}, maybe("ev.dim." + d) || t("ev.base")), h("dd", {}, d === "base" ? fmtNumber(v, 2) : signed(v))]),
    ),
    h("details", {}, h("summary", {}, t("ev.why")), h("ul", { class: "ev-explain" }, sc.explanation.map(explainLine))),
  );
}

export default async function render(root, ctx, [id]) {
  const detail = await api("/api/evaluation/rounds/" + id);
  const r = detail.round;
  const exportButton = ctx.has("head", "inspector", "committee")
    ? h("button", { type: "button", class: "btn btn-block", onclick: (e) => busy(e.currentTarget, () => saveFile("/api/evaluation/rounds/" + id + "/export", `${r.category_name}-${r.name}.xlsx`)) }, t("ev.export"))
    : null;
  add(
    root,
    h("a", { class: "back", href: "#/evaluation" }, icon("back"), t("common.back")),
    heading(r.category_name + " · " + r.name),
    h("p", { class: "hint" }, t("ev.period", { from: fmtDay(r.period_start), to: fmtDay(r.period_end) }), " · ", t("ev.version", { n: r.library_version })),
    exportButton,
    detail.scores.length ? h("ol", { class: "plain" }, detail.scores.map(scoreCard)) : emptyState(t("ev.no_results")),
  );
}
