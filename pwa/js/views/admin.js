// The admin's hub.
import { t } from "../i18n.js";
import { add, h, heading } from "../ui.js";

export default async function render(root, ctx) {
  const links = [
    ["#/admin/topics", "admin.topics", "admin.topics_hint", ["admin", "expert"]],
    ["#/admin/import", "admin.import", "admin.import_hint", ["admin", "expert"]],
    ["#/registers", "reg.title", "reg.link_hint", ["admin", "expert"]],
    ["#/admin/calendar", "admin.calendar", "admin.calendar_hint", ["admin"]],
    ["#/admin/broadcasts", "admin.broadcasts", "admin.broadcasts_hint", ["admin"]],
    ["#/checkups", "ck.title", "ck.admin_hint", ["admin"]],
    ["#/forms", "form.list_title", "form.admin_hint", ["admin", "expert"]],
    ["#/evaluation/setup", "ev.setup.title", "ev.setup.hub_hint", ["admin", "expert"]],
  ].filter(([, , , roles]) => ctx.has(...roles));
  add(root, 
    heading(t("admin.title")),
    h(
      "ul",
      { class: "hub" },
      links.map(([href, title, hint]) => h("li", {}, h("a", { class: "card hub-link", href }, h("strong", {}, t(title)), h("span", { class: "muted" }, t(hint))))),
    ),
  );
}
