// Broadcasts sent and scheduled, newest first; a new one from here.
import { api } from "../api.js";
import { fmtDate, fmtNumber, t } from "../i18n.js";
import { add, emptyState, h, heading, icon } from "../ui.js";

export default async function render(root) {
  const list = await api("/api/broadcasts?limit=50");
  add(root, 
    h("a", { class: "back", href: "#/admin" }, icon("back"), t("common.back")),
    heading(t("bc.title")),
    h("p", {}, h("a", { class: "btn btn-primary", href: "#/admin/broadcasts/new" }, t("bc.new"))),
    list.length
      ? h(
          "ul",
          { class: "plain" },
          list.map((b) =>
            h(
              "li",
              {},
              h(
                "a",
                { class: "card bc-row", href: "#/admin/broadcasts/" + b.id },
                h("strong", {}, b.title),
                h("span", { class: "row-between small" }, h("span", { class: "chip bs-" + b.state }, t("bc_state." + b.state)), h("span", { class: "muted" }, `${fmtDate(b.sent_at || b.send_at || b.created_at, true)} · ${t("bc.recipients", { n: fmtNumber(b.recipients) })}`)),
              ),
            ),
          ),
        )
      : emptyState(t("bc.none")),
  );
}
