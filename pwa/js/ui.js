// Small DOM helpers. Text always goes in as text nodes: nothing from the API is parsed as HTML.
import { errorText, fmtDay, t } from "./i18n.js";

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "style") el.style.cssText = value; // CSSOM: the CSP refuses style attributes
    else if (key === "value" || key === "checked" || key === "selected") el[key] = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

/** el.append() that skips null, undefined and false (native append would print "null"). */
export function add(el, ...children) {
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

const SVG_NS = "http://www.w3.org/2000/svg";
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value !== null && value !== undefined) el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Icons: a few 24×24 strokes, drawn here (no icon font, no network). */
const ICONS = {
  inbox: "M4 13h4l2 3h4l2-3h4M4 13l2-8h12l2 8v6H4z",
  bell: "M6 16V11a6 6 0 0 1 12 0v5l2 2H4zM10 20a2 2 0 0 0 4 0",
  user: "M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM4 21a8 8 0 0 1 16 0",
  check: "M4 12l5 5L20 6",
  chart: "M4 20V10M10 20V4M16 20v-7M22 20H2",
  gear: "M4 6h9M17 6h3M4 12h3M11 12h9M4 18h11M19 18h1M15 4v4M9 10v4M17 16v4",
  back: "M15 5l-7 7 7 7",
  forward: "M9 5l7 7-7 7",
  camera: "M4 8h3l2-3h6l2 3h3v11H4zM12 17a4 4 0 1 0 0-8 4 4 0 0 0 0 8z",
  image: "M4 5h16v14H4zM4 16l5-5 4 4 3-3 4 4M15 9h.01",
  pin: "M12 21s-7-6.5-7-11a7 7 0 0 1 14 0c0 4.5-7 11-7 11zM12 12a2 2 0 1 0 0-4 2 2 0 0 0 0 4z",
  cloud: "M7 18a5 5 0 0 1-.5-10A6 6 0 0 1 18 9a4.5 4.5 0 0 1-.5 9zM12 11v5M9.5 13.5 12 11l2.5 2.5",
  globe: "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM3 12h18M12 3c3 3.5 3 14.5 0 18M12 3c-3 3.5-3 14.5 0 18",
  close: "M6 6l12 12M18 6 6 18",
  up: "M6 15l6-6 6 6",
  down: "M6 9l6 6 6-6",
  pulse: "M3 12h4l2-5 4 10 2-5h6",
};

export function icon(name, label) {
  const svg = s(
    "svg",
    { viewBox: "0 0 24 24", width: 24, height: 24, class: "icon", "aria-hidden": label ? null : "true", role: label ? "img" : null },
    s("path", { d: ICONS[name] || "", fill: "none", stroke: "currentColor", "stroke-width": 2, "stroke-linecap": "round", "stroke-linejoin": "round" }),
  );
  if (label) svg.append(s("title", {}, label));
  return svg;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

/** The page heading: receives focus after every route change (screen readers hear where they are). */
export function heading(text, level = 1) {
  return h("h" + level, { class: level === 1 ? "page-title" : null, tabindex: level === 1 ? "-1" : null }, text);
}

export function errorBox(err, extra) {
  return h("div", { class: "alert alert-error", role: "alert" }, errorText(err), extra || null);
}

export function note(text, kind = "info") {
  return h("p", { class: "alert alert-" + kind }, text);
}

export function spinner(label) {
  return h("p", { class: "loading", role: "status" }, h("span", { class: "spin", "aria-hidden": "true" }), label || t("common.loading"));
}

let toastTimer = null;
export function toast(text, kind = "info") {
  const el = document.getElementById("toast");
  if (!el) return;
  el.textContent = text;
  el.className = "toast show toast-" + kind;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    el.className = "toast";
  }, 4000);
}

/** Disable a button while work runs; errors go to onError (or a toast). */
export async function busy(button, work, onError) {
  const wasDisabled = button.disabled;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await work();
  } catch (err) {
    if (onError) onError(err);
    else toast(errorText(err), "error");
    return undefined;
  } finally {
    button.disabled = wasDisabled;
    button.removeAttribute("aria-busy");
  }
}

export const LEVELS = ["high", "medium", "low"];

export function levelBadge(level) {
  return h("span", { class: "badge lv-" + level }, t("level." + level));
}

export function stateChip(state) {
  return h("span", { class: "chip st-" + state }, t("state." + state));
}

/** Due date text: "12月18日（周五） 前处理 · 剩 3 个工作日" or "已逾期 2 天"; provisional marked. */
export function dueLine(w) {
  if (!w.due_on && !w.due_at) return h("span", { class: "due muted" }, t("due.none"));
  const parts = [h("span", {}, t("due.on", { date: fmtDay(w.due_on || w.due_at) }))];
  if (w.deadline_provisional) {
    parts.push(h("span", { class: "provisional", title: t("due.provisional_hint") }, t("due.provisional")));
  }
  if (w.overdue) parts.push(h("span", { class: "badge overdue" }, w.overdue_days ? t("due.late", { n: w.overdue_days }) : t("due.overdue")));
  else if (w.days_left === 0) parts.push(h("span", { class: "left soon" }, t("due.today")));
  else if (w.days_left !== null && w.days_left !== undefined) parts.push(h("span", { class: "left" + (w.days_left <= 2 ? " soon" : "") }, t("due.left", { n: w.days_left })));
  return h("span", { class: "due" + (w.overdue ? " is-overdue" : "") }, parts);
}

/** A labelled form field; the hint and the error are tied to the control for screen readers. */
export function field(id, label, control, { hint, required } = {}) {
  control.id = id;
  const described = [];
  const hintEl = hint ? h("p", { class: "hint", id: id + "-hint" }, hint) : null;
  if (hintEl) described.push(hintEl.id);
  const errEl = h("p", { class: "field-error", id: id + "-error", hidden: true });
  described.push(errEl.id);
  control.setAttribute("aria-describedby", described.join(" "));
  if (required) control.setAttribute("aria-required", "true");
  // a field's error goes as soon as the user changes it (it is checked again on submit)
  const fix = () => setFieldError(control, "");
  control.addEventListener("input", fix);
  control.addEventListener("change", fix);
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label, required ? h("span", { class: "req", "aria-hidden": "true" }, " *") : null),
    hintEl,
    control,
    errEl,
  );
}

export function setFieldError(control, message) {
  const errEl = document.getElementById(control.id + "-error");
  if (message) control.setAttribute("aria-invalid", "true");
  else control.removeAttribute("aria-invalid");
  if (errEl) {
    errEl.textContent = message || "";
    errEl.hidden = !message;
  }
}

/**
 * A form the page checks itself (novalidate). On submit the last error is hidden and
 * onSubmit(fail) runs; fail(err) shows an API error (by its code) or a text in the form's alert,
 * placed after the form's heading if it starts with one.
 */
export function checkedForm(attrs, onSubmit, ...children) {
  const alert = h("div", { class: "alert alert-error", role: "alert", hidden: true, tabindex: "-1" });
  const fail = (err) => {
    alert.textContent = typeof err === "string" ? err : errorText(err);
    alert.hidden = false;
    alert.focus();
  };
  const onsubmit = (e) => {
    e.preventDefault();
    alert.hidden = true;
    onSubmit(fail);
  };
  const items = children.flat().filter((c) => c !== null && c !== undefined && c !== false);
  const at = items.length && /^H\d$/.test(items[0].tagName || "") ? 1 : 0;
  items.splice(at, 0, alert);
  return h("form", Object.assign({}, attrs, { novalidate: true, onsubmit }), items);
}

/** A row of toggle buttons (aria-pressed); onPick(value). */
export function segmented(label, options, current, onPick) {
  return h(
    "div",
    { class: "segmented", role: "group", "aria-label": label },
    options.map(([value, text]) =>
      h("button", { type: "button", "aria-pressed": String(value === current), onclick: () => onPick(value) }, text),
    ),
  );
}

export function emptyState(text) {
  return h("p", { class: "empty" }, text);
}

/** fn after ms of quiet; run.cancel() drops a pending call (a draft saved as the user types). */
export function debounce(fn, ms) {
  let timer = null;
  const run = () => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  };
  run.cancel = () => clearTimeout(timer);
  return run;
}
