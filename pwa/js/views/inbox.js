// The inbox: warnings colour-coded by level, due dates (provisional marked), overdue highlighted,
// replies still waiting on this phone marked. Heads and inspectors switch to their unit.
import { api, core } from "../api.js";
import { fmtTime, maybe, t } from "../i18n.js";
import { add, dueLine, emptyState, h, heading, levelBadge, LEVELS, note, segmented, stateChip } from "../ui.js";

const PAGE = 20;

export function warningCard(w, { waiting, person } = {}) {
  const specialty = w.specialty ? maybe("specialty." + w.specialty) || w.specialty : "";
  return h(
    "li",
    {},
    h(
      "a",
      { class: "wcard lv-" + w.level + (w.overdue ? " overdue" : ""), href: "#/warnings/" + w.id },
      h("span", { class: "wcard-top" }, levelBadge(w.level), h("span", { class: "topic" }, w.topic_code), specialty ? h("span", { class: "muted" }, specialty) : null, stateChip(w.state)),
      person ? h("span", { class: "wcard-person" }, person) : null,
      h("span", { class: "wcard-object" }, t("warning.object_period", { object: w.object_key, period: w.period_key })),
      h("span", { class: "wcard-bottom" }, dueLine(w), waiting ? h("span", { class: "badge waiting" }, t("outbox.badge")) : null),
    ),
  );
}

export default async function render(root, ctx, _params, query) {
  const supervisor = ctx.has("head", "inspector", "committee");
  const view = supervisor && query.get("view") === "unit" ? "unit" : "mine";
  const level = LEVELS.includes(query.get("level")) ? query.get("level") : "";
  const overdue = query.get("overdue") === "1";
  const params = new URLSearchParams({ view, limit: String(PAGE) });
  if (level) params.set("level", level);
  if (overdue) params.set("overdue", "true");

  const go = (changes) => {
    const next = new URLSearchParams({ view, level, overdue: overdue ? "1" : "" });
    for (const [k, v] of Object.entries(changes)) next.set(k, v);
    for (const [k, v] of [...next.entries()]) if (!v || (k === "view" && v === "mine")) next.delete(k);
    const qs = next.toString();
    ctx.navigate("#/warnings" + (qs ? "?" + qs : ""));
  };

  const page = await api("/api/warnings?" + params);
  const waiting = new Set((await core.outbox.pending(ctx.me.person_id)).map((i) => i.warning_id));
  const list = h("ul", { class: "wlist" }, page.items.map((w) => warningCard(w, { waiting: waiting.has(w.id) })));
  const counts = page.counts;
  const all = counts.high + counts.medium + counts.low;

  add(root, 
    heading(view === "unit" ? t("inbox.title_unit") : t("inbox.title")),
    supervisor ? segmented(t("inbox.view_label"), [["mine", t("inbox.view_mine")], ["unit", t("inbox.view_unit")]], view, (v) => go({ view: v })) : null,
    page.$savedAt ? note(t("status.saved_copy", { time: fmtTime(page.$savedAt) }), "warn") : null,
    h(
      "div",
      { class: "level-tabs", role: "group", "aria-label": t("inbox.level_label") },
      [["", t("inbox.all"), all], ...LEVELS.map((l) => [l, t("level." + l), counts[l]])].map(([value, text, n]) =>
        h(
          "button",
          { type: "button", class: "lt" + (value ? " lv-" + value : ""), "aria-pressed": String(level === value), onclick: () => go({ level: value }) },
          h("span", {}, text),
          h("span", { class: "count" }, String(n)),
        ),
      ),
    ),
    h(
      "label",
      { class: "toggle" },
      h("input", { type: "checkbox", checked: overdue, onchange: (e) => go({ overdue: e.target.checked ? "1" : "" }) }),
      h("span", {}, t("inbox.only_overdue")),
    ),
    page.items.length ? list : emptyState(overdue || level ? t("inbox.empty_filtered") : t("inbox.empty")),
  );

  let offset = page.items.length;
  if (offset < page.total) {
    const more = h("button", { type: "button", class: "btn btn-block" }, t("common.more"));
    more.onclick = async () => {
      more.disabled = true;
      params.set("offset", String(offset));
      const next = await api("/api/warnings?" + params).catch(() => null);
      more.disabled = false;
      if (!next) return;
      for (const w of next.items) list.append(warningCard(w, { waiting: waiting.has(w.id) }));
      offset += next.items.length;
      if (offset >= next.total || !next.items.length) more.remove();
    };
    add(root, more);
  }
}
