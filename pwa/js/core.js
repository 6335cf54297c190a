/* Probity core: IndexedDB, the session's tokens, the authorised fetch and the reply outbox.
 *
 * A classic script on purpose: the service worker loads it with importScripts() (Background Sync
 * flushes the outbox with no page open) and the page imports it as a module for its side effect.
 * Either way it sets globalThis.ProbityCore. Nothing here touches the DOM.
 *
 * Outbox design (after Enketo/ODK): a reply form gets a client id when opened; the draft and its
 * photo blobs live in IndexedDB; a queued reply is sent photos first (the server keeps one photo
 * per SHA-256 and warning, so a re-upload is harmless), then the reply under its client id (the
 * server stores it once and answers a replay with the first result). A reply counts as sent only
 * when the server's answer echoes its client id.
 *
 * Tags filed about people (kind "eval_tag") too: the photo first, then the tag.
 *
 * Interview records (kind "interview") go the same way: the signature PNGs first (the server keeps
 * one unbound signature per SHA-256 and recorder), then the record under its client id.
 *
 * Check-up answers (kind "checkup_answers") wait in the same store, one item per person and
 * campaign holding the values not yet saved. They are PUTs of values: a replay is harmless, a
 * later answer to the same question replaces the earlier one, and an item is read and written in
 * one transaction so an answer given while a send is under way is never lost.
 */
(function (g) {
  "use strict";

  const DB_NAME = "probity";
  const DB_VERSION = 1;
  const CHANNEL_HEADER = "X-Probity-Channel";
  const ANSWERS = "checkup_answers";
  const INTERVIEW = "interview";
  const TAG = "eval_tag";
  const BUS = typeof BroadcastChannel === "function" ? new BroadcastChannel("probity") : null;
  const listeners = new Set();

  let dbPromise = null;

  function openDb() {
    if (!dbPromise) {
      dbPromise = new Promise((resolve, reject) => {
        const req = indexedDB.open(DB_NAME, DB_VERSION);
        req.onupgradeneeded = () => {
          const db = req.result;
          if (!db.objectStoreNames.contains("kv")) db.createObjectStore("kv");
          if (!db.objectStoreNames.contains("outbox")) db.createObjectStore("outbox", { keyPath: "client_id" });
          if (!db.objectStoreNames.contains("photos")) {
            db.createObjectStore("photos", { keyPath: "id" }).createIndex("client_id", "client_id");
          }
        };
        req.onsuccess = () => {
          const db = req.result;
          db.onversionchange = () => {
            db.close();
            dbPromise = null;
          };
          resolve(db);
        };
        req.onerror = () => {
          dbPromise = null;
          reject(req.error);
        };
      });
    }
    return dbPromise;
  }

  /** Run fn(store) in one transaction; resolves with the result of the request fn returns. */
  async function inStore(name, mode, fn) {
    const db = await openDb();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(name, mode);
      let out;
      const req = fn(tx.objectStore(name));
      if (req && typeof req === "object" && "onsuccess" in req) {
        req.onsuccess = () => {
          out = req.result;
        };
      } else {
        out = req;
      }
      tx.oncomplete = () => resolve(out);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  }

  const kv = {
    get: (key) => inStore("kv", "readonly", (s) => s.get(key)),
    set: (key, value) => inStore("kv", "readwrite", (s) => s.put(value, key)),
    del: (key) => inStore("kv", "readwrite", (s) => s.delete(key)),
  };

  // --- change notices between page, other tabs and the service worker ----------------------
  function announce(type, data) {
    const msg = Object.assign({ type }, data || {});
    for (const fn of listeners) fn(msg);
    if (BUS) BUS.postMessage(msg);
  }
  if (BUS) BUS.onmessage = (event) => listeners.forEach((fn) => fn(event.data));
  function onChange(fn) {
    listeners.add(fn);
    return () => listeners.delete(fn);
  }

  // --- locks: one refresh and one flush at a time across tabs and the worker ----------------
  function withLock(name, options, fn) {
    const locks = g.navigator && g.navigator.locks;
    if (locks && typeof locks.request === "function") return locks.request(name, options, fn);
    return fn({ name });
  }

  // --- session ------------------------------------------------------------------------------
  const session = {
    get: () => kv.get("session"),
    async set(value) {
      await kv.set("session", value);
      announce("session");
    },
    async clear() {
      await kv.del("session");
      announce("session");
    },
  };

  /** Trade the refresh token once, even when several requests (or tabs) saw the token expire. */
  function refresh(staleAccess) {
    return withLock("probity-refresh", {}, async () => {
      const s = await session.get();
      if (!s || !s.refresh) return false;
      if (s.access && s.access !== staleAccess) return true; // someone refreshed meanwhile
      const res = await fetch("/api/auth/refresh", {
        method: "POST",
        headers: { "Content-Type": "application/json", [CHANNEL_HEADER]: "pwa" },
        body: JSON.stringify({ refresh_token: s.refresh }),
      });
      if (!res.ok) {
        if (res.status === 401 || res.status === 400) {
          await session.set(Object.assign({}, s, { access: null, refresh: null, ended: true }));
        }
        return false;
      }
      const t = await res.json();
      await session.set(Object.assign({}, s, { access: t.access_token, refresh: t.refresh_token, ended: false }));
      return true;
    });
  }

  /** fetch() with the channel header, the bearer token, and one refresh on 401 token_expired. */
  async function authFetch(path, init, retried) {
    const options = Object.assign({}, init || {});
    const headers = new Headers(options.headers || {});
    headers.set(CHANNEL_HEADER, "pwa");
    const s = await session.get();
    if (s && s.access) headers.set("Authorization", "Bearer " + s.access);
    options.headers = headers;
    const res = await fetch(path, options);
    if (res.status === 401 && !retried && s && s.refresh) {
      let code = "";
      try {
        code = (await res.clone().json()).code || "";
      } catch (_) {
        code = "";
      }
      if (code === "token_expired" && (await refresh(s.access))) return authFetch(path, init, true);
    }
    return res;
  }

  /**
   * POST JSON from a page that is going away (pagehide): started at once, with no await before it
   * (the session's token is given, read earlier), keepalive so it may outlive the page.
   */
  function postOnLeave(path, body, access) {
    const headers = { "Content-Type": "application/json" };
    headers[CHANNEL_HEADER] = "pwa";
    if (access) headers.Authorization = "Bearer " + access;
    return fetch(path, { method: "POST", keepalive: true, headers, body: JSON.stringify(body) }).catch(() => null);
  }

  /** fetch() with the channel header and never a token: a report from the public must not say
   * who is signed in on this phone. */
  function publicFetch(path, init) {
    const options = Object.assign({}, init || {});
    const headers = new Headers(options.headers || {});
    headers.set(CHANNEL_HEADER, "pwa");
    options.headers = headers;
    options.credentials = "omit";
    return fetch(path, options);
  }

  // --- outbox -------------------------------------------------------------------------------
  const outbox = {
    get: (clientId) => inStore("outbox", "readonly", (s) => s.get(clientId)),
    all: () => inStore("outbox", "readonly", (s) => s.getAll()),
    async put(item) {
      item.updated_at = new Date().toISOString();
      await inStore("outbox", "readwrite", (s) => s.put(item));
      announce("outbox");
      return item;
    },
    async remove(clientId) {
      const photos = await outbox.photos(clientId);
      const db = await openDb();
      await new Promise((resolve, reject) => {
        const tx = db.transaction(["outbox", "photos"], "readwrite");
        tx.objectStore("outbox").delete(clientId);
        for (const p of photos) tx.objectStore("photos").delete(p.id);
        tx.oncomplete = resolve;
        tx.onerror = () => reject(tx.error);
      });
      announce("outbox");
    },
    photos: async (clientId) =>
      ((await inStore("photos", "readonly", (s) => s.index("client_id").getAll(clientId))) || []).sort(
        (a, b) => a.n - b.n,
      ),
    putPhoto: (photo) => inStore("photos", "readwrite", (s) => s.put(photo)),
    deletePhoto: (id) => inStore("photos", "readwrite", (s) => s.delete(id)),
    /** Replies of one person that are queued or were refused (drafts are not "waiting"). */
    async pending(personId) {
      const items = (await outbox.all()) || [];
      return items.filter((i) => i.person_id === personId && i.kind !== ANSWERS && (i.state === "queued" || i.state === "failed"));
    },
    /** Check-up answers of one person not yet saved by the server (queued or refused). */
    async answers(personId) {
      const items = (await outbox.all()) || [];
      return items.filter((i) => i.person_id === personId && i.kind === ANSWERS);
    },
  };

  /** Read one outbox item and write what change(item) returns (null deletes) in one transaction. */
  async function update(clientId, change) {
    const box = { value: undefined };
    await inStore("outbox", "readwrite", (store) => {
      const req = store.get(clientId);
      req.onsuccess = () => {
        const next = change(req.result);
        if (next === null) store.delete(clientId);
        else if (next) store.put(next);
        box.value = next;
      };
      return box;
    });
    return box.value;
  }

  /** Keep check-up answers ({item code: value}) and, when given, the note until the server has them. */
  async function queueAnswers(personId, campaignId, answers, note) {
    const clientId = "checkup:" + campaignId + ":" + personId;
    const now = new Date().toISOString();
    const item = await update(clientId, (old) => {
      const next = old || { client_id: clientId, kind: ANSWERS, campaign_id: campaignId, person_id: personId, body: { answers: {} }, created_at: now, attempts: 0 };
      Object.assign(next.body.answers, answers || {});
      if (note !== undefined) next.body.note = note;
      return Object.assign(next, { state: "queued", error: null, queued_at: next.queued_at || now, updated_at: now });
    });
    announce("outbox");
    return item;
  }

  const RETRY_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

  async function problem(res) {
    let body = {};
    try {
      body = await res.json();
    } catch (_) {
      body = {};
    }
    return { status: res.status, code: body.code || "http_" + res.status, detail: body.detail || "", errors: body.errors };
  }

  /** Send JSON: "auth" (signed out) or "retry" (try later) when that is all there is to say, else the response. */
  async function sendJson(method, path, body) {
    const res = await authFetch(path, { method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    if (res.status === 401) return "auth";
    if (RETRY_STATUS.has(res.status)) return "retry";
    return res;
  }

  /**
   * Upload an item's files (photos of a reply, signatures of an interview) that have no server id
   * yet, keeping each id as it comes (a file is stored once per SHA-256, so a re-upload after a
   * lost answer is harmless). Resolves to the blobs in order, or "auth" / "retry" / "failed".
   */
  async function uploadBlobs(item, path, name) {
    const blobs = await outbox.photos(item.client_id);
    for (const blob of blobs) {
      if (blob.photo_id && !blob.server_id) blob.server_id = blob.photo_id; // queued by an older version
      if (blob.server_id) continue;
      const form = new FormData();
      form.append("file", blob.blob, name(blob));
      const res = await authFetch(path, { method: "POST", body: form });
      if (res.status === 401) return "auth";
      if (RETRY_STATUS.has(res.status)) return "retry";
      if (!res.ok) return refused(item, await problem(res));
      blob.server_id = (await res.json()).id;
      await outbox.putPhoto(blob);
    }
    return blobs;
  }

  /** POST the item's JSON; it counts as sent only when the answer echoes the client id. */
  async function postOnce(item, path, body, echoed, last) {
    const res = await sendJson("POST", path, Object.assign({}, body, { client_id: item.client_id }));
    if (typeof res === "string") return res;
    if (res.status === 200 || res.status === 201) {
      const answer = await res.json();
      if (answer && echoed(answer) === item.client_id) {
        await outbox.remove(item.client_id);
        await kv.set(last.key, Object.assign({ client_id: item.client_id, at: new Date().toISOString() }, last.data(answer)));
        return "sent";
      }
      return "retry";
    }
    return refused(item, await problem(res));
  }

  /** Send one queued reply. Resolves to "sent", "retry", "auth" or "failed" (refused, kept). */
  async function sendReply(item) {
    const photos = await uploadBlobs(item, "/api/warnings/" + item.warning_id + "/photos", (p) => "photo-" + p.n + ".jpg");
    if (typeof photos === "string") return photos;
    const body = Object.assign({}, item.body, { photo_ids: photos.map((p) => p.server_id) });
    return postOnce(item, "/api/warnings/" + item.warning_id + "/verifications", body, (a) => a.verification && a.verification.client_id, {
      key: "lastSent",
      data: () => ({ warning_id: item.warning_id }),
    });
  }

  /** Send one queued interview record (B.12): the signatures drawn on the phone, then the record. */
  async function sendInterview(item) {
    const signed = await uploadBlobs(item, "/api/interviews/signatures", (s) => "signature-" + s.signer + "-" + s.signer_id + ".png");
    if (typeof signed === "string") return signed;
    const signatures = signed.map((s) => ({ signature_id: s.server_id, signer: s.signer, person_id: s.signer_id }));
    const { score_id: scoreId, ...record } = item.body;
    if (scoreId) {
      // a first-form talk an evaluation result suggested: the person and the basis come from the result
      delete record.person_id;
      delete record.warning_ids;
    }
    const path = scoreId ? "/api/evaluation/scores/" + scoreId + "/interview" : "/api/interviews";
    return postOnce(item, path, Object.assign(record, { signatures }), (a) => a.client_id, {
      key: "lastInterview",
      data: (a) => ({ id: a.id }),
    });
  }

  /** Send one tag filed about a person (the "1+3" evaluation): its photo first, if any, then the
   * tag, stored once under its client id. */
  async function sendTag(item) {
    const photos = await uploadBlobs(item, "/api/evaluation/photos", (p) => "photo-" + p.n + ".jpg");
    if (typeof photos === "string") return photos;
    const body = photos.length ? Object.assign({}, item.body, { photo_id: photos[0].server_id }) : item.body;
    return postOnce(item, "/api/evaluation/tags", body, (a) => a.client_id, { key: "lastTag", data: (a) => ({ id: a.id }) });
  }

  /** Save one person's queued check-up answers; what was given meanwhile stays queued. */
  async function sendAnswers(item) {
    const sent = JSON.parse(JSON.stringify(item.body));
    const res = await sendJson("PUT", "/api/checkups/mine/" + item.campaign_id + "/answers", sent);
    if (typeof res === "string") return res;
    if (res.ok) {
      await update(item.client_id, (now) => {
        if (!now) return undefined;
        for (const [code, value] of Object.entries(sent.answers)) if (now.body.answers[code] === value) delete now.body.answers[code];
        if ("note" in sent && now.body.note === sent.note) delete now.body.note;
        return Object.keys(now.body.answers).length || "note" in now.body ? now : null;
      });
      announce("outbox");
      return "sent";
    }
    const error = await problem(res);
    await update(item.client_id, (now) => now && Object.assign(now, { state: "failed", error }));
    announce("outbox");
    return "failed";
  }

  async function refused(item, error) {
    item.state = "failed";
    item.error = error;
    await outbox.put(item);
    return "failed";
  }

  /**
   * Send every queued reply of the signed-in person. One flush at a time across tabs and the
   * service worker: a second one waits for the first, then sends what is still queued (a reply
   * queued while the first ran is not left behind). Returns counts, and whether to retry later.
   */
  function flush() {
    return withLock("probity-outbox", {}, async () => {
      const result = { sent: 0, saved: 0, failed: 0, retry: 0, interviews: 0, tags: 0, auth: false };
      const s = await session.get();
      if (!s || !s.me || !s.access) {
        result.auth = true;
        return result;
      }
      const queued = ((await outbox.all()) || [])
        .filter((i) => i.person_id === s.me.person_id && i.state === "queued")
        .sort((a, b) => (a.queued_at || "").localeCompare(b.queued_at || ""));
      for (const item of queued) {
        const answers = item.kind === ANSWERS;
        const tried = { attempts: (item.attempts || 0) + 1, last_attempt_at: new Date().toISOString() };
        if (answers) await update(item.client_id, (now) => now && Object.assign(now, tried));
        else await outbox.put(Object.assign(item, tried));
        let outcome;
        try {
          const send = item.kind === INTERVIEW ? sendInterview : item.kind === TAG ? sendTag : sendReply;
          outcome = answers ? await sendAnswers(item) : await send(item);
        } catch (_) {
          outcome = "retry"; // no network: fetch rejected
        }
        if (outcome === "auth") {
          result.auth = true;
          break;
        }
        result[answers && outcome === "sent" ? "saved" : outcome] += 1;
        if (item.kind === INTERVIEW && outcome === "sent") result.interviews += 1;
        if (item.kind === TAG && outcome === "sent") result.tags += 1;
        if (outcome === "retry") break; // the network is down: try the rest later
      }
      announce("flushed", result);
      return result;
    });
  }

  function uuid() {
    if (g.crypto && typeof g.crypto.randomUUID === "function") return g.crypto.randomUUID();
    const b = g.crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  g.ProbityCore = { openDb, kv, session, refresh, authFetch, postOnLeave, publicFetch, outbox, queueAnswers, flush, onChange, announce, uuid };
})(globalThis);
