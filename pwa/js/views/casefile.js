// Pieces the case-file screens share (problem clues, the problem list, supervision opinions): a
// list card, the facts of a record, its timeline in words, and a step's form folded in a card.
import { api } from "../api.js";
import { fmtDate, maybe, t } from "../i18n.js";
import { busy, checkedForm, h, segmented, setFieldError, toast } from "../ui.js";

/** A card of a list: a title, a state chip, a line of text and a line of small facts. */
export function caseCard(href, title, state, text, bottom) {
  return h(
    "li",
    {},
    h(
      "a",
      { class: "wcard", href },
      h("span", { class: "wcard-top" }, h("span", { class: "topic" }, title), h("span", { class: "chip is-" + state[0] }, state[1])),
      text ? h("span", { class: "wcard-instruction" }, text) : null,
      h("span", { class: "wcard-bottom" }, bottom.filter(Boolean).join(" · ")),
    ),
  );
}

/** A definition list of [label, value] pairs; empty values are left out. */
export function facts(pairs) {
  return h(
    "dl",
    { class: "facts" },
    pairs.filter(([, v]) => v !== null && v !== undefined && v !== "").flatMap(([k, v]) => [h("dt", {}, k), h("dd", { class: "pre" }, v)]),
  );
}

/** The record's steps, each in words (``prefix`` + kind), with who and what they wrote. */
export function timeline(title, steps, prefix) {
  return h(
    "section",
    { class: "card" },
    h("h2", {}, title),
    h(
      "ol",
      { class: "timeline" },
      steps.map((s) =>
        h(
          "li",
          {},
          h("time", { datetime: s.at }, fmtDate(s.at, true)),
          h("span", { class: "step" }, maybe(prefix + s.kind) || s.kind, s.actor_name ? " · " + s.actor_name : ""),
          s.note ? h("p", { class: "pre small" }, s.note) : null,
        ),
      ),
    ),
  );
}

/** A one-of choice as toggle buttons; ``pick.value`` is the choice, ``onPick(value)`` told of a change. */
export function choice(label, options, current, onPick) {
  const box = { value: current || "" };
  const el = segmented(label, options, box.value, (value) => {
    box.value = value;
    for (const b of el.querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.dataset.value === value));
    if (onPick) onPick(value);
  });
  el.querySelectorAll("button").forEach((b, i) => (b.dataset.value = options[i][0]));
  box.el = el;
  return box;
}

/**
 * A step's form, folded in a card (open when ``open``): ``controls`` are [label, element, required]
 * rows; ``body()`` makes the JSON sent to ``path``; after it the screen reloads.
 */
export function stepForm({ id, title, hint, controls, submit, path, body, done, ctx, open = false, primary = true }) {
  const button = h("button", { type: "submit", class: "btn btn-block" + (primary ? " btn-primary" : "") }, submit);
  const form = checkedForm(
    {},
    (fail) => {
      if (firstEmpty(controls.filter(([, control, required]) => required && control.tagName).map(([, control]) => control))) return;
      busy(
        button,
        async () => {
          await api(path, { method: "POST", json: body() });
          toast(done, "ok");
          ctx.reload();
        },
        fail,
      );
    },
    hint ? h("p", { class: "hint" }, hint) : null,
    controls.map(([label, control, required], i) =>
      control.tagName && control.tagName !== "DIV"
        ? fieldRow(`${id}-${i}`, label, control, required)
        : h("div", { class: "field" }, h("p", { class: "field-label" }, label), control.el || control),
    ),
    button,
  );
  return h("details", { class: "card step-form", id, open }, h("summary", {}, title), form);
}

function fieldRow(id, label, control, required) {
  control.id = id;
  const err = h("p", { class: "field-error", id: id + "-error", hidden: true });
  control.setAttribute("aria-describedby", err.id);
  control.addEventListener("input", () => setFieldError(control, ""));
  return h("div", { class: "field" }, h("label", { for: id }, label, required ? h("span", { class: "req", "aria-hidden": "true" }, " *") : null), control, err);
}

/** A select of [value, text] options, with a first empty option saying what to pick. */
export function select(options, placeholder, current) {
  return h(
    "select",
    {},
    placeholder !== null ? h("option", { value: "" }, placeholder) : null,
    options.map(([value, text]) => h("option", { value: String(value), selected: String(value) === String(current ?? "") }, text)),
  );
}

/** A filter by state as a select (a row of buttons has no room for six states on a phone). */
export function stateFilter(label, options, current, onPick) {
  const control = select(options, null, current);
  control.id = "state-filter";
  control.addEventListener("change", () => onPick(control.value));
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control);
}

/** The first of ``controls`` left empty, marked and focused (null when all are filled). */
export function firstEmpty(controls) {
  const empty = controls.find((c) => !String(c.value || "").trim());
  if (!empty) return null;
  setFieldError(empty, t("common.required"));
  empty.focus();
  return empty;
}
