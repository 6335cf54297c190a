// One check-up campaign for those who run and watch it. Progress per unit (everyone with campaign
// figures); aggregates by unit or post with cells under five people suppressed (heads and the
// committee see nothing else); inspectors: each person's grade in their scope and form B.2;
// admins: reminders, re-opening one person's check-up, new participants, re-grading.
import { api } from "../api.js";
import { ratioBar } from "../charts.js";
import { errorText, fmtDate, fmtNumber, t } from "../i18n.js";
import { add, busy, checkedForm, emptyState, field, h, heading, icon, segmented, setFieldError, toast } from "../ui.js";
import { beijing, beijingInput, download, gradeBadge, profileChart, score, statusChip, windowChip } from "./checkup-parts.js";

function progressTab(root, ctx, campaign, progress) {
  const answering = campaign.window === "open" || campaign.window === "late";
  const out = h("div", { role: "status" });
  const actions = [];
  if (answering && ctx.has("admin", "inspector")) {
    const remind = h("button", { type: "button", class: "btn btn-primary" }, t("ck.remind"));
    remind.onclick = () =>
      busy(
        remind,
        async () => {
          const r = await api("/api/checkups/campaigns/" + campaign.id + "/remind", { method: "POST" });
          toast(t("ck.reminded", { n: r.count }), "ok");
        },
        (err) => out.replaceChildren(h("p", { class: "error-text" }, errorText(err))),
      );
    actions.push(remind);
  }
  if (ctx.has("admin")) {
    const sync = h("button", { type: "button", class: "btn" }, t("ck.sync"));
    sync.onclick = () =>
      busy(sync, async () => {
        const r = await api("/api/checkups/campaigns/" + campaign.id + "/participants/sync", { method: "POST" });
        toast(t("ck.synced", { n: r.count }), "ok");
        if (r.count) ctx.reload();
      });
    actions.push(sync);
  }
  add(
    root,
    h(
      "section",
      { class: "card" },
      ratioBar(t("ck.submitted_rate"), progress.participants ? progress.rate : null, t("ck.submitted_of", { n: progress.submitted, total: progress.participants })),
      actions.length ? h("div", { class: "actions" }, actions) : null,
      out,
    ),
    h("h2", { class: "sub" }, t("ck.by_unit_progress")),
    progress.units.length
      ? h(
          "section",
          { class: "card" },
          progress.units.map((u) =>
            ratioBar(u.unit_name, u.rate, t("ck.unit_progress", { done: u.submitted, total: u.participants, doing: u.in_progress, pending: u.pending, late: u.late })),
          ),
        )
      : emptyState(t("ck.no_participants")),
    ctx.has("admin") ? reopenForm(campaign, ctx) : null,
    ctx.has("admin") ? regradeBox(campaign) : null,
  );
}

/** Admin: reopen one person's check-up until a date, with a reason (kept in the trail). */
function reopenForm(campaign, ctx) {
  const q = h("input", { type: "search", maxlength: 60, autocomplete: "off" });
  const found = h("div", { class: "ck-people", role: "group", "aria-label": t("ck.reopen_pick") });
  const reason = h("textarea", { rows: 3, maxlength: 300 });
  const until = h("input", { type: "datetime-local", value: beijingInput(7, "23:59") });
  let chosen = null;
  const search = h("button", { type: "button", class: "btn" }, t("ck.search"));
  search.onclick = () =>
    busy(search, async () => {
      const page = await api("/api/people?limit=20&q=" + encodeURIComponent(q.value.trim()));
      chosen = null;
      found.replaceChildren(
        ...(page.items.length
          ? page.items.map((p) =>
              h(
                "label",
                { class: "choice" },
                h("input", { type: "radio", name: "ck-reopen-person", value: String(p.id), onchange: () => (chosen = p) }),
                h("span", {}, h("strong", {}, p.name), h("small", {}, [p.employee_no, p.unit_name, p.post_name].filter(Boolean).join(" · "))),
              ),
            )
          : [h("p", { class: "muted" }, t("ck.nobody_found"))]),
      );
    });
  const send = h("button", { type: "submit", class: "btn btn-primary" }, t("ck.reopen"));
  const form = checkedForm(
    {},
    (fail) => {
      setFieldError(reason, reason.value.trim().length >= 4 ? "" : t("ck.need_reason"));
      if (!chosen) return fail(t("ck.need_person"));
      if (reason.value.trim().length < 4) return reason.focus();
      return busy(
        send,
        async () => {
          await api("/api/checkups/campaigns/" + campaign.id + "/reopen", { method: "POST", json: { person_id: chosen.id, reason: reason.value.trim(), until: beijing(until.value) } });
          toast(t("ck.reopened", { name: chosen.name, date: fmtDate(beijing(until.value), true) }), "ok");
          ctx.reload();
        },
        fail,
      );
    },
    h("p", { class: "hint" }, t("ck.reopen_hint")),
    h("div", { class: "inline-field" }, field("ck-reopen-q", t("ck.person_search"), q), search),
    found,
    field("ck-reopen-reason", t("ck.reason"), reason, { required: true, hint: t("ck.reason_hint") }),
    field("ck-reopen-until", t("ck.until"), until, { required: true }),
    send,
  );
  return h("details", { class: "card" }, h("summary", {}, t("ck.reopen_title")), form);
}

function regradeBox(campaign) {
  const out = h("div", { role: "status" });
  const go = h("button", { type: "button", class: "btn" }, t("ck.regrade"));
  go.onclick = () =>
    busy(
      go,
      async () => {
        const r = await api("/api/checkups/campaigns/" + campaign.id + "/regrade", { method: "POST", json: {} });
        out.replaceChildren(h("p", { class: "ok-text" }, t("ck.regraded", { n: r.count })));
      },
      (err) => out.replaceChildren(h("p", { class: "error-text" }, errorText(err))),
    );
  return h("details", { class: "card" }, h("summary", {}, t("ck.regrade_title")), h("p", { class: "hint" }, t("ck.regrade_hint")), go, out);
}

/** A number of an aggregate cell, or "—" for a suppressed one (with the reason for screen readers). */
function shown(value, digits = 1) {
  if (value === null || value === undefined) return h("span", { class: "ck-suppressed", title: t("ck.suppressed_short") }, "—", h("span", { class: "sr-only" }, t("ck.suppressed_short")));
  return fmtNumber(value, digits);
}

function cellCard(cell, minCell) {
  const grades = cell.grades || {};
  return h(
    "li",
    { class: "ck-cell" + (cell.suppressed ? " is-suppressed" : "") },
    h("p", { class: "row-between" }, h("strong", {}, cell.label), h("span", {}, t("ck.people"), " ", shown(cell.people, 0))),
    cell.suppressed
      ? h("p", { class: "small muted" }, t("ck.suppressed", { n: minCell }))
      : [
          h("p", { class: "small" }, t("ck.avg_composite"), " ", shown(cell.composite), " · ", t("ck.avg_psych"), " ", shown(cell.psych_score)),
          h("p", { class: "small ck-grade-counts" }, ["high", "medium", "low"].map((g) => h("span", {}, t("ck.grade." + g), " ", shown(grades[g], 0)))),
        ],
  );
}

function figuresTab(root, ctx, campaign, agg, by) {
  const total = agg.total;
  add(
    root,
    segmented(t("ck.group_by"), [["unit", t("ck.by_unit")], ["post", t("ck.by_post")]], by, (v) => ctx.navigate(`#/checkups/campaigns/${campaign.id}?tab=figures&by=${v}`)),
    h("p", { class: "alert" }, t("ck.aggregates_note", { n: agg.min_cell })),
    h("ul", { class: "plain ck-cells ck-total" }, cellCard(total, agg.min_cell)),
    total.suppressed || !total.dimensions ? null : profileChart(t("ck.avg_profile"), total.dimensions),
    h("h2", { class: "sub" }, by === "unit" ? t("ck.by_unit") : t("ck.by_post")),
    agg.cells.length ? h("ul", { class: "plain ck-cells" }, agg.cells.map((c) => cellCard(c, agg.min_cell))) : emptyState(t("ck.no_results")),
  );
}

function peopleTab(root, ctx, campaign, rows, progress, unitId) {
  const units = progress.units;
  const unitSelect = h(
    "select",
    { onchange: (e) => ctx.navigate(`#/checkups/campaigns/${campaign.id}?tab=people` + (e.target.value ? "&unit=" + e.target.value : "")) },
    h("option", { value: "" }, t("ck.all_units")),
    units.map((u) => h("option", { value: String(u.unit_id), selected: u.unit_id === unitId }, u.unit_name)),
  );
  const b2 = h("button", { type: "button", class: "btn btn-primary btn-block" }, t("ck.download_b2"));
  b2.onclick = () =>
    busy(b2, async () => {
      const name = await download(`/api/checkups/campaigns/${campaign.id}/b2.xlsx` + (unitId ? "?unit_id=" + unitId : ""), `B2-${campaign.year}.xlsx`);
      toast(t("ck.downloaded", { name }), "ok");
    });
  const graded = rows.filter((r) => r.result);
  add(
    root,
    h("p", { class: "hint" }, t("ck.people_private")),
    field("ck-unit", t("ck.unit"), unitSelect),
    b2,
    h("p", { class: "small muted" }, t("ck.people_count", { n: rows.length, graded: graded.length })),
    rows.length
      ? h(
          "ul",
          { class: "wlist" },
          rows.map((r) =>
            h(
              "li",
              {},
              h(
                "a",
                { class: "wcard ck-person" + (r.result ? " lv-" + r.result.composite_grade : ""), href: `#/checkups/campaigns/${campaign.id}/people/${r.person_id}` },
                h("span", { class: "wcard-top" }, h("span", { class: "wcard-person" }, r.name), h("span", { class: "muted small" }, r.employee_no), statusChip(r.status)),
                h("span", { class: "wcard-object" }, [r.unit_name, r.post_name].filter(Boolean).join(" · ")),
                h(
                  "span",
                  { class: "wcard-bottom" },
                  r.result ? [t("ck.composite_grade"), " ", gradeBadge(r.result.composite_grade), " ", score(r.result.composite)] : h("span", { class: "muted" }, t("ck.not_graded")),
                  r.late ? h("span", { class: "chip cks-late" }, t("ck.late")) : null,
                ),
              ),
            ),
          ),
        )
      : emptyState(t("ck.no_participants")),
  );
}

export default async function render(root, ctx, [id], query) {
  const cid = Number(id);
  const inspector = ctx.has("inspector");
  const tabs = [["progress", t("ck.tab_progress")], ["figures", t("ck.tab_figures")]];
  if (inspector) tabs.push(["people", t("ck.tab_people")]);
  const tab = tabs.some(([k]) => k === query.get("tab")) ? query.get("tab") : "progress";
  const by = query.get("by") === "post" ? "post" : "unit";
  const unitId = Number(query.get("unit")) || null;
  const [campaign, progress, agg, rows] = await Promise.all([
    api("/api/checkups/campaigns/" + cid),
    api(`/api/checkups/campaigns/${cid}/progress`),
    tab === "figures" ? api(`/api/checkups/campaigns/${cid}/aggregates?by=${by}`) : null,
    tab === "people" ? api(`/api/checkups/campaigns/${cid}/results` + (unitId ? "?unit_id=" + unitId : "")) : null,
  ]);
  add(
    root,
    h("a", { class: "back", href: "#/checkups" }, icon("back"), t("common.back")),
    heading(campaign.title),
    h(
      "p",
      { class: "muted small" },
      windowChip(campaign.window),
      " ",
      t("ck.window_dates", { from: fmtDate(campaign.opens_at, true), to: fmtDate(campaign.closes_at, true) }),
      campaign.late_until ? " · " + t("ck.late_until", { date: fmtDate(campaign.late_until, true) }) : "",
    ),
    segmented(t("ck.tabs"), tabs, tab, (v) => ctx.navigate(`#/checkups/campaigns/${cid}` + (v === "progress" ? "" : "?tab=" + v))),
  );
  if (tab === "figures") figuresTab(root, ctx, campaign, agg, by);
  else if (tab === "people") peopleTab(root, ctx, campaign, rows, progress, unitId);
  else progressTab(root, ctx, campaign, progress);
}
