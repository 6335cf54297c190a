// Data import: pick a business table and a CSV/XLSX file, watch the upload progress, read the
// refused rows (row, column, reason); recent imports below.
import { api, upload } from "../api.js";
import { currentLang, errorText, fmtDate, fmtNumber, maybe, t } from "../i18n.js";
import { add, field, h, heading, icon } from "../ui.js";

// what a column is called for people, and what kind of value it takes
function columnOf(tb, name) {
  return ((tb && tb.columns) || []).find((c) => c.name === name || c.label === name) || null;
}

function columnLabel(tb, name) {
  const c = columnOf(tb, name);
  if (!c) return name || "—";
  return (currentLang() === "en" ? c.label_en || c.label : c.label) || maybe("import.col_unnamed") || "—";
}

function expected(type) {
  const base = String(type || "").toUpperCase().replace(/\(.*$/, "");
  return maybe("import.type." + base) || t("import.type.other");
}

// a refused row's reason in words: what was found, and what the column expects
export function reasonText(e, tb) {
  const reason = String(e.reason || "");
  const col = columnOf(tb, e.column);
  const convert = /Could not convert string "(.*?)" to '?(\w+)/.exec(reason);
  if (convert) return t("import.r.convert", { value: convert[1], expected: expected(convert[2]) });
  if (reason === "required value is empty") return t("import.r.empty");
  if (reason === "value cannot be read") return t("import.r.unreadable", { expected: expected(col && col.type) });
  if (reason === "missing column") return t("import.r.missing_column");
  if (reason.startsWith("not UTF-8 text")) return t("import.r.encoding");
  return t("import.r.other");
}

function errorsTable(errors, tb) {
  if (!errors || !errors.length) return null;
  return h(
    "div",
    { class: "scroll-x" },
    h(
      "table",
      { class: "data" },
      h("caption", {}, t("import.errors", { n: errors.length })),
      h("thead", {}, h("tr", {}, [t("import.row"), t("import.column"), t("import.reason")].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, errors.map((e) => h("tr", {}, h("td", {}, String(e.row ?? "")), h("td", {}, columnLabel(tb, e.column || e.field)), h("td", {}, reasonText(e, tb))))),
    ),
  );
}

function result(rec, tb) {
  const cls = rec.status === "done" ? "alert-ok" : "alert-error";
  return h(
    "div",
    { class: "alert " + cls, role: "status" },
    h("p", {}, h("strong", {}, t("import_status." + rec.status)), " · ", rec.filename),
    h("p", {}, t("import.counts", { read: fmtNumber(rec.rows_read), taken: fmtNumber(rec.rows_taken), refused: fmtNumber(rec.rows_refused), ms: fmtNumber(rec.duration_ms) })),
    rec.error && rec.status === "failed" && !(rec.errors || []).length ? h("p", {}, t("import.failed_whole")) : null,
    errorsTable(rec.errors, tb),
  );
}

export default async function render(root) {
  const [tables, recent] = await Promise.all([api("/api/data/tables"), api("/api/data/imports?limit=10")]);
  const table = h("select", {}, tables.map((tb) => h("option", { value: tb.name }, `${tb.title} · ${t("import.rows_now", { n: fmtNumber(tb.rows) })}`)));
  const chosenTable = () => tables.find((tb) => tb.name === table.value);
  const titleOf = (name) => (tables.find((tb) => tb.name === name) || {}).title || t("import.table");
  // the browser's own file button speaks the browser's language: ours says 选择文件 and the name
  const chosenName = h("span", { class: "muted" }, t("import.no_file"));
  const file = h("input", {
    type: "file",
    class: "file-input",
    accept: ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    onchange: () => { chosenName.textContent = file.files.length ? file.files[0].name : t("import.no_file"); },
  });
  const fileField = field("imp-file", t("import.file"), file, { hint: t("import.file_hint") });
  // the input moves into our button (it stays the labelled, focusable control)
  fileField.insertBefore(h("span", { class: "file-pick" }, h("label", { class: "btn file-btn" }, h("span", { "aria-hidden": "true" }, t("import.choose")), file), chosenName), fileField.querySelector(".field-error"));
  const encoding = h("select", {}, [["", t("import.enc_auto")], ["utf-8", "UTF-8"], ["gbk", "GBK"], ["gb18030", "GB18030"]].map(([v, l]) => h("option", { value: v }, l)));
  const takeGood = h("input", { type: "checkbox" });
  const bar = h("progress", { max: 100, value: 0, hidden: true });
  const progressText = h("p", { class: "small muted", role: "status", "aria-live": "polite" });
  const out = h("div", {});
  const send = h("button", { type: "submit", class: "btn btn-primary" }, t("import.upload"));
  const form = h(
    "form",
    {
      class: "card",
      novalidate: true,
      onsubmit: async (e) => {
        e.preventDefault();
        out.replaceChildren();
        if (!file.files.length) {
          out.append(h("div", { class: "alert alert-error", role: "alert" }, t("import.need_file")));
          return;
        }
        const chosen = file.files[0];
        const qs = new URLSearchParams();
        if (encoding.value) qs.set("encoding", encoding.value);
        if (takeGood.checked) qs.set("take_good_rows", "true");
        const body = new FormData();
        body.append("data", chosen, chosen.name);
        send.disabled = true;
        bar.hidden = false;
        bar.value = 0;
        try {
          const rec = await upload(`/api/data/tables/${encodeURIComponent(table.value)}/import?${qs}`, {
            body,
            onProgress: (loaded, total) => {
              const pct = total ? Math.round((loaded / total) * 100) : 0;
              bar.value = pct;
              progressText.textContent = pct >= 100 ? t("import.checking") : t("import.progress", { pct, loaded: fmtNumber(loaded / 1024, 0), total: fmtNumber(total / 1024, 0) });
            },
          });
          progressText.textContent = "";
          out.append(result(rec, chosenTable()));
        } catch (err) {
          progressText.textContent = "";
          out.append(h("div", { class: "alert alert-error", role: "alert" }, errorText(err), errorsTable(err.body && err.body.errors, chosenTable())));
        } finally {
          send.disabled = false;
          bar.hidden = true;
        }
      },
    },
    field("imp-table", t("import.table"), table),
    fileField,
    field("imp-enc", t("import.encoding"), encoding),
    h("label", { class: "toggle" }, takeGood, h("span", {}, t("import.take_good"))),
    send,
    bar,
    progressText,
  );
  add(root, 
    h("a", { class: "back", href: "#/admin" }, icon("back"), t("common.back")),
    heading(t("import.title")),
    form,
    out,
    h("h2", {}, t("import.recent")),
    h(
      "ul",
      { class: "plain" },
      recent.map((r) =>
        h("li", { class: "row-between small" }, h("span", {}, `${titleOf(r.table_name)} · ${r.filename}`), h("span", { class: r.status === "done" ? "ok-text" : "error-text" }, `${t("import_status." + r.status)} ${fmtNumber(r.rows_taken)}/${fmtNumber(r.rows_read)} · ${fmtDate(r.started_at, true)}`)),
      ),
    ),
  );
}
