// Confirmations held for a few seconds with 撤销 (issue 16).
//
// The API has no way to take a confirmation back: confirming tells the person and ends the head's
// part, and a second call could not un-tell anyone. So the safe way is to wait: a confirmation is
// held on the phone for HOLD_MS with an undo bar, and sent when the bar expires; 撤销 drops it and
// nothing was sent. If the page is hidden or closed meanwhile, what is held is sent at once (with
// keepalive), as the head tapped 确认 and only undo would have stopped it.
import { api, core } from "./api.js";
import { errorText, t } from "./i18n.js";
import { h, toast } from "./ui.js";

export const HOLD_MS = 5000;
const held = new Map(); // warning id → { body }
let batch = null; // { ids, timer, bar, onSent, onUndone }

/** Warning ids confirmed on this phone and not sent yet (lists leave them out meanwhile). */
export function heldIds() {
  return new Set(held.keys());
}

function bar(text, undo) {
  let el = document.getElementById("undo");
  if (!el) {
    el = h("div", { id: "undo", class: "undo-bar", role: "status", "aria-live": "polite" });
    document.body.append(el);
  }
  el.replaceChildren(h("span", {}, text), h("button", { type: "button", class: "btn btn-quiet undo-button", onclick: undo }, t("undo.undo")));
  el.hidden = false;
  return el;
}

async function send(current) {
  const ids = current.ids;
  let sent = 0;
  let failed = null;
  for (const id of ids) {
    const body = held.get(id);
    held.delete(id);
    if (!body) continue;
    try {
      await api("/api/warnings/" + id + "/confirm", { method: "POST", json: body });
      sent += 1;
    } catch (err) {
      failed = failed || err;
    }
  }
  if (failed) toast(errorText(failed), "error");
  current.onSent(sent);
}

/** The batch held now, no longer held (its timer stopped, its bar hidden), or null. */
function take() {
  const current = batch;
  batch = null;
  if (current) {
    clearTimeout(current.timer);
    current.bar.hidden = true;
  }
  return current;
}

function settle() {
  const current = take();
  return current ? send(current) : undefined;
}

/** Send what is held now (the page is going away): keepalive requests, nothing awaited. */
function sendOnLeave() {
  const current = take();
  if (!current) return;
  for (const id of current.ids) {
    const body = held.get(id);
    held.delete(id);
    if (body) core.authFetch("/api/warnings/" + id + "/confirm", { method: "POST", keepalive: true, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }).catch(() => null);
  }
}
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "hidden") sendOnLeave();
});
window.addEventListener("pagehide", sendOnLeave);

/**
 * Hold confirmations of these warnings (with an optional reason) for HOLD_MS behind an undo bar.
 * onSent(n) after they were sent; onUndone() after 撤销. A new hold sends the previous one first.
 */
export async function holdConfirm(ids, { reason = "", onSent = () => {}, onUndone = () => {} } = {}) {
  if (batch) await settle();
  for (const id of ids) held.set(id, reason ? { reason } : {});
  const current = { ids: [...ids], onSent, onUndone };
  current.bar = bar(t("undo.confirmed", { n: ids.length }), () => {
    if (batch !== current) return;
    take();
    for (const id of current.ids) held.delete(id);
    toast(t("undo.undone"), "ok");
    onUndone();
  });
  current.timer = setTimeout(() => {
    if (batch === current) settle();
  }, HOLD_MS);
  batch = current;
}
