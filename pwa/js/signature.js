// A signature pad: a canvas drawn with pointer events (finger, stylus or mouse), a clear button,
// exported as a PNG. The canvas has a fixed resolution (600×240) and is scaled by CSS, so the
// image is the same on every phone; pointer positions are mapped into it.
import { t } from "./i18n.js";
import { h, icon } from "./ui.js";

const W = 600;
const H = 240;
const INK = "#10243e";

/**
 * signaturePad({id, label, onChange}) → {el, canvas, isEmpty(), toBlob(), load(blob), clear()}.
 * onChange(pad) runs when a stroke ends or the pad is cleared.
 */
export function signaturePad({ id, label, onChange }) {
  const canvas = h("canvas", { id, class: "sigpad", width: W, height: H, role: "img", "aria-label": label });
  const g = canvas.getContext("2d");
  const state = h("span", { class: "small muted sig-state", "aria-live": "polite" }, t("sig.empty"));
  let marks = 0;
  let last = null;

  function style() {
    g.lineCap = "round";
    g.lineJoin = "round";
    g.strokeStyle = INK;
    g.fillStyle = INK;
  }
  function point(e) {
    const r = canvas.getBoundingClientRect();
    return { x: ((e.clientX - r.left) * W) / r.width, y: ((e.clientY - r.top) * H) / r.height, p: e.pressure || 0.5 };
  }
  function width(p) {
    return 3 + 4 * Math.min(1, Math.max(0, p));
  }
  function line(a, b) {
    g.lineWidth = width(b.p);
    g.beginPath();
    g.moveTo(a.x, a.y);
    g.lineTo(b.x, b.y);
    g.stroke();
  }
  function changed() {
    state.textContent = marks ? t("sig.signed") : t("sig.empty");
    canvas.classList.toggle("signed", marks > 0);
    if (onChange) onChange(pad);
  }

  canvas.addEventListener("pointerdown", (e) => {
    if (e.button !== undefined && e.button > 0) return;
    e.preventDefault();
    canvas.setPointerCapture(e.pointerId);
    style();
    last = point(e);
    g.beginPath();
    g.arc(last.x, last.y, width(last.p) / 2, 0, Math.PI * 2);
    g.fill();
    marks += 1;
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!last) return;
    e.preventDefault();
    const events = typeof e.getCoalescedEvents === "function" ? e.getCoalescedEvents() : [];
    for (const ev of events.length ? events : [e]) {
      const next = point(ev);
      line(last, next);
      last = next;
    }
  });
  const end = () => {
    if (!last) return;
    last = null;
    changed();
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  canvas.addEventListener("lostpointercapture", end);

  const pad = {
    canvas,
    isEmpty: () => marks === 0,
    toBlob: () => new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("encode"))), "image/png")),
    clear() {
      g.clearRect(0, 0, W, H);
      marks = 0;
      changed();
    },
    /** Draw a saved signature back (a draft opened again). */
    async load(blob) {
      const bitmap = await createImageBitmap(blob);
      g.clearRect(0, 0, W, H);
      g.drawImage(bitmap, 0, 0, W, H);
      if (typeof bitmap.close === "function") bitmap.close();
      marks = Math.max(marks, 1);
      state.textContent = t("sig.signed");
      canvas.classList.add("signed");
    },
  };
  pad.el = h(
    "div",
    { class: "sig" },
    h("div", { class: "row-between" }, h("span", { class: "sig-label" }, label), state),
    canvas,
    h("p", { class: "field-error", id: id + "-error", hidden: true }),
    h("div", { class: "actions" }, h("button", { type: "button", class: "btn btn-quiet sig-clear", onclick: () => pad.clear() }, icon("close"), t("sig.clear"))),
  );
  canvas.setAttribute("aria-describedby", id + "-error");
  return pad;
}
