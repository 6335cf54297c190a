// Answering a check-up on the phone: one statement at a time, Likert buttons, every answer saved
// as it is given (PUT of values through the outbox: with no signal it waits on the phone and goes
// when the network returns; a replay is harmless). Opening it again resumes at the first
// unanswered statement. The last step reviews, takes the optional note and submits after a
// confirmation.
import { api, core } from "../api.js";
import { errorText, fmtDate, fmtTime, t } from "../i18n.js";
import { flushSoon } from "../outbox.js";
import { add, busy, clear, field, h, heading, icon, note } from "../ui.js";
import { meter, pick, windowChip } from "./checkup-parts.js";

async function queuedItem(personId, campaignId) {
  return (await core.outbox.answers(personId)).find((i) => i.campaign_id === campaignId) || null;
}

/** The service worker's cache of API reads (sw.js API_CACHE): cleared at every sign-in and sign-out. */
const API_CACHE = "probity-api-v1";

/** What the server has saved, written into the worker's copies of my check-up (the questionnaire
 * and the list), so that opening the app with no signal resumes at the right statement. */
async function rememberSaved(cid, answers) {
  if (!("caches" in window)) return;
  try {
    const cache = await caches.open(API_CACHE);
    const patch = async (path, change) => {
      const url = location.origin + path;
      const res = await cache.match(url);
      if (!res) return;
      const body = change(await res.json());
      await cache.put(url, new Response(JSON.stringify(body), { status: 200, headers: res.headers }));
    };
    const answered = Object.keys(answers).length;
    await patch("/api/checkups/mine/" + cid, (mine) => {
      for (const q of mine.questions) q.answer = answers[q.code] ?? null;
      const open = mine.questions.findIndex((q) => q.answer === null);
      return Object.assign(mine, { answered, next_index: open < 0 ? null : open, status: answered ? "in_progress" : mine.status });
    });
    await patch("/api/checkups/mine", (list) => list.map((c) => (c.campaign_id === cid ? Object.assign(c, { answered, status: answered ? "in_progress" : c.status }) : c)));
  } catch (_) {
    /* a saved copy is a convenience: the server has the answers */
  }
}

export default async function render(root, ctx, [id]) {
  const cid = Number(id);
  const me = ctx.me.person_id;
  const data = await api("/api/checkups/mine/" + cid);
  const questions = data.questions;
  const total = questions.length;
  const answers = Object.fromEntries(questions.filter((q) => q.answer !== null).map((q) => [q.code, q.answer]));
  let noteText = data.note || "";
  let waiting = await queuedItem(me, cid);
  if (waiting) {
    Object.assign(answers, waiting.body.answers); // given on this phone, not yet saved by the server
    if ("note" in waiting.body) noteText = waiting.body.note || "";
  }
  const answeredCount = () => questions.filter((q) => answers[q.code] != null).length;
  const firstOpen = () => {
    const i = questions.findIndex((q) => answers[q.code] == null);
    return i < 0 ? total : i;
  };

  add(
    root,
    h("a", { class: "back", href: "#/checkups" }, icon("back"), t("common.back")),
    heading(data.campaign_title),
    h("p", { class: "muted small" }, pick(data, "title"), " · ", t("ck.version", { n: data.questionnaire_version }), " ", windowChip(data.window)),
  );

  if (data.status === "submitted") {
    add(root, note(t("ck.already_submitted"), "ok"), h("a", { class: "btn btn-primary btn-block", href: "#/checkups/" + cid + "/result" }, t("ck.see_result")));
    return undefined;
  }
  if (!data.can_answer) {
    add(
      root,
      h("p", { class: "alert alert-error", role: "alert" }, data.window === "scheduled" ? t("ck.scheduled_note") : t("ck.closed_note")),
      h("p", { class: "small" }, t("ck.answered_of", { n: answeredCount(), total })),
    );
    return undefined;
  }
  if (data.$savedAt) add(root, note(t("status.saved_copy", { time: fmtTime(data.$savedAt) }), "warn"));
  if (data.reopened_until) add(root, note(t("ck.reopened_note", { date: fmtDate(data.reopened_until, true) }), "ok"));
  else if (data.window === "late") add(root, note(t("ck.late_note", { date: fmtDate(data.deadline, true) }), "warn"));
  else if (data.deadline) add(root, h("p", { class: "small muted" }, t("ck.deadline", { date: fmtDate(data.deadline, true) })));

  const saveState = h("p", { class: "ck-save small", role: "status", "aria-live": "polite" });
  const failedBox = h("div", {});
  const stage = h("div", { class: "ck-stage" });
  add(root, failedBox, stage, saveState);

  // --- saving ---------------------------------------------------------------------------------
  let ticket = 0;
  async function showSaved() {
    const mine = ++ticket;
    waiting = await queuedItem(me, cid);
    if (mine !== ticket) return;
    clear(failedBox);
    if (!waiting) {
      saveState.textContent = answeredCount() ? t("ck.saved") : "";
      saveState.className = "ck-save small ok-text";
      if (answeredCount()) rememberSaved(cid, Object.fromEntries(Object.entries(answers).filter(([, v]) => v != null)));
    } else if (waiting.state === "failed") {
      saveState.textContent = "";
      const discard = h("button", { type: "button", class: "btn btn-quiet" }, t("ck.discard_unsaved"));
      discard.onclick = () =>
        busy(discard, async () => {
          await core.outbox.remove(waiting.client_id);
          ctx.reload();
        });
      add(failedBox, h("div", { class: "alert alert-error", role: "alert" }, h("p", {}, t("ck.not_saved"), " ", errorText(waiting.error)), discard));
    } else {
      saveState.textContent = !navigator.onLine ? t("ck.saved_offline") : waiting.attempts ? t("ck.saved_later") : t("ck.saving");
      saveState.className = "ck-save small muted";
    }
  }
  async function save(change, noteValue) {
    saveState.textContent = t("ck.saving");
    saveState.className = "ck-save small muted";
    await core.queueAnswers(me, cid, change, noteValue);
    await flushSoon();
    await showSaved();
  }
  const stop = core.onChange((msg) => {
    if (msg.type === "flushed") showSaved();
  });

  // --- one statement ----------------------------------------------------------------------------
  let index = firstOpen(); // the server's next_index, with what waits on this phone counted
  let advancing = null;

  function go(next) {
    clearTimeout(advancing);
    index = next;
    draw();
    const target = stage.querySelector("[data-focus]");
    if (target) target.focus();
  }

  function questionStep() {
    const q = questions[index];
    const chosen = answers[q.code];
    const headingId = "ck-q-" + q.code;
    const buttons = data.scale.map((label, i) => {
      const value = i + 1;
      return h(
        "button",
        {
          type: "button",
          class: "ck-choice",
          "aria-pressed": String(chosen === value),
          onclick: () => {
            answers[q.code] = value;
            for (const b of buttons) b.setAttribute("aria-pressed", String(b === buttons[i]));
            save({ [q.code]: value });
            clearTimeout(advancing);
            advancing = setTimeout(() => go(index + 1 < total ? index + 1 : firstOpen()), 250);
          },
        },
        h("span", { class: "ck-choice-n", "aria-hidden": "true" }, String(value)),
        h("span", {}, pick(label)),
      );
    });
    return h(
      "section",
      { class: "card ck-question" },
      h("p", { class: "row-between small" }, h("span", { class: "ck-count" }, t("ck.question_n", { n: index + 1, total })), h("span", { class: "muted" }, t("ck.answered_of", { n: answeredCount(), total }))),
      meter(t("ck.answered_of", { n: answeredCount(), total }), answeredCount(), total),
      h("h2", { id: headingId, class: "ck-statement", tabindex: "-1", "data-focus": "" }, pick(q, "text")),
      h("div", { class: "ck-scale", role: "group", "aria-labelledby": headingId }, buttons),
      h(
        "div",
        { class: "ck-nav" },
        h("button", { type: "button", class: "btn", disabled: index === 0, onclick: () => go(index - 1) }, icon("back"), t("ck.previous")),
        h("button", { type: "button", class: "btn", onclick: () => go(index + 1 < total ? index + 1 : total) }, index + 1 < total ? t("ck.next") : t("ck.review")),
      ),
    );
  }

  // --- review and submit ------------------------------------------------------------------------
  function reviewStep() {
    const missing = questions.filter((q) => answers[q.code] == null);
    const grid = h(
      "ol",
      { class: "ck-grid", "aria-label": t("ck.all_questions") },
      questions.map((q, i) =>
        h(
          "li",
          {},
          h(
            "button",
            {
              type: "button",
              class: answers[q.code] != null ? "done" : "open",
              "aria-label": t(answers[q.code] != null ? "ck.go_answered" : "ck.go_open", { n: i + 1 }),
              onclick: () => go(i),
            },
            String(i + 1),
          ),
        ),
      ),
    );
    const parts = [
      h("h2", { tabindex: "-1", "data-focus": "" }, missing.length ? t("ck.missing", { n: missing.length }) : t("ck.all_done", { total })),
      grid,
    ];
    const prompt = pick(data, "note_prompt");
    if (prompt) {
      const box = h("textarea", { rows: 3, maxlength: 500, value: noteText });
      let timer = null;
      box.oninput = () => {
        noteText = box.value;
        clearTimeout(timer);
        timer = setTimeout(() => save({}, noteText.trim() || null), 600);
      };
      parts.push(field("ck-note", prompt, box, { hint: t("ck.note_hint") }));
    }
    const submit = h("button", { type: "button", class: "btn btn-primary btn-block", disabled: missing.length > 0 }, t("ck.submit"));
    const confirmBox = h("div", { class: "ck-confirm", hidden: true });
    const error = h("div", { class: "alert alert-error", role: "alert", hidden: true, tabindex: "-1" });
    const fail = (text) => {
      error.textContent = text;
      error.hidden = false;
      error.focus();
    };
    submit.onclick = () => {
      error.hidden = true;
      confirmBox.hidden = false;
      submit.hidden = true;
      confirmBox.querySelector("button").focus();
    };
    const yes = h("button", { type: "button", class: "btn btn-primary" }, t("ck.confirm_submit"));
    const no = h("button", { type: "button", class: "btn" }, t("ck.confirm_back"));
    no.onclick = () => {
      confirmBox.hidden = true;
      submit.hidden = false;
      submit.focus();
    };
    yes.onclick = () =>
      busy(
        yes,
        async () => {
          if (!navigator.onLine) return fail(t("ck.submit_offline"));
          if (prompt && (noteText.trim() || null) !== (data.note || null)) await core.queueAnswers(me, cid, {}, noteText.trim() || null);
          await flushSoon();
          const left = await queuedItem(me, cid);
          if (left) return fail(left.state === "failed" ? errorText(left.error) : t("ck.submit_unsaved"));
          await api("/api/checkups/mine/" + cid + "/submit", { method: "POST" });
          ctx.navigate("#/checkups/" + cid + "/result");
          return undefined;
        },
        (err) => fail(errorText(err)),
      );
    add(confirmBox, h("p", {}, t("ck.confirm_text")), data.window === "late" && !data.reopened_until ? h("p", { class: "small" }, t("ck.confirm_late")) : null, h("div", { class: "actions" }, yes, no));
    parts.push(error, submit, confirmBox);
    if (missing.length) parts.push(h("button", { type: "button", class: "btn btn-block", onclick: () => go(questions.indexOf(missing[0])) }, t("ck.go_first_open", { n: questions.indexOf(missing[0]) + 1 })));
    else parts.push(h("button", { type: "button", class: "btn btn-quiet btn-block", onclick: () => go(total - 1) }, icon("back"), t("ck.previous")));
    return h("section", { class: "card ck-review" }, parts);
  }

  function draw() {
    clear(stage).append(index < total ? questionStep() : reviewStep());
  }

  draw();
  await showSaved();
  return () => {
    stop();
    clearTimeout(advancing);
  };
}
