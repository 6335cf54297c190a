// The head's queue: replies submitted by people of my unit, waiting to be confirmed or returned.
// Each card says whose warning it is; replies can be chosen and confirmed together (a sheet says
// what will happen, then the undo bar holds them for a few seconds, see undo.js).
import { api } from "../api.js";
import { currentLang, t } from "../i18n.js";
import { confirmSheet } from "../sheet.js";
import { add, emptyState, h, heading } from "../ui.js";
import { heldIds, holdConfirm } from "../undo.js";
import { warningCard } from "./inbox.js";
import { exportButton } from "../exporting.js";
import { formsLink } from "./forms.js";
import { lettersLink } from "./linked.js";

export default async function render(root, ctx) {
  const [page, letters, forms] = await Promise.all([api("/api/warnings?view=unit&state=submitted&limit=100&lang=" + currentLang()), lettersLink(), formsLink()]);
  const held = heldIds();
  const items = page.items.filter((w) => !held.has(w.id));
  const label = (w) => [w.person_name || "", w.finding ? t("finding." + w.finding) : ""].filter(Boolean).join(" — ");
  const chosen = new Set();
  const batch = h("button", { type: "button", class: "btn btn-primary btn-block batch-confirm", disabled: true });
  const drawBatch = () => {
    batch.disabled = chosen.size === 0;
    batch.textContent = chosen.size ? t("queue.confirm_chosen", { n: chosen.size }) : t("queue.choose_hint");
  };
  batch.onclick = async () => {
    const picked = items.filter((w) => chosen.has(w.id));
    const sure = await confirmSheet({
      title: t("queue.confirm_title", { n: picked.length }),
      lines: picked.map((w) => label(w) + " · " + (w.topic_name || t("warning.untitled"))),
      confirm: t("queue.confirm_chosen", { n: picked.length }),
    });
    if (!sure) return;
    await holdConfirm(
      picked.map((w) => w.id),
      {
        onSent: () => {
          ctx.refreshBadges();
          if (location.hash.startsWith("#/queue")) ctx.reload();
        },
        onUndone: () => ctx.reload(),
      },
    );
    ctx.reload();
  };
  drawBatch();
  const row = (w) => {
    const card = warningCard(w, { person: label(w) });
    const box = h("input", {
      type: "checkbox",
      onchange: (e) => {
        if (e.target.checked) chosen.add(w.id);
        else chosen.delete(w.id);
        drawBatch();
      },
    });
    card.classList.add("pick-row");
    card.prepend(h("label", { class: "pick", "aria-label": t("queue.choose", { who: w.person_name || "", topic: w.topic_name || "" }) }, box));
    return card;
  };
  add(root, 
    heading(t("queue.title")),
    h("p", { class: "muted" }, t("queue.lead", { n: items.length })),
    items.length ? exportButton("replies", { view: "unit", state: "submitted" }) : null,
    items.length ? [h("ul", { class: "wlist" }, items.map(row)), batch] : emptyState(t("queue.empty")),
    h("a", { class: "card hub-link", href: "#/supervision" }, h("strong", {}, t("sv.title")), h("span", { class: "muted" }, t("sv.hub_hint"))),
    forms,
    letters,
    h("a", { class: "card hub-link", href: "#/interviews" }, h("strong", {}, t("iv.title")), h("span", { class: "muted" }, t("iv.hub_hint"))),
  );
}
