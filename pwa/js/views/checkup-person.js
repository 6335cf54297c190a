// An inspector reads one person's check-up (every read is in the trail of acts): the current
// grade with its why, the dated results before it, the care measures, and assigns a new one
// (a measure that fits the risk type, a head or inspector over the person's unit, a due date).
import { api } from "../api.js";
import { errorText, fmtDate, t } from "../i18n.js";
import { add, busy, checkedForm, field, h, heading, icon, note, setFieldError, toast } from "../ui.js";
import { careCard } from "./checkup-care.js";
import { CARE_KINDS, gradeBadge, resultView, score } from "./checkup-parts.js";

function today(days = 0) {
  return new Date(Date.now() + days * 86400000 + 8 * 3600000).toISOString().slice(0, 10);
}

/** Heads and inspectors whose unit is the person's unit or above it. */
async function assignees(person, units) {
  const parent = new Map(units.map((u) => [u.id, u.parent_id]));
  const above = new Set();
  for (let u = person.unit_id; u; u = parent.get(u)) above.add(u);
  const pages = await Promise.all(["head", "inspector"].map((role) => api("/api/people?limit=500&role=" + role).catch(() => ({ items: [] }))));
  const seen = new Map();
  for (const p of pages.flatMap((page) => page.items)) if (p.active && above.has(p.unit_id)) seen.set(p.id, p);
  return [...seen.values()].sort((a, b) => a.name.localeCompare(b.name, "zh-CN"));
}

function assignForm(cid, person, result, people, ctx) {
  const types = Object.keys(CARE_KINDS);
  const suggested = result ? result.risk_types : [];
  const type = h("select", {}, types.map((k) => h("option", { value: k, selected: k === (suggested[0] || "psychological") }, t("ck.risk." + k) + (suggested.includes(k) ? " " + t("ck.suggested") : ""))));
  const kind = h("select", {});
  const fillKinds = () => {
    const wanted = (result && result.care_suggestions[type.value]) || [];
    kind.replaceChildren(...CARE_KINDS[type.value].map((k) => h("option", { value: k }, t("ck.kind." + k) + (wanted.includes(k) ? " " + t("ck.suggested") : ""))));
  };
  type.onchange = fillKinds;
  fillKinds();
  const assignee = h("select", {}, h("option", { value: "" }, t("ck.pick_assignee")), people.map((p) => h("option", { value: String(p.id) }, `${p.name} · ${p.unit_name}` + (p.roles.includes("inspector") ? " · " + t("role.inspector") : " · " + t("role.head")))));
  const due = h("input", { type: "date", min: today(), value: today(14) });
  const noteBox = h("textarea", { rows: 3, maxlength: 1000 });
  const send = h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("ck.assign"));
  const controls = { kind, assignee_person_id: assignee, due_date: due, risk_type: type, note: noteBox };
  return checkedForm(
    { class: "card" },
    (fail) => {
      setFieldError(assignee, assignee.value ? "" : t("ck.need_assignee"));
      setFieldError(due, due.value ? "" : t("ck.need_due"));
      if (!assignee.value) return assignee.focus();
      if (!due.value) return due.focus();
      return busy(
        send,
        async () => {
          const body = { person_id: person.id, campaign_id: cid, risk_type: type.value, kind: kind.value, assignee_person_id: Number(assignee.value), due_date: due.value };
          if (noteBox.value.trim()) body.note = noteBox.value.trim();
          await api("/api/checkups/care", { method: "POST", json: body });
          toast(t("ck.assigned"), "ok");
          ctx.reload();
        },
        (err) => {
          const control = err.body && controls[err.body.field];
          if (control) setFieldError(control, errorText(err));
          fail(err);
        },
      );
    },
    h("h2", {}, t("ck.assign_title")),
    field("ck-care-type", t("ck.risk_type"), type),
    field("ck-care-kind", t("ck.care_kind"), kind, { hint: t("ck.care_kind_hint") }),
    field("ck-care-assignee", t("ck.assignee"), assignee, { required: true, hint: t("ck.assignee_hint") }),
    field("ck-care-due", t("ck.due_date"), due, { required: true }),
    field("ck-care-note", t("ck.care_note"), noteBox),
    send,
  );
}

export default async function render(root, ctx, [campaignId, personId]) {
  const cid = Number(campaignId);
  const pid = Number(personId);
  const [results, person, care, units] = await Promise.all([
    api(`/api/checkups/campaigns/${cid}/people/${pid}/results`),
    api("/api/people/" + pid),
    api("/api/checkups/care?campaign_id=" + cid),
    api("/api/units"),
  ]);
  const current = results.find((r) => r.current) || null;
  const measures = care.filter((c) => c.person_id === pid);
  add(
    root,
    h("a", { class: "back", href: `#/checkups/campaigns/${cid}?tab=people` }, icon("back"), t("common.back")),
    heading(person.name),
    h("p", { class: "muted small" }, [person.employee_no, person.unit_name, person.post_name].filter(Boolean).join(" · ")),
    h("p", { class: "hint" }, t("ck.people_private")),
    current ? resultView(current) : note(t("ck.not_graded"), "warn"),
    current && current.risk_types.length
      ? h("p", { class: "alert alert-warn" }, t("ck.risk_types"), " ", current.risk_types.map((k) => t("ck.risk." + k)).join("、"))
      : null,
    results.length > 1
      ? h(
          "details",
          { class: "card" },
          h("summary", {}, t("ck.history", { n: results.length })),
          h(
            "ul",
            { class: "plain ck-history" },
            results.map((r) =>
              h(
                "li",
                {},
                h("strong", {}, fmtDate(r.graded_at, true)),
                " ",
                t("ck.reason." + r.reason),
                " · ",
                t("ck.policy_version", { version: r.why.policy_version }),
                " · ",
                gradeBadge(r.composite_grade),
                " ",
                score(r.composite),
                r.current ? null : h("span", { class: "muted small" }, " " + t("ck.superseded", { date: fmtDate(r.superseded_at, true) })),
              ),
            ),
          ),
        )
      : null,
    h("h2", { class: "sub" }, t("ck.care_title")),
    measures.length ? h("ul", { class: "plain" }, measures.map((c) => careCard(c, ctx))) : h("p", { class: "muted" }, t("ck.care_none_person")),
    assignForm(cid, person, current, await assignees(person, units), ctx),
  );
}
