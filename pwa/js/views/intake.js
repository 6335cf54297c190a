// Reports from the public (信访举报): inspectors and the committee read them and record what was
// done; the sender sees the state and the note meant for them, by their receipt code.
import { api, blobUrl } from "../api.js";
import { fmtDate, fmtDay, t } from "../i18n.js";
import { add, busy, checkedForm, emptyState, field, h, heading, icon, segmented, toast } from "../ui.js";

const STATES = ["received", "reviewing", "referred", "closed"];

function card(report) {
  return h(
    "li",
    {},
    h(
      "a",
      { class: "wcard", href: "#/intake/" + report.id },
      h(
        "span",
        { class: "wcard-top" },
        h("span", { class: "topic" }, t("intake_category." + report.category)),
        h("span", { class: "chip is-" + report.state }, t("intake_state." + report.state)),
      ),
      h("span", { class: "wcard-object" }, report.subject),
      h(
        "span",
        { class: "wcard-bottom" },
        t("intake.received", { date: fmtDay(report.received_at) }),
        report.files ? " · " + t("intake.files", { n: report.files }) : "",
        report.anonymous ? " · " + t("intake.anonymous") : "",
      ),
    ),
  );
}

async function list(root, state, ctx) {
  const reports = await api("/api/intake?limit=100" + (state ? "&state=" + state : ""));
  add(
    root,
    heading(t("intake.title")),
    h("p", { class: "hint" }, t("intake.lead")),
    segmented(
      t("intake.filter"),
      [["", t("intake.all")], ...STATES.map((s) => [s, t("intake_state." + s)])],
      state || "",
      (value) => ctx.navigate("#/intake" + (value ? "?state=" + value : "")),
    ),
    reports.length ? h("ul", { class: "wlist" }, reports.map(card)) : emptyState(t("intake.none")),
  );
}

async function attachment(reportId, file) {
  const url = await blobUrl(`/api/intake/${reportId}/files/${file.id}`);
  if (file.content_type.startsWith("image/")) {
    return h("img", { class: "report-photo", src: url, alt: t("intake.photo") });
  }
  return h("a", { class: "btn", href: url, download: `report-${reportId}-${file.id}.pdf` }, icon("download"), t("intake.pdf"));
}

async function detail(root, id, ctx) {
  const report = await api("/api/intake/" + id);
  let state = report.state;
  const pick = segmented(
    t("intake.state"),
    STATES.map((s) => [s, t("intake_state." + s)]),
    state,
    (value) => {
      state = value;
      for (const b of pick.querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.dataset.value === value));
    },
  );
  pick.querySelectorAll("button").forEach((b, i) => (b.dataset.value = STATES[i]));
  const publicNote = h("textarea", { rows: 2, maxlength: 500 }, report.public_note || "");
  const internalNote = h("textarea", { rows: 3, maxlength: 2000 }, report.internal_note || "");
  const save = h("button", { class: "btn btn-primary btn-block", type: "submit" }, t("intake.save"));
  const form = checkedForm(
    { class: "card" },
    (fail) =>
      busy(
        save,
        async () => {
          await api("/api/intake/" + id + "/triage", {
            method: "POST",
            json: { state, public_note: publicNote.value, internal_note: internalNote.value },
          });
          toast(t("intake.saved"), "ok");
          ctx.navigate("#/intake");
        },
        fail,
      ),
    h("h2", {}, t("intake.handle")),
    h("div", { class: "field" }, h("p", { class: "field-label" }, t("intake.state")), pick),
    field("intake-public", t("intake.public_note"), publicNote, { hint: t("intake.public_note_hint") }),
    field("intake-internal", t("intake.internal_note"), internalNote),
    save,
  );
  const photos = await Promise.all(report.attachments.map((f) => attachment(report.id, f)));
  add(
    root,
    h("a", { class: "back", href: "#/intake" }, icon("back"), t("common.back")),
    heading(report.subject),
    h(
      "section",
      { class: "card" },
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, t("intake.category")),
        h("dd", {}, t("intake_category." + report.category)),
        h("dt", {}, t("intake.received_at")),
        h("dd", {}, fmtDate(report.received_at, true)),
        h("dt", {}, t("intake.state")),
        h("dd", {}, t("intake_state." + report.state)),
        h("dt", {}, t("intake.about")),
        h("dd", {}, report.about || t("intake.not_given")),
        h("dt", {}, t("intake.contact")),
        h("dd", {}, report.contact || t("intake.anonymous")),
      ),
      h("p", { class: "report-body" }, report.body),
      photos.length ? h("div", { class: "report-files" }, photos) : null,
    ),
    ctx.has("inspector") && report.state !== "closed"
      ? h("a", { class: "btn btn-block", href: "#/clues/new?intake=" + report.id }, t("clue.from_intake"))
      : null,
    form,
  );
}

export default async function render(root, ctx, params, query) {
  if (params[0]) await detail(root, params[0], ctx);
  else await list(root, query.get("state"), ctx);
}
