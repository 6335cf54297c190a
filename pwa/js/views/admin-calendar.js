// Calendar overrides: declare a day a holiday or a make-up working day; deadlines computed on
// guessed days are recomputed by the server.
import { api } from "../api.js";
import { fmtDate, fmtDay, t } from "../i18n.js";
import { confirmSheet } from "../sheet.js";
import { add, busy, checkedForm, emptyState, field, h, heading, icon, segmented, toast } from "../ui.js";

export default async function render(root, ctx, _params, query) {
  const thisYear = Number(new Date().toISOString().slice(0, 4));
  const year = Number(query.get("year")) || thisYear;
  const overrides = await api("/api/calendar/overrides?year=" + year);
  const day = h("input", { type: "date", required: true, value: `${year}-01-01` });
  const kind = h("select", {}, ["holiday", "workday"].map((k) => h("option", { value: k }, t("calendar." + k))));
  const noteInput = h("input", { maxlength: 120 });
  const addBtn = h("button", { type: "submit", class: "btn btn-primary" }, t("calendar.add"));
  const form = checkedForm(
    { class: "card" },
    (fail) =>
      busy(
        addBtn,
        async () => {
          const change = await api("/api/calendar/overrides", { method: "POST", json: { day: day.value, kind: kind.value, note: noteInput.value.trim() } });
          toast(t("calendar.added", { n: change.deadlines_recomputed }), "ok");
          ctx.navigate("#/admin/calendar?year=" + day.value.slice(0, 4));
        },
        fail,
      ),
    h("h2", {}, t("calendar.new")),
    field("cal-day", t("calendar.day"), day),
    field("cal-kind", t("calendar.kind"), kind),
    field("cal-note", t("calendar.note"), noteInput, { hint: t("calendar.note_hint") }),
    addBtn,
  );
  add(root, 
    h("a", { class: "back", href: "#/admin" }, icon("back"), t("common.back")),
    heading(t("calendar.title")),
    h("p", { class: "hint" }, t("calendar.lead")),
    segmented(t("calendar.year"), [thisYear - 1, thisYear, thisYear + 1, thisYear + 2].map((y) => [y, String(y)]), year, (y) => ctx.navigate("#/admin/calendar?year=" + y)),
    overrides.length
      ? h(
          "ul",
          { class: "plain" },
          overrides.map((o) => {
            const del = h("button", { type: "button", class: "btn btn-quiet", "aria-label": t("calendar.remove_day", { date: fmtDate(o.day) }) }, t("common.remove"));
            del.onclick = async () => {
              const sure = await confirmSheet({
                title: t("calendar.remove_title", { date: fmtDay(o.day) }),
                lines: [t("calendar." + o.kind) + (o.note ? " · " + o.note : ""), t("calendar.remove_effect")],
                confirm: t("common.remove"),
                danger: true,
              });
              if (!sure) return;
              busy(del, async () => {
                const change = await api("/api/calendar/overrides/" + o.day, { method: "DELETE" });
                toast(t("calendar.removed", { n: change.deadlines_recomputed }), "ok");
                ctx.reload();
              });
            };
            return h("li", { class: "row-between cal-row" }, h("span", {}, h("strong", {}, fmtDate(o.day)), " ", h("span", { class: "chip cal-" + o.kind }, t("calendar." + o.kind)), o.note ? " " + o.note : ""), del);
          }),
        )
      : emptyState(t("calendar.none", { year })),
    form,
  );
}
