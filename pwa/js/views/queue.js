// The head's queue: replies submitted by people of my unit, waiting to be confirmed or returned.
import { api } from "../api.js";
import { currentLang, t } from "../i18n.js";
import { add, emptyState, h, heading } from "../ui.js";
import { warningCard } from "./inbox.js";
import { lettersLink } from "./linked.js";

export default async function render(root) {
  const [page, letters] = await Promise.all([api("/api/warnings?view=unit&state=submitted&limit=100&lang=" + currentLang()), lettersLink()]);
  const ids = [...new Set(page.items.map((w) => w.person_id))];
  const people = Object.fromEntries(
    await Promise.all(ids.map(async (id) => [id, await api("/api/people/" + id).catch(() => null)])),
  );
  const label = (w) => {
    const p = people[w.person_id];
    const who = p ? p.name + (p.unit_name ? " · " + p.unit_name : "") : "";
    return [who, w.finding ? t("finding." + w.finding) : ""].filter(Boolean).join(" — ");
  };
  add(root, 
    heading(t("queue.title")),
    h("p", { class: "muted" }, t("queue.lead", { n: page.total })),
    page.items.length
      ? h("ul", { class: "wlist" }, page.items.map((w) => warningCard(w, { person: label(w) })))
      : emptyState(t("queue.empty")),
    letters,
    h("a", { class: "card hub-link", href: "#/interviews" }, h("strong", {}, t("iv.title")), h("span", { class: "muted" }, t("iv.hub_hint"))),
  );
}
