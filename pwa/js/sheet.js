// A confirmation sheet for destructive or mass actions (issue 16): it says what will happen
// ("发送给 128 人") before it happens. A modal <dialog> from the bottom of the screen; resolves to
// true when the action is confirmed, false when cancelled (the button, Esc, or a tap outside).
import { t } from "./i18n.js";
import { h } from "./ui.js";

/**
 * confirmSheet({ title, lines, confirm, danger }): lines are the facts of what will happen
 * (strings, or nodes); confirm is the button's label.
 */
export function confirmSheet({ title, lines = [], confirm, danger = false }) {
  return new Promise((resolve) => {
    const done = (answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    const yes = h("button", { type: "button", class: "btn btn-block " + (danger ? "btn-danger" : "btn-primary"), onclick: () => done(true) }, confirm);
    const dialog = h(
      "dialog",
      { class: "sheet", "aria-labelledby": "sheet-title" },
      h("h2", { id: "sheet-title" }, title),
      h("ul", { class: "sheet-lines" }, lines.map((line) => h("li", {}, line))),
      h("div", { class: "sheet-actions" }, yes, h("button", { type: "button", class: "btn btn-block btn-quiet", onclick: () => done(false) }, t("common.cancel"))),
    );
    dialog.addEventListener("cancel", (e) => {
      e.preventDefault();
      done(false);
    });
    dialog.addEventListener("click", (e) => {
      if (e.target === dialog) done(false); // the backdrop
    });
    document.body.append(dialog);
    dialog.showModal();
    yes.focus();
  });
}
