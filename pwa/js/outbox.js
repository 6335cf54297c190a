// The page side of the outbox: when to flush (app open, online, visible again, Background Sync,
// and every half minute while something waits), drafts, and what the screen says is waiting.
import { core } from "./api.js";

const SYNC_TAG = "probity-outbox";
let registration = null;
let timer = null;

export async function pendingCount(personId) {
  const items = await core.outbox.pending(personId);
  const answers = await core.outbox.answers(personId);
  const replies = items.filter((i) => i.kind !== "interview" && i.kind !== "eval_tag");
  return {
    queued: replies.filter((i) => i.state === "queued").length,
    failed: items.filter((i) => i.state === "failed").length,
    interviews: items.filter((i) => i.kind === "interview" && i.state === "queued").length,
    /** tags filed about people (the "1+3" evaluation) waiting for the network */
    tags: items.filter((i) => i.kind === "eval_tag" && i.state === "queued").length,
    /** check-up answers given on this phone that could not be saved yet (offline, or a try failed) */
    answers: answers
      .filter((i) => i.state === "queued" && (!navigator.onLine || i.attempts > 0))
      .reduce((n, i) => n + Object.keys(i.body.answers).length, 0),
  };
}

export function flushSoon() {
  if (!navigator.onLine) return Promise.resolve(null);
  return core.flush();
}

async function askForSync() {
  try {
    if (registration && registration.sync) await registration.sync.register(SYNC_TAG);
  } catch (_) {
    /* Background Sync is a bonus: the page flushes on its own triggers */
  }
}

export function setupOutbox(workerPromise, currentUser) {
  Promise.resolve(workerPromise).then((reg) => {
    registration = reg;
  });
  window.addEventListener("online", flushSoon);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") flushSoon();
  });
  if (navigator.serviceWorker) {
    navigator.serviceWorker.addEventListener("message", (event) => {
      if (event.data && event.data.type === "flush") flushSoon();
    });
  }
  timer = setInterval(async () => {
    const me = currentUser();
    if (!me || !navigator.onLine) return;
    const { queued, answers, interviews, tags } = await pendingCount(me.person_id);
    if (queued || answers || interviews || tags) flushSoon();
  }, 30000);
  flushSoon(); // app open
  return () => clearInterval(timer);
}

/** The draft for a warning's reply: the one being written, or a new one with a fresh client id. */
export async function draftFor(warningId, personId) {
  const items = (await core.outbox.all()) || [];
  const open = items.find(
    (i) => i.warning_id === warningId && i.person_id === personId && (i.state === "draft" || i.state === "failed"),
  );
  if (open) return open;
  return core.outbox.put({
    client_id: core.uuid(),
    kind: "verification",
    warning_id: warningId,
    person_id: personId,
    state: "draft",
    body: { result: null, cause: "", measures: "" },
    created_at: new Date().toISOString(),
    attempts: 0,
  });
}

/**
 * The interview record being written (one per warning it started from, or one without), or a new
 * one with a fresh client id. ``person_id`` is the recorder (whose outbox it is); the interviewee
 * is ``body.person_id``.
 */
export async function interviewDraft(personId, { clientId, warningId, scoreId, subjectId } = {}) {
  const items = (await core.outbox.all()) || [];
  const mine = items.filter((i) => i.kind === "interview" && i.person_id === personId && (i.state === "draft" || i.state === "failed"));
  // a talk an evaluation result suggests (issue 20) rests on the result, not on warnings
  const origin = warningId || (scoreId ? "score:" + scoreId : null);
  const open = clientId ? mine.find((i) => i.client_id === clientId) : mine.find((i) => (i.origin || null) === origin);
  if (open) return open;
  return core.outbox.put({
    client_id: core.uuid(),
    kind: "interview",
    origin,
    person_id: personId,
    state: "draft",
    body: { person_id: scoreId ? subjectId || null : null, score_id: scoreId || null, warning_ids: warningId ? [warningId] : [], interviewer_ids: [personId], held_at: "", place: "", q_true: "", q_cause: "", q_integrity: "", c_collaboration: "", c_control: "", c_education: "", suggestion: "", follow_up: "" },
    created_at: new Date().toISOString(),
    attempts: 0,
  });
}

/** Queue a tag filed about a person (the client id was made when the form opened) and try to send it. */
export function queueTag(clientId, personId, body) {
  return queue({ client_id: clientId, kind: "eval_tag", person_id: personId, body, created_at: new Date().toISOString(), attempts: 0 });
}

/** The reply queued (or refused) for a warning, if any. */
export async function queuedFor(warningId, personId) {
  const items = (await core.outbox.pending(personId)) || [];
  return items.find((i) => i.warning_id === warningId) || null;
}

/** Queue a draft and try to send it now. Resolves to the flush result. */
export async function queue(item) {
  item.state = "queued";
  item.error = null;
  item.queued_at = new Date().toISOString();
  await core.outbox.put(item);
  await askForSync();
  return flushSoon();
}
