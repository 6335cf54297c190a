// 档案 (the archive, 11.2.1): the cases of my scope, by topic, department, person and year; each
// case's whole file downloaded as a PDF, or as a ZIP with the original photos and their hashes.
import { api, saveFile } from "../api.js";
import { currentLang, t } from "../i18n.js";
import { add, busy, emptyState, h, heading, icon, levelBadge, segmented } from "../ui.js";

const PAGE = 20;
/** The kinds of case file, and who reads each (clues are kept apart: inspectors and the committee). */
const KINDS = [
  ["warning", null],
  ["ladder", null],
  ["clue", ["inspector", "committee"]],
  ["problem", null],
];
const TOPIC_LABEL = { warning: "archive.by_topic", ladder: "archive.by_tier", clue: "archive.by_source", problem: "archive.by_source" };
const FILTERS = ["topic", "unit_id", "person_id", "year"];

function picker(name, label, options, current, onPick) {
  const select = h(
    "select",
    { name, onchange: (e) => onPick(e.target.value) },
    h("option", { value: "" }, t("archive.any")),
    options.map(([value, text]) => h("option", { value: String(value), selected: String(value) === current }, text)),
  );
  return h("label", {}, label, select);
}

function itemCard(item) {
  const file = (fmt) =>
    h(
      "button",
      {
        type: "button",
        class: "btn",
        "aria-label": t(fmt === "pdf" ? "archive.pdf_of" : "archive.zip_of", { title: item.title }),
        onclick: (e) => busy(e.currentTarget, () => saveFile(`/api/archive/${item.kind}/${item.case_id}/${fmt}?lang=${currentLang()}`, `${item.title}.${fmt}`)),
      },
      t(fmt === "pdf" ? "archive.pdf" : "archive.zip"),
    );
  return h(
    "li",
    { class: "card archive-item" + (item.level ? " lv-" + item.level : "") },
    h("p", { class: "line" }, item.level ? [levelBadge(item.level), " "] : null, h("strong", {}, item.title)),
    item.kind !== "warning" ? h("p", { class: "line small" }, item.topic) : null,
    h("p", { class: "line small muted" }, [item.person_name, item.unit_name, item.opened_on, item.state].filter(Boolean).join(" · ")),
    h("p", { class: "actions" }, file("pdf"), file("zip")),
  );
}

export default async function render(root, ctx, _params, query) {
  const kinds = KINDS.filter(([, roles]) => !roles || roles.some((r) => ctx.has(r))).map(([k]) => k);
  const kind = kinds.includes(query.get("kind")) ? query.get("kind") : "warning";
  const chosen = Object.fromEntries(FILTERS.map((k) => [k, query.get(k) || ""]));
  const go = (changes) => {
    const next = new URLSearchParams({ kind, ...chosen, ...changes });
    for (const [k, v] of [...next.entries()]) if (!v || (k === "kind" && v === "warning")) next.delete(k);
    const qs = next.toString();
    ctx.navigate("#/archive" + (qs ? "?" + qs : ""));
  };
  const params = new URLSearchParams({ lang: currentLang(), limit: String(PAGE) });
  for (const k of FILTERS) if (chosen[k]) params.set(k, chosen[k]);
  const [facets, page] = await Promise.all([api(`/api/archive/${kind}/facets?lang=${currentLang()}`), api(`/api/archive/${kind}?${params}`)]);
  const list = h("ul", { class: "plain" }, page.items.map(itemCard));
  add(
    root,
    h("a", { class: "back", href: "#/dashboard" }, icon("back"), t("common.back")),
    heading(t("archive.title")),
    h("p", { class: "hint" }, t("archive.lead")),
    segmented(t("archive.kind_label"), kinds.map((k) => [k, t("archive.kind." + k)]), kind, (k) => ctx.navigate("#/archive" + (k === "warning" ? "" : "?kind=" + k))),
    h(
      "div",
      { class: "archive-filters" },
      picker("topic", t(TOPIC_LABEL[kind]), facets.topics.map((f) => [f.value, f.label]), chosen.topic, (v) => go({ topic: v })),
      picker("unit_id", t("archive.by_unit"), facets.units.map((f) => [f.value, f.label]), chosen.unit_id, (v) => go({ unit_id: v })),
      picker("person_id", t("archive.by_person"), facets.people.map((f) => [f.value, f.label]), chosen.person_id, (v) => go({ person_id: v })),
      picker("year", t("archive.by_year"), facets.years.map((y) => [y, t("archive.year", { y })]), chosen.year, (v) => go({ year: v })),
    ),
    h("p", { class: "muted small", role: "status" }, t("archive.total", { n: page.total })),
    page.items.length ? list : emptyState(t("archive.none")),
  );
  let offset = page.items.length;
  if (offset < page.total) {
    const more = h("button", { type: "button", class: "btn btn-block" }, t("common.more"));
    more.onclick = () =>
      busy(more, async () => {
        params.set("offset", String(offset));
        const next = await api(`/api/archive/${kind}?${params}`);
        for (const item of next.items) list.append(itemCard(item));
        offset += next.items.length;
        if (offset >= next.total || !next.items.length) more.remove();
      });
    add(root, more);
  }
}
