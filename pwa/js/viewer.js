// A full-screen photo viewer (issue 16): a modal over the page (never a raw blob: tab), with
// close, previous and next, swipe left and right, arrow keys and Esc.
import { t } from "./i18n.js";
import { h, icon } from "./ui.js";

/** Open at index; pictures are object URLs (or promises of them, still loading). */
export function openViewer(pictures, index = 0) {
  let at = index;
  const img = h("img", { class: "viewer-img", alt: "" });
  const counter = h("p", { class: "viewer-count", "aria-live": "polite" });
  const show = async (next) => {
    at = (next + pictures.length) % pictures.length;
    counter.textContent = t("viewer.count", { n: at + 1, total: pictures.length });
    img.alt = t("reply.photo_n", { n: at + 1 });
    img.src = (await pictures[at]) || "";
  };
  const close = () => {
    dialog.close();
    dialog.remove();
  };
  const many = pictures.length > 1;
  const dialog = h(
    "dialog",
    { class: "viewer", "aria-label": t("viewer.label") },
    h("button", { type: "button", class: "viewer-close", "aria-label": t("viewer.close"), onclick: close }, icon("close")),
    img,
    many ? h("button", { type: "button", class: "viewer-prev", "aria-label": t("viewer.prev"), onclick: () => show(at - 1) }, icon("back")) : null,
    many ? h("button", { type: "button", class: "viewer-next", "aria-label": t("viewer.next"), onclick: () => show(at + 1) }, icon("forward")) : null,
    counter,
  );
  let startX = null;
  dialog.addEventListener("pointerdown", (e) => {
    startX = e.clientX;
  });
  dialog.addEventListener("pointerup", (e) => {
    if (startX === null) return;
    const dx = e.clientX - startX;
    startX = null;
    if (many && Math.abs(dx) > 50) show(at + (dx < 0 ? 1 : -1));
  });
  dialog.addEventListener("keydown", (e) => {
    if (e.key === "ArrowRight") show(at + 1);
    if (e.key === "ArrowLeft") show(at - 1);
  });
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  show(at);
  return dialog;
}
