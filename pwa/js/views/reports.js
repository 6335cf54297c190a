// Periodic reports (monthly, quarterly) of my units: download as PDF or Excel; findings addressed to
// my department, answered here (the answer appears in the next report); inspectors and the committee
// make last month's report of their unit now.
import { api, request } from "../api.js";
import { fmtDate, t } from "../i18n.js";
import { add, busy, checkedForm, emptyState, field, h, heading, toast } from "../ui.js";

/** Save a report's file: fetched with the bearer token, handed to the browser as a file. */
async function download(report, fmt) {
  const res = await request(`/api/reports/${report.id}/${fmt}`);
  const url = URL.createObjectURL(await res.blob());
  const a = h("a", { href: url, download: `${report.title}.${fmt}`, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

function reportCard(report) {
  const button = (fmt, label) =>
    h("button", { type: "button", class: "btn", onclick: (e) => busy(e.currentTarget, () => download(report, fmt)) }, label);
  return h(
    "li",
    { class: "card report" },
    h("strong", {}, report.title),
    h("p", { class: "small muted" }, t("rep.line", { from: fmtDate(report.period_start), to: fmtDate(report.period_last_day), n: report.findings })),
    h("p", { class: "actions" }, button("pdf", t("rep.pdf")), " ", button("xlsx", t("rep.xlsx"))),
  );
}

function findingCard(finding, ctx) {
  const id = "answer-" + finding.id;
  const text = h("textarea", { id, name: "text", rows: 3, required: true, maxlength: 4000 });
  const form = checkedForm(
    { class: "finding-form" },
    async (fail) => {
      if (text.value.trim().length < 2) return fail(t("rep.answer_short"));
      try {
        await api(`/api/reports/findings/${finding.id}/answer`, { method: "POST", json: { text: text.value.trim() } });
        toast(t("rep.answered"));
        ctx.navigate("#/reports", true);
      } catch (err) {
        fail(err);
      }
    },
    field(id, t("rep.answer"), text),
    h("button", { type: "submit", class: "btn btn-primary" }, t("rep.send")),
  );
  return h(
    "li",
    { class: "card finding" },
    h("p", { class: "small muted" }, finding.report_title),
    h("p", {}, h("strong", {}, finding.unit_name), "：", finding.text),
    finding.answer ? h("p", { class: "small" }, t("rep.answer_was", { text: finding.answer })) : form,
  );
}

function lastMonthDay() {
  const now = new Date(Date.now() + 8 * 3600000);
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 0)).toISOString().slice(0, 10);
}

export default async function render(root, ctx) {
  const answers = ctx.has("head", "inspector");
  const [reports, findings] = await Promise.all([
    api("/api/reports"),
    answers ? api("/api/reports/findings?unanswered=true") : Promise.resolve([]),
  ]);
  const make = ctx.has("inspector", "committee")
    ? h(
        "button",
        {
          type: "button",
          class: "btn btn-block",
          onclick: (e) =>
            busy(e.currentTarget, async () => {
              await api("/api/reports", { method: "POST", json: { unit_id: ctx.me.unit_id, kind: "month", at: lastMonthDay() } });
              toast(t("rep.made"));
              ctx.navigate("#/reports", true);
            }),
        },
        t("rep.make"),
      )
    : null;
  add(
    root,
    heading(t("rep.title")),
    answers ? h("h2", { class: "sub" }, t("rep.findings")) : null,
    answers ? (findings.length ? h("ul", { class: "plain" }, findings.map((f) => findingCard(f, ctx))) : emptyState(t("rep.no_findings"))) : null,
    h("h2", { class: "sub" }, t("rep.list")),
    reports.length ? h("ul", { class: "plain" }, reports.map(reportCard)) : emptyState(t("rep.none")),
    make,
  );
}
