// Setting up the "1+3" evaluation (issue 20), for those who manage it (the admin and topic
// experts, inspectors, the committee): the business categories with their library version and
// the people evaluated; from here a new category, the next library version, the people evaluated
// and a quarterly or yearly round computed on a library version.
import { api } from "../api.js";
import { fmtDay, t } from "../i18n.js";
import { add, busy, checkedForm, emptyState, field, h, heading, icon, segmented, setFieldError, toast } from "../ui.js";

export const MANAGERS = ["admin", "expert", "inspector", "committee"];
export const SUBJECT_SETTERS = ["admin", "inspector", "committee"];

function categoryCard(c, ctx) {
  return h(
    "li",
    { class: "card ev-category" },
    h("p", { class: "wcard-top" }, h("strong", {}, c.name), h("span", { class: "muted" }, t("ev.version", { n: c.library.version }), " · ", t("ev.setup.subjects_n", { n: c.subjects }))),
    c.description ? h("p", { class: "muted small" }, c.description) : null,
    h(
      "p",
      { class: "ev-setup-actions" },
      h("a", { class: "btn btn-small", href: `#/evaluation/setup/${c.id}/library` }, t("ev.setup.edit_library")),
      ctx.has(...SUBJECT_SETTERS) ? h("a", { class: "btn btn-small", href: `#/evaluation/setup/${c.id}/subjects` }, t("ev.setup.subjects")) : null,
      h("a", { class: "btn btn-small", href: `#/evaluation/setup/${c.id}/round` }, t("ev.setup.open_round")),
    ),
  );
}

async function list(root, ctx) {
  const categories = await api("/api/evaluation/categories");
  add(
    root,
    h("a", { class: "back", href: ctx.has("admin", "expert") && !ctx.has("inspector", "committee") ? "#/admin" : "#/evaluation" }, icon("back"), t("common.back")),
    heading(t("ev.setup.title")),
    h("p", { class: "hint" }, t("ev.setup.lead")),
    h("a", { class: "btn btn-primary btn-block", href: "#/evaluation/setup/new" }, t("ev.setup.new")),
    categories.length ? h("ul", { class: "plain ev-setup" }, categories.map((c) => categoryCard(c, ctx))) : emptyState(t("ev.no_categories")),
  );
}

const QUARTERS = [
  ["01-01", "03-31"],
  ["04-01", "06-30"],
  ["07-01", "09-30"],
  ["10-01", "12-31"],
];

/** The quarter or year just ended (what a round usually covers). */
function lastPeriod() {
  const now = new Date();
  const q = Math.floor(now.getMonth() / 3);
  return q === 0 ? { year: now.getFullYear() - 1, quarter: 4 } : { year: now.getFullYear(), quarter: q };
}

async function roundForm(root, ctx, id) {
  const category = (await api("/api/evaluation/categories")).find((c) => String(c.id) === id);
  const back = h("a", { class: "back", href: "#/evaluation/setup" }, icon("back"), t("common.back"));
  if (!category) {
    add(root, back, heading(t("ev.setup.open_round")), emptyState(t("ev.no_categories")));
    return;
  }
  const start = lastPeriod();
  let kind = "quarter";
  const thisYear = new Date().getFullYear();
  const year = h("select", {}, [thisYear, thisYear - 1, thisYear - 2].map((y) => h("option", { value: y, selected: y === start.year }, t("ev.setup.year_n", { n: y }))));
  const quarter = h("select", {}, [1, 2, 3, 4].map((q) => h("option", { value: q, selected: q === start.quarter }, t("ev.setup.quarter." + q))));
  const quarterField = field("ev-round-quarter", t("ev.setup.quarter_label"), quarter);
  const versions = [];
  for (let v = category.library.version; v >= 1; v -= 1) versions.push(v);
  const version = h("select", {}, versions.map((v) => h("option", { value: v }, t("ev.version", { n: v }) + (v === category.library.version ? t("ev.setup.current") : ""))));
  const name = h("input", { type: "text", maxlength: 120 });
  const period = h("p", { class: "hint", "aria-live": "polite" });
  let touched = false;
  name.addEventListener("input", () => (touched = true));
  const bounds = () => {
    const y = year.value;
    return kind === "year" ? [`${y}-01-01`, `${y}-12-31`] : [`${y}-${QUARTERS[quarter.value - 1][0]}`, `${y}-${QUARTERS[quarter.value - 1][1]}`];
  };
  const refresh = () => {
    quarterField.hidden = kind === "year";
    if (!touched) name.value = kind === "year" ? t("ev.setup.name_year", { y: year.value }) : t("ev.setup.name_quarter", { y: year.value, q: t("ev.setup.quarter." + quarter.value) });
    const [from, to] = bounds();
    period.textContent = t("ev.setup.period_is", { period: t("ev.period", { from: fmtDay(from), to: fmtDay(to) }) });
  };
  year.onchange = refresh;
  quarter.onchange = refresh;
  const kinds = segmented(t("ev.setup.kind"), [["quarter", t("ev.setup.kind_quarter")], ["year", t("ev.setup.kind_year")]], kind, (v) => {
    kind = v;
    kinds.querySelectorAll("button").forEach((b, i) => b.setAttribute("aria-pressed", String(["quarter", "year"][i] === v)));
    refresh();
  });
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("ev.setup.compute"));
  const form = checkedForm(
    { class: "card ev-setup-form" },
    (fail) => {
      if (!name.value.trim()) {
        setFieldError(name, t("ev.setup.name_need"));
        return name.focus();
      }
      const [from, to] = bounds();
      busy(
        submit,
        async () => {
          const made = await api("/api/evaluation/categories/" + id + "/rounds", { method: "POST", json: { name: name.value.trim(), period_start: from, period_end: to, library_version: Number(version.value) } });
          toast(t("ev.setup.computed", { n: made.people }), "ok");
          ctx.navigate("#/evaluation/rounds/" + made.id);
        },
        fail,
      );
    },
    h("div", { class: "field" }, h("p", { class: "label" }, t("ev.setup.kind")), kinds),
    h("div", { class: "ev-def-grid" }, field("ev-round-year", t("ev.setup.year"), year), quarterField),
    period,
    field("ev-round-version", t("ev.setup.library_version"), version, { hint: t("ev.setup.library_version_hint") }),
    field("ev-round-name", t("ev.setup.round_name"), name, { required: true }),
    submit,
  );
  refresh();
  add(root, back, heading(t("ev.setup.round_title", { name: category.name })), h("p", { class: "hint" }, t("ev.setup.round_lead", { n: category.subjects })), form);
}

export default async function render(root, ctx, [id, what]) {
  if (id && what === "round") return roundForm(root, ctx, id);
  return list(root, ctx);
}
