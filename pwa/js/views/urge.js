// 催办 and 督办 on a warning (issue 16): an inspector (催办 also a head) chases the person with a
// note, or issues a supervision order (督办单) with a note and a date; both are told to the person
// and their head and written on the timeline. Field errors clear as the user types.
import { api } from "../api.js";
import { t } from "../i18n.js";
import { add, busy, checkedForm, field, h, setFieldError, toast } from "../ui.js";

function todayLocal() {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai" }).format(new Date());
}

function urgeForm(w, kind, ctx) {
  const note = h("textarea", { rows: 3, maxlength: 1000, oninput: () => setFieldError(note, "") });
  const due = kind === "supervise" ? h("input", { type: "date", min: todayLocal(), oninput: () => setFieldError(due, "") }) : null;
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("urge.send_" + kind));
  return checkedForm(
    { class: "urge-form" },
    (fail) => {
      let bad = false;
      if (!note.value.trim()) {
        setFieldError(note, t("urge.need_note"));
        bad = true;
      }
      if (due && (!due.value || due.value < todayLocal())) {
        setFieldError(due, t("urge.need_due"));
        bad = true;
      }
      if (bad) return;
      busy(
        submit,
        async () => {
          const json = { kind, note: note.value.trim() };
          if (due) json.due_on = due.value;
          await api("/api/warnings/" + w.id + "/urge", { method: "POST", json });
          toast(t("urge.done_" + kind), "ok");
          ctx.reload();
        },
        fail,
      );
    },
    field("urge-note-" + kind, t("urge.note_" + kind), note, { required: true, hint: t("urge.note_hint_" + kind) }),
    due ? field("urge-due", t("urge.due"), due, { required: true, hint: t("urge.due_hint") }) : null,
    submit,
  );
}

/** The panel on a warning's page, when the caller may chase or supervise it. */
export function urgePanel(w, actions, ctx) {
  const kinds = ["urge", "supervise"].filter((k) => actions.includes(k));
  if (!kinds.length) return null;
  const slot = h("div", {});
  const buttons = kinds.map((kind) =>
    h(
      "button",
      {
        type: "button",
        class: "btn",
        "aria-expanded": "false",
        onclick: (e) => {
          buttons.forEach((b) => b.setAttribute("aria-expanded", String(b === e.currentTarget)));
          slot.replaceChildren(urgeForm(w, kind, ctx));
          slot.querySelector("textarea").focus();
        },
      },
      t("urge.open_" + kind),
    ),
  );
  return add(
    h("section", { class: "card urge", "aria-labelledby": "urge-title" }, h("h2", { id: "urge-title" }, t("urge.title")), h("p", { class: "hint" }, t("urge.lead"))),
    h("div", { class: "actions" }, buttons),
    slot,
  );
}
