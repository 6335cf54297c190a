// Exporting a list as Excel: the list's own filters go to /api/exports; a small list comes back at
// once, a larger one is made in the background while the bar says how far; then the file is saved.
import { api, saveFile } from "./api.js";
import { currentLang, errorText, t } from "./i18n.js";
import { h } from "./ui.js";

const POLL_MS = 1500;
/** paging is the screen's, not the list's: the export takes every row */
const PAGING = new Set(["limit", "offset"]);

function filtersOf(filters) {
  const entries = filters instanceof URLSearchParams ? [...filters.entries()] : Object.entries(filters || {});
  return Object.fromEntries(entries.filter(([k, v]) => !PAGING.has(k) && v !== "" && v !== null && v !== undefined));
}

const wait = (ms) => new Promise((done) => setTimeout(done, ms));

/** A button that exports ``list`` with ``filters`` (an object or URLSearchParams) and its status line. */
export function exportButton(list, filters = {}) {
  const status = h("span", { class: "export-status small muted", role: "status", "aria-live": "polite" });
  const button = h("button", { type: "button", class: "btn export-btn" }, t("export.button"));
  const bar = h("div", { class: "export-bar" }, button, status);
  const save = (job) => saveFile(job.download_url, job.file_name);
  button.onclick = async () => {
    button.disabled = true;
    status.textContent = t("export.starting");
    try {
      let job = await api("/api/exports", { method: "POST", json: { list, filters: filtersOf(filters), lang: currentLang() } });
      while (job.state === "queued" || job.state === "running") {
        status.textContent = job.state === "queued" ? t("export.queued", { total: job.total }) : t("export.progress", { percent: job.percent, done: job.done, total: job.total });
        await wait(POLL_MS);
        if (!bar.isConnected) return;
        job = await api("/api/exports/" + job.id);
      }
      if (job.state !== "done") {
        status.textContent = job.error || t("export.failed");
        return;
      }
      status.replaceChildren(t("export.ready", { n: job.total }), " ", h("button", { type: "button", class: "linkish", onclick: () => save(job).catch((err) => (status.textContent = errorText(err))) }, t("export.again")));
      await save(job);
    } catch (err) {
      status.textContent = errorText(err);
    } finally {
      button.disabled = false;
    }
  };
  return bar;
}
