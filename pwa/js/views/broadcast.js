// One broadcast: opening it marks it read.
import { api } from "../api.js";
import { fmtDate, t } from "../i18n.js";
import { add, busy, h, heading, icon, toast } from "../ui.js";

// a lesson: "学习完成" credits its hours once (a second tap says so again, adds nothing)
function lesson(b) {
  const done = h("p", { class: "ok-text" });
  const button = h("button", { type: "button", class: "btn btn-primary" }, t("lesson.mark", { n: b.lesson_hours }));
  button.addEventListener("click", () =>
    busy(button, async () => {
      await api("/api/education/lessons/" + b.id, { method: "POST" });
      done.textContent = t("lesson.done", { n: b.lesson_hours });
      button.hidden = true;
      toast(t("lesson.done", { n: b.lesson_hours }), "ok");
    }),
  );
  return h("section", { class: "card lesson" }, h("p", {}, t("lesson.about", { n: b.lesson_hours })), button, done);
}

function safeLink(link) {
  if (!link) return null;
  // a page of the app only: not "//host" or "/\host" (a browser reads both as another site)
  if (/^\/(?![\/\\])[^\s\\]*$/.test(link)) return link;
  return null;
}

export default async function render(root, ctx, [id]) {
  let b = await api("/api/broadcasts/" + id);
  if (!b.read_at) {
    b = await api("/api/broadcasts/" + id + "/read", { method: "POST" }).catch(() => b);
    ctx.refreshBadges();
  }
  const link = safeLink(b.link);
  add(root, 
    h("a", { class: "back", href: "#/notifications?tab=broadcasts" }, icon("back"), t("common.back")),
    heading(b.title),
    h("p", { class: "muted" }, fmtDate(b.sent_at || b.send_at || b.created_at, true), b.read_at ? " · " + t("notice.read_at", { date: fmtDate(b.read_at, true) }) : null),
    h("div", { class: "card pre broadcast-body" }, b.body),
    b.lesson_hours ? lesson(b) : null,
    link ? h("p", {}, h("a", { href: link, rel: "noopener", target: link.startsWith("/") ? null : "_blank" }, t("broadcast.open_link"))) : null,
    ctx.has("admin") ? h("p", {}, h("a", { class: "btn", href: "#/admin/broadcasts/" + b.id }, t("broadcast.stats"))) : null,
  );
}
