// One warning: facts, evidence, the reply waiting on this phone, replies with photos, the head's
// decision (confirm, or return with a reason), and the timeline.
import { api, blobUrl, core } from "../api.js";
import { currentLang, errorText, fmtDate, fmtPeriod, maybe, t } from "../i18n.js";
import { detailPath } from "../kept.js";
import { confirmSheet } from "../sheet.js";
import { heldIds, holdConfirm } from "../undo.js";
import { openViewer } from "../viewer.js";
import { urgePanel } from "./urge.js";
import { queuedFor } from "../outbox.js";
import { add, busy, dueLine, field, h, heading, icon, levelBadge, note, setFieldError, stateChip, toast } from "../ui.js";

/** The evidence as the server labelled it: each fact under its label, formatted with its unit. */
export function evidenceList(items) {
  if (!items || !items.length) return h("p", { class: "muted" }, t("evidence.none"));
  return h("dl", { class: "facts evidence" }, items.map((item) => [h("dt", {}, item.label), h("dd", {}, h("strong", {}, item.value))]));
}

function photoStrip(warningId, ids, photos, urls) {
  const chosen = photos.filter((p) => ids.includes(p.id));
  if (!chosen.length) return null;
  // each picture fetched once behind the token; the viewer shows them full screen, in the page
  const pictures = chosen.map((p) =>
    blobUrl("/api/warnings/" + warningId + "/photos/" + p.id).then(
      (url) => {
        urls.push(url);
        return url;
      },
      () => null,
    ),
  );
  return h(
    "div",
    { class: "thumbs" },
    chosen.map((p, i) => {
      const img = h("img", { alt: t("reply.photo_n", { n: i + 1 }), width: 96, height: 96, loading: "lazy" });
      pictures[i].then((url) => (url ? (img.src = url) : img.classList.add("broken")));
      return h("button", { type: "button", class: "thumb", "aria-label": t("viewer.open", { n: i + 1 }), onclick: () => openViewer(pictures, i) }, img);
    }),
  );
}

function verificationCard(v, warningId, photos, urls) {
  return h(
    "article",
    { class: "card reply" },
    h(
      "header",
      { class: "reply-head" },
      h("strong", {}, t("warning.round", { n: v.round })),
      h("span", { class: "badge " + (v.result === "true" ? "finding-true" : "finding-false") }, t("finding." + v.result)),
      h("span", { class: "muted" }, fmtDate(v.submitted_at, true)),
    ),
    h("dl", { class: "facts" }, [
      h("dt", {}, t("reply.cause")),
      h("dd", { class: "pre" }, v.cause),
      v.measures ? [h("dt", {}, t("reply.measures")), h("dd", { class: "pre" }, v.measures)] : null,
      v.latitude !== null && v.latitude !== undefined ? [h("dt", {}, t("reply.location")), h("dd", {}, `${v.latitude.toFixed(5)}, ${v.longitude.toFixed(5)}` + (v.accuracy_m ? ` (±${Math.round(v.accuracy_m)} m)` : ""))] : null,
    ]),
    photoStrip(warningId, v.photo_ids, photos, urls),
    v.decision
      ? h(
          "p",
          { class: "decision " + v.decision },
          t("decision." + v.decision, { date: fmtDate(v.decided_at, true) }),
          v.decision_reason ? h("span", { class: "pre" }, " — " + v.decision_reason) : null,
        )
      : h("p", { class: "muted" }, t("decision.pending")),
  );
}

function waitingBox(item, ctx) {
  const failed = item.state === "failed";
  return h(
    "section",
    { class: "alert " + (failed ? "alert-error" : "alert-warn"), role: "status" },
    h("p", {}, icon("cloud"), " ", failed ? t("outbox.item_refused") : t("outbox.item_waiting")),
    failed && item.error ? h("p", {}, errorText(item.error)) : null,
    !failed && item.attempts ? h("p", { class: "small" }, t("outbox.attempts", { n: item.attempts })) : null,
    h(
      "div",
      { class: "actions" },
      failed
        ? h("a", { class: "btn", href: "#/warnings/" + item.warning_id + "/reply" }, t("outbox.edit"))
        : h("button", { class: "btn", type: "button", onclick: (e) => busy(e.currentTarget, () => core.flush()) }, t("outbox.send_now")),
      failed
        ? h(
            "button",
            {
              class: "btn btn-quiet",
              type: "button",
              onclick: async () => {
                if (!confirm(t("outbox.discard_confirm"))) return;
                await core.outbox.remove(item.client_id);
                ctx.reload();
              },
            },
            t("outbox.discard"),
          )
        : null,
    ),
  );
}

/** The next reply of my unit waiting for me, other than this one and those held to be sent. */
async function nextWaiting(currentId) {
  const page = await api("/api/warnings?view=unit&state=submitted&limit=50");
  const held = heldIds();
  const next = page.items.find((x) => x.id !== currentId && !held.has(x.id));
  return next ? "#/warnings/" + next.id : null;
}

function decisionPanel(w, actions, ctx) {
  if (!actions.some((a) => a === "confirm" || a === "return" || a === "close")) return null;
  const error = h("div", { class: "alert alert-error", role: "alert", hidden: true });
  const fail = (err) => {
    error.textContent = errorText(err);
    error.hidden = false;
  };
  const done = (key) => {
    toast(t(key), "ok");
    ctx.refreshBadges();
    ctx.reload();
  };
  const here = "#/warnings/" + w.id;
  const reason = h("textarea", { rows: 3, maxlength: 2000, oninput: () => setFieldError(reason, "") });
  const panel = h("section", { class: "card decide", "aria-labelledby": "decide-title" }, h("h2", { id: "decide-title" }, t("decide.title")), error);
  if (heldIds().has(w.id)) return add(panel, note(t("decide.held"), "info"));
  /** Confirm behind the undo bar; then the next reply waiting, or this warning again. */
  const confirmHeld = async (andNext) => {
    const next = andNext ? await nextWaiting(w.id).catch(() => null) : null;
    await holdConfirm([w.id], {
      reason: reason.value.trim(),
      onSent: () => {
        ctx.refreshBadges();
        if (location.hash === here) ctx.reload();
      },
      onUndone: () => ctx.navigate(here),
    });
    if (andNext) {
      if (!next) toast(t("decide.all_done"), "ok");
      ctx.navigate(next || "#/queue");
    } else {
      panel.replaceChildren(h("h2", { id: "decide-title" }, t("decide.title")), note(t("decide.held"), "info"));
    }
  };
  if (actions.includes("confirm")) {
    add(panel, 
      field("decide-reason", t("decide.reason"), reason, { hint: t("decide.reason_hint") }),
      h(
        "div",
        { class: "actions" },
        h("button", { class: "btn btn-primary", type: "button", onclick: (e) => busy(e.currentTarget, () => confirmHeld(true), fail) }, t("decide.confirm_next")),
        h("button", { class: "btn", type: "button", onclick: (e) => busy(e.currentTarget, () => confirmHeld(false), fail) }, t("decide.confirm")),
        h(
          "button",
          {
            class: "btn btn-danger",
            type: "button",
            onclick: (e) => {
              if (!reason.value.trim()) {
                setFieldError(reason, t("err.reason_required"));
                reason.focus();
                return;
              }
              setFieldError(reason, "");
              busy(
                e.currentTarget,
                async () => {
                  await api("/api/warnings/" + w.id + "/return", { method: "POST", json: { reason: reason.value.trim() } });
                  done("decide.returned");
                },
                fail,
              );
            },
          },
          t("decide.return"),
        ),
      ),
    );
  }
  if (actions.includes("close")) {
    add(panel, 
      h("p", { class: "hint" }, t("decide.close_hint")),
      h(
        "button",
        {
          class: "btn",
          type: "button",
          onclick: async (e) => {
            const sure = await confirmSheet({ title: t("decide.close_title"), lines: [w.topic_name || t("warning.untitled"), w.person_name || "", t("decide.close_hint")].filter(Boolean), confirm: t("decide.close") });
            if (!sure) return;
            busy(
              e.target.closest("button") || e.currentTarget,
              async () => {
                await api("/api/warnings/" + w.id + "/close", { method: "POST" });
                done("decide.closed");
              },
              fail,
            );
          },
        },
        t("decide.close"),
      ),
    );
  }
  return panel;
}

/** Who took a step, as people know them: the system, oneself, or the warning's person by name
 * (never an account's username). */
function actorOf(s, w, me) {
  if (s.actor_person_id === null || s.actor_person_id === undefined) return t("actor.system");
  if (s.actor_person_id === me) return t("actor.you");
  if (s.actor_name) return s.actor_name;
  if (s.actor_person_id === w.person_id && w.person_name) return w.person_name;
  return null;
}

function timeline(steps, w, me) {
  return h(
    "ol",
    { class: "timeline" },
    steps.map((s) =>
      h(
        "li",
        {},
        h("time", { datetime: s.at }, fmtDate(s.at, true)),
        h("span", { class: "step" }, maybe("step." + s.kind) || s.kind),
        actorOf(s, w, me) ? h("span", { class: "muted" }, " · " + actorOf(s, w, me)) : null,
        s.channel && s.channel !== "system" ? h("span", { class: "muted" }, " · " + (maybe("channel." + s.channel) || s.channel)) : null,
        s.note ? h("p", { class: "pre small" }, s.note) : null,
      ),
    ),
  );
}

export default async function render(root, ctx, [id]) {
  const warningId = Number(id);
  let detail;
  try {
    detail = await api(detailPath(warningId, currentLang()));
  } catch (err) {
    if (err.code !== "network") throw err;
    // offline, and this one was not kept (not open, or the inbox never listed it with a signal)
    add(root, h("a", { class: "back", href: "#/warnings" }, icon("back"), t("common.back")), heading(t("warning.offline_title")), note(t("warning.not_kept"), "warn"));
    return undefined;
  }
  const w = detail.warning;
  const urls = [];
  const mine = w.person_id === ctx.me.person_id;
  const checkable = !mine && ctx.has("head", "inspector") && w.level === "high" && w.finding === "true";
  const sheet = checkable ? (await api("/api/check-sheets?warning_id=" + warningId).catch(() => []))[0] : null;
  const pending = mine ? await queuedFor(warningId, ctx.me.person_id) : null;
  let person = null;
  if (!mine) person = await api("/api/people/" + w.person_id).catch(() => null);

  add(root, 
    h("a", { class: "back", href: ctx.has("head", "inspector") && !mine ? "#/queue" : "#/warnings" }, icon("back"), t("common.back")),
    h(
      "header",
      { class: "detail-head lv-" + w.level + (w.overdue ? " overdue" : "") },
      heading(w.topic_name || t("warning.untitled")),
      h("p", {}, levelBadge(w.level), " ", stateChip(w.state)),
    ),
    w.instruction ? h("p", { class: "instruction" }, w.instruction) : null,
    detail.$savedAt ? note(t("status.saved_copy_short"), "warn") : null,
    h("dl", { class: "facts" }, [
      person || (!mine && w.person_name)
        ? [h("dt", {}, t("warning.person")), h("dd", {}, person ? [person.name, person.post_name, person.unit_name].filter(Boolean).join(" · ") : w.person_name)]
        : null,
      h("dt", {}, t("warning.object")),
      h("dd", {}, w.object_key),
      h("dt", {}, t("warning.period")),
      h("dd", {}, fmtPeriod(w.period_key)),
      h("dt", {}, t("warning.raised")),
      h("dd", {}, fmtDate(w.raised_at, true)),
      h("dt", {}, t("warning.due")),
      h("dd", {}, dueLine(w)),
      w.hit_count > 1 ? [h("dt", {}, t("warning.hits")), h("dd", {}, String(w.hit_count))] : null,
    ]),
    pending ? waitingBox(pending, ctx) : null,
    !pending && detail.actions.includes("verify")
      ? h("a", { class: "btn btn-primary btn-block", href: "#/warnings/" + warningId + "/reply" }, t(w.state === "returned" ? "warning.reply_again" : "warning.reply"))
      : null,
    h(
      "section",
      { class: "card" },
      h("h2", {}, t("warning.evidence")),
      evidenceList(detail.evidence_items),
      photoStrip(warningId, detail.photos.filter((p) => p.by_subject === false).map((p) => p.id), detail.photos, urls),
    ),
    detail.verifications.length
      ? h("section", {}, h("h2", {}, t("warning.replies")), [...detail.verifications].reverse().map((v) => verificationCard(v, warningId, detail.photos, urls)))
      : null,
    decisionPanel(w, detail.actions, ctx),
    urgePanel(w, detail.actions, ctx),
    !mine && ctx.has("head", "inspector")
      ? h("a", { class: "btn btn-block iv-start", href: "#/interviews/new?warning=" + warningId }, t("iv.record_for_warning"))
      : null,
    checkable
      ? h("a", { class: "btn btn-block", href: sheet ? "#/checks/" + sheet.id : "#/checks/new?warning=" + warningId }, t(sheet ? "checks.open" : "checks.fill"))
      : null,
    !mine && ctx.has("inspector") && w.finding === "true" && ["confirmed", "closed"].includes(w.state)
      ? h("a", { class: "btn btn-block", href: "#/clues/new?warning=" + warningId }, t("clue.from_warning"))
      : null,
    h("section", { class: "card" }, h("h2", {}, t("warning.timeline")), timeline(detail.timeline, w, ctx.me.person_id)),
  );
  return () => urls.forEach((u) => URL.revokeObjectURL(u));
}
