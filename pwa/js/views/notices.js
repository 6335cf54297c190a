// What I was told (warnings raised, due, chased, returned, confirmed; check-up calls) and the
// broadcasts sent to me, with read marking.
import { api } from "../api.js";
import { fmtDate, maybe, t } from "../i18n.js";
import { add, busy, emptyState, h, heading, levelBadge, segmented } from "../ui.js";

function target(n) {
  if (n.subject_type === "warning") return "#/warnings/" + n.subject_id;
  if (n.subject_type === "broadcast") return "#/broadcasts/" + n.subject_id;
  if (n.subject_type === "checkup_campaign") return "#/checkups/" + n.subject_id;
  return null;
}

async function markRead(n) {
  if (n.read_at) return;
  if (n.subject_type === "broadcast") await api("/api/broadcasts/" + n.subject_id + "/read", { method: "POST" });
  else await api("/api/notifications/" + n.id + "/read", { method: "POST" });
}

function notificationItem(n, ctx) {
  const href = target(n);
  const label = maybe("notice." + n.kind) || n.kind;
  const open = async (e) => {
    e.preventDefault();
    await markRead(n).catch(() => null);
    ctx.refreshBadges();
    if (href) ctx.navigate(href);
    else ctx.reload();
  };
  return h(
    "li",
    {},
    h(
      "a",
      { href: href || "#/notifications", class: "notice" + (n.read_at ? "" : " unread"), onclick: open },
      n.read_at ? null : h("span", { class: "dot", "aria-label": t("notice.unread") }),
      h(
        "span",
        { class: "notice-main" },
        h("span", { class: "notice-title" }, n.level ? levelBadge(n.level) : null, h("span", {}, label)),
        h(
          "span",
          { class: "notice-meta" },
          h("time", { datetime: n.created_at }, fmtDate(n.created_at, true)),
          n.data && n.data.due_at ? " · " + t("due.on", { date: fmtDate(n.data.due_at) }) : null,
        ),
      ),
    ),
  );
}

export default async function render(root, ctx, _params, query) {
  const tab = query.get("tab") === "broadcasts" ? "broadcasts" : "notifications";
  add(root, 
    heading(t("notices.title")),
    segmented(t("notices.tabs"), [["notifications", t("notices.tab_notifications")], ["broadcasts", t("notices.tab_broadcasts")]], tab, (v) =>
      ctx.navigate("#/notifications" + (v === "broadcasts" ? "?tab=broadcasts" : "")),
    ),
  );
  if (tab === "broadcasts") {
    const [list, unread] = await Promise.all([api("/api/broadcasts?limit=50"), api("/api/notifications?unread=true&limit=100")]);
    const unreadIds = new Set(unread.items.filter((n) => n.subject_type === "broadcast").map((n) => n.subject_id));
    add(root, 
      list.length
        ? h(
            "ul",
            { class: "notices" },
            list.map((b) =>
              h(
                "li",
                {},
                h(
                  "a",
                  { href: "#/broadcasts/" + b.id, class: "notice" + (unreadIds.has(b.id) ? " unread" : "") },
                  unreadIds.has(b.id) ? h("span", { class: "dot", "aria-label": t("notice.unread") }) : null,
                  h(
                    "span",
                    { class: "notice-main" },
                    h("span", { class: "notice-title" }, b.title),
                    h("span", { class: "notice-meta" }, h("time", { datetime: b.sent_at || b.created_at }, fmtDate(b.sent_at || b.created_at, true))),
                  ),
                ),
              ),
            ),
          )
        : emptyState(t("notices.no_broadcasts")),
    );
    return;
  }
  const page = await api("/api/notifications?limit=50");
  const markAll = h("button", { type: "button", class: "btn btn-quiet" }, t("notices.mark_all"));
  markAll.onclick = () =>
    busy(markAll, async () => {
      for (const n of page.items.filter((x) => !x.read_at)) await markRead(n);
      ctx.refreshBadges();
      ctx.reload();
    });
  add(root, 
    h("p", { class: "row-between" }, h("span", { class: "muted" }, t("notices.unread_count", { n: page.unread })), page.unread ? markAll : null),
    page.items.length ? h("ul", { class: "notices" }, page.items.map((n) => notificationItem(n, ctx))) : emptyState(t("notices.none")),
  );
}
