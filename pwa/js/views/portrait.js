// The risk portrait (B.18): departments, posts (风险高发岗位) or people (重点监督人员, inspectors and the
// committee) ranked by their risk score this quarter, each with its trend and the factors that weigh most.
import { api } from "../api.js";
import { fmtNumber, t } from "../i18n.js";
import { add, emptyState, h, heading, segmented } from "../ui.js";

const TRENDS = { rising: "up", falling: "down", steady: "" };

function row(r) {
  const top = [...r.factors].filter((f) => f.contribution > 0).sort((a, b) => b.contribution - a.contribution).slice(0, 3);
  return h(
    "li",
    { class: "card portrait-row" },
    h(
      "p",
      { class: "row-between" },
      h("strong", {}, t("pt.rank", { n: r.rank }), " ", r.label || t("dash.no_unit")),
      h("span", { class: "score" }, fmtNumber(r.score, 1)),
    ),
    h("p", { class: "small tile-trend " + TRENDS[r.trend] }, t("pt.trend." + r.trend, { before: fmtNumber(r.previous_score, 1) })),
    top.length
      ? h("p", { class: "small muted" }, top.map((f) => t("pt.factor_line", { name: t("pt.f." + f.factor), value: fmtNumber(f.value, 1), share: fmtNumber(f.contribution, 1) })).join("；"))
      : null,
  );
}

export default async function render(root, ctx, _params, query) {
  const kinds = ctx.has("inspector", "committee") ? ["unit", "post", "person"] : ["unit", "post"];
  const by = kinds.includes(query.get("by")) ? query.get("by") : "post";
  const at = /^\d{4}-\d{2}-\d{2}$/.test(query.get("at") || "") ? "&at=" + query.get("at") : "";
  const body = await api(`/api/portrait?by=${by}&period=quarter${at}`);
  add(
    root,
    heading(t("pt.title")),
    segmented(t("pt.by"), kinds.map((k) => [k, t("pt.by." + k)]), by, (k) => ctx.navigate("#/portrait?by=" + k + at)),
    h("h2", { class: "sub" }, t("pt.list." + by)),
    h("p", { class: "hint" }, body.missing_factors.length ? t("pt.hint", { missing: body.missing_factors.map((f) => t("pt.f." + f)).join("、") }) : t("pt.hint_all")),
    body.rows.length ? h("ul", { class: "plain" }, body.rows.slice(0, 20).map(row)) : emptyState(t("pt.none")),
  );
}
