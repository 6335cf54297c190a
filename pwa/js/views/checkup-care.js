// Care measures (廉洁关爱, standard 10.3): the open and overdue ones assigned to me or, for
// inspectors, in my scope; recording the outcome closes a measure.
import { api } from "../api.js";
import { fmtDate, t } from "../i18n.js";
import { add, busy, checkedForm, emptyState, field, h, heading, icon, segmented, setFieldError, toast } from "../ui.js";

const SHOW = ["open", "overdue", "all"];

export function careCard(c, ctx) {
  const open = c.status === "open";
  return h(
    "li",
    { class: "card ck-care" + (c.overdue ? " is-overdue" : "") },
    h(
      "p",
      { class: "row-between" },
      h("strong", {}, t("ck.kind." + c.kind)),
      h("span", {}, h("span", { class: "chip ckc-" + c.status }, t("ck.care_status." + c.status)), c.overdue ? h("span", { class: "badge overdue" }, t("due.overdue")) : null),
    ),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, t("ck.care_person")),
      h("dd", {}, c.person_name || "#" + c.person_id),
      h("dt", {}, t("ck.risk_type")),
      h("dd", {}, t("ck.risk." + c.risk_type)),
      h("dt", {}, t("ck.assignee")),
      h("dd", {}, c.assignee_name || "#" + c.assignee_person_id),
      h("dt", {}, t("ck.due_date")),
      h("dd", { class: c.overdue ? "due is-overdue" : null }, fmtDate(c.due_date)),
      c.note ? [h("dt", {}, t("ck.care_note")), h("dd", { class: "pre" }, c.note)] : null,
      c.outcome ? [h("dt", {}, t("ck.outcome")), h("dd", { class: "pre" }, c.outcome)] : null,
      c.closed_at ? [h("dt", {}, t("ck.closed_at")), h("dd", {}, fmtDate(c.closed_at, true))] : null,
    ),
    open ? outcomeForm(c, ctx) : null,
  );
}

function outcomeForm(c, ctx) {
  const text = h("textarea", { rows: 3, maxlength: 2000 });
  const choices = ["done", "cancelled"].map((value) =>
    h("label", { class: "choice" }, h("input", { type: "radio", name: "ck-outcome-" + c.id, value, checked: value === "done" }), h("span", {}, t("ck.care_status." + value))),
  );
  const send = h("button", { type: "submit", class: "btn btn-primary" }, t("ck.record_outcome"));
  const form = checkedForm(
    {},
    (fail) => {
      setFieldError(text, text.value.trim().length >= 2 ? "" : t("ck.need_outcome"));
      if (text.value.trim().length < 2) return text.focus();
      const status = choices.map((l) => l.querySelector("input")).find((i) => i.checked).value;
      return busy(
        send,
        async () => {
          await api("/api/checkups/care/" + c.id + "/outcome", { method: "POST", json: { status, outcome: text.value.trim() } });
          toast(t("ck.outcome_saved"), "ok");
          ctx.reload();
        },
        fail,
      );
    },
    h("fieldset", { class: "choices row" }, h("legend", {}, t("ck.outcome_status")), choices),
    field("ck-outcome-" + c.id, t("ck.outcome"), text, { required: true }),
    send,
  );
  return h("details", {}, h("summary", {}, t("ck.record_outcome")), form);
}

export default async function render(root, ctx, _params, query) {
  const show = SHOW.includes(query.get("show")) ? query.get("show") : "open";
  const items = await api("/api/checkups/care" + (show === "all" ? "" : "?status=open"));
  const shown = show === "overdue" ? items.filter((c) => c.overdue) : items;
  add(
    root,
    h("a", { class: "back", href: "#/checkups" }, icon("back"), t("common.back")),
    heading(t("ck.care_title")),
    h("p", { class: "hint" }, t("ck.care_lead")),
    segmented(t("ck.care_filter"), SHOW.map((k) => [k, t("ck.care_show." + k)]), show, (v) => ctx.navigate("#/checkups/care" + (v === "open" ? "" : "?show=" + v))),
    shown.length ? h("ul", { class: "plain" }, shown.map((c) => careCard(c, ctx))) : emptyState(t("ck.care_none")),
  );
}
