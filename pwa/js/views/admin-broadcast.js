// Compose a broadcast (units, roles, now or later), or read one's statistics: who has read it,
// by unit and channel; remind those who have not, cancel a scheduled one.
import { api } from "../api.js";
import { confirmSheet } from "../sheet.js";
import { ratioBar } from "../charts.js";
import { errorText, fmtDate, fmtNumber, maybe, t } from "../i18n.js";
import { add, busy, checkedForm, field, h, heading, icon, setFieldError, toast } from "../ui.js";

const ROLES = ["employee", "head", "inspector", "committee", "admin", "expert"];
const TEMPLATES = ["bc.tpl_holiday", "bc.tpl_lesson", "bc.tpl_bulletin", "bc.tpl_checkup"];

export function unitTree(units) {
  const children = new Map();
  for (const u of units.filter((x) => x.active)) {
    const list = children.get(u.parent_id ?? 0) || [];
    list.push(u);
    children.set(u.parent_id ?? 0, list);
  }
  const out = [];
  const walk = (parent, depth) => {
    for (const u of (children.get(parent) || []).sort((a, b) => a.code.localeCompare(b.code))) {
      out.push([u, depth]);
      walk(u.id, depth + 1);
    }
  };
  walk(0, 0);
  return out;
}

async function composer(root, ctx) {
  const units = await api("/api/units");
  const title = h("input", { maxlength: 120, required: true });
  const body = h("textarea", { rows: 6, maxlength: 8000, required: true });
  const link = h("input", { type: "text", maxlength: 500, placeholder: "/#/…", autocapitalize: "off", spellcheck: "false" });
  // an integrity lesson: recipients who mark it studied are credited these hours (the portrait counts them)
  const hours = h("input", { type: "number", min: "0.5", max: "40", step: "0.5", inputmode: "decimal" });
  const unitBoxes = unitTree(units).map(([u, depth]) =>
    h("label", { class: "toggle tree", style: `padding-inline-start:${depth * 1.25}rem` }, h("input", { type: "checkbox", value: String(u.id) }), h("span", {}, u.name)),
  );
  const roleBoxes = ROLES.map((r) => h("label", { class: "toggle" }, h("input", { type: "checkbox", value: r }), h("span", {}, t("role." + r))));
  const when = h("input", { type: "datetime-local" });
  const later = h("input", { type: "checkbox", onchange: () => (when.disabled = !later.checked) });
  when.disabled = true;
  const send = h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("bc.send"));
  const targetsSet = h(
    "fieldset",
    { id: "bc-targets", "aria-describedby": "bc-targets-error" },
    h("legend", {}, t("bc.targets")),
    h("p", { class: "hint" }, t("bc.targets_hint")),
    h("details", { open: true }, h("summary", {}, t("bc.units")), h("div", { class: "tree-box" }, unitBoxes)),
    h("div", { class: "role-box" }, h("p", {}, t("bc.roles")), roleBoxes),
    h("p", { class: "field-error", id: "bc-targets-error", hidden: true }),
  );
  const form = checkedForm(
    { class: "card" },
    (fail) => {
        const unitIds = unitBoxes.map((l) => l.querySelector("input")).filter((i) => i.checked).map((i) => Number(i.value));
        const roles = roleBoxes.map((l) => l.querySelector("input")).filter((i) => i.checked).map((i) => i.value);
        setFieldError(title, title.value.trim() ? "" : t("bc.need_title"));
        setFieldError(body, body.value.trim() ? "" : t("bc.need_body"));
        setFieldError(targetsSet, unitIds.length || roles.length ? "" : t("err.empty_target"));
        const bad = form.querySelector("[aria-invalid=true]");
        if (bad) {
          (bad.matches("fieldset") ? bad.querySelector("input") : bad).focus();
          return;
        }
        const payload = { title: title.value.trim(), body: body.value.trim(), targets: { unit_ids: unitIds, roles, person_ids: [] } };
        if (link.value.trim()) payload.link = link.value.trim();
        if (Number(hours.value) > 0) payload.lesson_hours = Number(hours.value);
        if (later.checked && when.value) payload.send_at = when.value + ":00+08:00";
        busy(
          send,
          async () => {
            // what will happen, with the real count of people the targets reach
            const { count } = await api("/api/broadcasts/audience", { method: "POST", json: payload.targets });
            const sure = await confirmSheet({
              title: t("bc.confirm_title"),
              lines: [payload.title, t("bc.confirm_count", { n: count }), payload.send_at ? t("bc.confirm_later", { time: when.value.replace("T", " ") }) : t("bc.confirm_now")],
              confirm: t("bc.confirm_send", { n: count }),
            });
            if (!sure) return;
            const b = await api("/api/broadcasts", { method: "POST", json: payload });
            toast(b.state === "sent" ? t("bc.sent", { n: b.recipients }) : t("bc.scheduled"), "ok");
            ctx.navigate("#/admin/broadcasts/" + b.id);
          },
          fail,
        );
    },
    h("p", { class: "chips" }, h("span", { class: "muted small" }, t("bc.templates")), TEMPLATES.map((key) => h("button", { type: "button", class: "chip-btn", onclick: () => { title.value = t(key); title.focus(); } }, t(key)))),
    field("bc-title", t("bc.f_title"), title, { required: true }),
    field("bc-body", t("bc.f_body"), body, { required: true }),
    field("bc-link", t("bc.f_link"), link, { hint: t("bc.f_link_hint") }),
    field("bc-hours", t("bc.f_hours"), hours, { hint: t("bc.f_hours_hint") }),
    targetsSet,
    h("label", { class: "toggle" }, later, h("span", {}, t("bc.later"))),
    field("bc-when", t("bc.when"), when, { hint: t("bc.when_hint") }),
    send,
  );
  add(root, h("a", { class: "back", href: "#/admin/broadcasts" }, icon("back"), t("common.back")), heading(t("bc.new")), form);
}

async function statistics(root, ctx, id) {
  const [b, stats] = await Promise.all([api("/api/broadcasts/" + id), api("/api/broadcasts/" + id + "/stats")]);
  const out = h("div", { role: "status" });
  const actions = [];
  if (b.state === "sent" && stats.unread) {
    const remind = h("button", { type: "button", class: "btn btn-primary" }, t("bc.remind", { n: stats.unread }));
    remind.onclick = () =>
      busy(remind, async () => {
        const r = await api("/api/broadcasts/" + id + "/remind", { method: "POST" });
        toast(t("bc.reminded", { n: r.reminded }), "ok");
        ctx.reload();
      });
    actions.push(remind);
  }
  if (b.state === "scheduled") {
    const cancel = h("button", { type: "button", class: "btn btn-danger" }, t("bc.cancel"));
    cancel.onclick = () =>
      busy(
        cancel,
        async () => {
          await api("/api/broadcasts/" + id + "/cancel", { method: "POST" });
          ctx.reload();
        },
        (err) => out.replaceChildren(h("p", { class: "error-text" }, errorText(err))),
      );
    actions.push(cancel);
  }
  add(root, 
    h("a", { class: "back", href: "#/admin/broadcasts" }, icon("back"), t("common.back")),
    heading(b.title),
    h("p", { class: "muted" }, h("span", { class: "chip bs-" + b.state }, t("bc_state." + b.state)), " ", fmtDate(b.sent_at || b.send_at || b.created_at, true), b.reminders ? " · " + t("bc.reminders", { n: b.reminders }) : ""),
    h("section", { class: "card" }, ratioBar(t("bc.read_rate"), stats.recipients ? stats.read_ratio : null, t("bc.read_line", { read: fmtNumber(stats.read), total: fmtNumber(stats.recipients) })), h("div", { class: "actions" }, actions), out),
    stats.by_unit.length
      ? h(
          "section",
          { class: "card" },
          h("h2", {}, t("bc.by_unit")),
          stats.by_unit.map((u) => ratioBar(u.unit_name || "#" + u.unit_id, u.recipients ? u.read / u.recipients : null, t("bc.read_line", { read: u.read, total: u.recipients }))),
        )
      : null,
    Object.keys(stats.delivered_by_channel).length
      ? h(
          "section",
          { class: "card" },
          h("h2", {}, t("bc.by_channel")),
          h("dl", { class: "facts" }, Object.entries(stats.delivered_by_channel).map(([ch, n]) => [h("dt", {}, maybe("channel." + ch) || ch), h("dd", {}, fmtNumber(n))])),
        )
      : null,
    h("details", { class: "card" }, h("summary", {}, t("bc.body")), h("p", { class: "pre" }, b.body)),
  );
}

export default async function render(root, ctx, [id]) {
  if (id === "new") return composer(root, ctx);
  return statistics(root, ctx, Number(id));
}
