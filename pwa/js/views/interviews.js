// Interview records (约谈记录, B.12): the list in my scope (mine as the interviewee; with ?mine=1,
// reached from "Me", only those held with me), records still on this phone, one record with its
// signatures, and the printable PDF (fetched with the token, saved as a file).
import { api, blobUrl, core, saveFile } from "../api.js";
import { errorText, fmtDate, t } from "../i18n.js";
import { exportButton } from "../exporting.js";
import { add, busy, emptyState, h, heading, icon, note } from "../ui.js";

const QUESTIONS = ["q_true", "q_cause", "q_integrity"];
const CHECKS = ["c_collaboration", "c_control", "c_education"];

/** Save the record's PDF: fetched with the bearer token, handed to the browser as a file. */
const downloadPdf = (rec) => saveFile(rec.pdf_url, "interview-" + rec.id + ".pdf");

function pdfButton(rec) {
  return h(
    "button",
    { type: "button", class: "btn iv-pdf", onclick: (e) => busy(e.currentTarget, () => downloadPdf(rec)) },
    icon("down"),
    t("iv.pdf"),
  );
}

function recordCard(rec) {
  return h(
    "li",
    {},
    h(
      "a",
      { class: "wcard iv-card", href: "#/interviews/" + rec.id },
      h("span", { class: "wcard-top" }, h("span", { class: "topic" }, rec.interviewee_name), h("span", { class: "muted" }, rec.interviewee_unit)),
      h("span", { class: "wcard-object" }, fmtDate(rec.held_at, true), " · ", rec.place),
      h("span", { class: "wcard-bottom small muted" }, t("iv.linked_n", { n: rec.warning_ids.length }), " · ", t("iv.signatures_n", { n: rec.signatures.length })),
    ),
  );
}

/** Records written on this phone and not yet accepted by the server (waiting, refused or drafts). */
async function onThisPhone(ctx) {
  const items = ((await core.outbox.all()) || []).filter((i) => i.kind === "interview" && i.person_id === ctx.me.person_id);
  if (!items.length) return null;
  return h(
    "section",
    { class: "card iv-local" },
    h("h2", {}, t("iv.on_phone")),
    h(
      "ul",
      { class: "plain" },
      items.map((i) =>
        h(
          "li",
          { class: "outbox-item" },
          i.state === "queued"
            ? h("span", {}, icon("cloud"), " ", t("iv.local_queued", { date: fmtDate(i.queued_at, true) }))
            : h("a", { href: "#/interviews/new?client=" + encodeURIComponent(i.client_id) }, t(i.state === "failed" ? "iv.local_failed" : "iv.local_draft", { date: fmtDate(i.updated_at || i.created_at, true) })),
          i.state === "failed" && i.error ? h("span", { class: "error-text small" }, errorText(i.error)) : null,
        ),
      ),
    ),
  );
}

async function list(root, ctx, mine) {
  let records = null;
  try {
    records = await api("/api/interviews?limit=100" + (mine ? "&person_id=" + ctx.me.person_id : ""));
  } catch (err) {
    if (err.code !== "network") throw err; // no signal and nothing saved: what is on the phone still shows
  }
  const recorder = !mine && ctx.has("head", "inspector");
  add(
    root,
    mine ? h("a", { class: "back", href: "#/me" }, icon("back"), t("common.back")) : null,
    heading(t(mine ? "iv.mine_title" : "iv.title")),
    h("p", { class: "hint" }, t(mine ? "iv.mine_lead" : "iv.lead")),
    recorder ? h("a", { class: "btn btn-primary btn-block", href: "#/interviews/new" }, t("iv.new")) : null,
    records && records.length ? exportButton("interviews", mine ? { person_id: ctx.me.person_id } : {}) : null,
    mine ? null : await onThisPhone(ctx),
    records === null ? note(t("iv.offline_list"), "warn") : records.length ? h("ul", { class: "wlist" }, records.map(recordCard)) : emptyState(t(mine ? "iv.mine_none" : "iv.none")),
  );
}

function block(title, keys, rec) {
  return h(
    "section",
    { class: "card" },
    h("h2", {}, title),
    h("dl", { class: "facts stacked" }, keys.map((k) => [h("dt", {}, t("iv." + k)), h("dd", { class: "pre" }, rec[k])])),
  );
}

async function detail(root, ctx, id) {
  const rec = await api("/api/interviews/" + id);
  const urls = [];
  const names = new Map(rec.interviewers.map((p) => [p.person_id, p.name]));
  names.set(rec.person_id, rec.interviewee_name);
  const signatures = h(
    "ul",
    { class: "sig-list" },
    rec.signatures.map((s) => {
      const img = h("img", { alt: t("iv.signature_of", { name: names.get(s.person_id) || "#" + s.person_id }), width: 300, height: 120 });
      blobUrl(s.url)
        .then((url) => {
          urls.push(url);
          img.src = url;
        })
        .catch(() => img.classList.add("broken"));
      return h("li", {}, h("span", { class: "small muted" }, t("iv.signer_" + s.signer), " · ", names.get(s.person_id) || ""), img);
    }),
  );
  add(
    root,
    h("a", { class: "back", href: "#/interviews" }, icon("back"), t("common.back")),
    heading(t("iv.record_title", { name: rec.interviewee_name })),
    pdfButton(rec),
    h("dl", { class: "facts" }, [
      h("dt", {}, t("iv.interviewee")),
      h("dd", {}, [rec.interviewee_name, rec.interviewee_post, rec.interviewee_unit].filter(Boolean).join(" · ")),
      h("dt", {}, t("iv.interviewers")),
      h("dd", {}, rec.interviewers.map((p) => p.name + (p.post ? "（" + p.post + "）" : "")).join("、")),
      h("dt", {}, t("iv.held_at")),
      h("dd", {}, fmtDate(rec.held_at, true)),
      h("dt", {}, t("iv.place")),
      h("dd", {}, rec.place),
      h("dt", {}, t("iv.warnings")),
      h("dd", {}, rec.warning_ids.map((w, i) => [i ? " " : null, h("a", { href: "#/warnings/" + w }, "#" + w)])),
    ]),
    block(t("iv.questions"), QUESTIONS, rec),
    block(t("iv.checks"), CHECKS, rec),
    block(t("iv.suggestion_title"), ["suggestion", "follow_up"], rec),
    h("section", { class: "card" }, h("h2", {}, t("iv.signatures")), signatures),
  );
  return () => urls.forEach((u) => URL.revokeObjectURL(u));
}

export default async function render(root, ctx, [id], query) {
  if (id) return detail(root, ctx, Number(id));
  const mine = query.get("mine") === "1"; // the interviewee's own records, from "Me"
  await list(root, ctx, mine);
  if (!mine && ctx.has("head", "inspector")) add(root, note(t("iv.where_from"), "info"));
  return undefined;
}

export { QUESTIONS, CHECKS };
