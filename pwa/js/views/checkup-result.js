// My check-up profile: the five dimensions as a chart, the psychological and composite grades with
// why (factors, weights, cut-offs, the policy's version and date), and care resources.
import { api } from "../api.js";
import { t } from "../i18n.js";
import { add, h, heading, icon } from "../ui.js";
import { pick, resultView } from "./checkup-parts.js";

export default async function render(root, _ctx, [id]) {
  const r = await api("/api/checkups/mine/" + Number(id) + "/result");
  add(
    root,
    h("a", { class: "back", href: "#/checkups" }, icon("back"), t("common.back")),
    heading(t("ck.result_title")),
    h("p", { class: "hint" }, t("ck.result_private")),
    resultView(r),
    h(
      "section",
      { class: "card ck-resources", "aria-labelledby": "ck-res-title" },
      h("h2", { id: "ck-res-title" }, t("ck.resources")),
      r.resources.length
        ? h("ul", { class: "plain" }, r.resources.map((res) => h("li", {}, h("h3", {}, pick(res, "title")), h("p", {}, pick(res, "text")))))
        : h("p", {}, t("ck.resources_none")),
      h("p", { class: "small muted" }, t("ck.resources_always")),
    ),
  );
}
