/* Probity service worker: the shell from the cache (refreshed in the background), the last inbox
 * and the warnings opened while online kept for offline reading, Web Push, and Background Sync
 * flushing the reply outbox even with no page open. */
"use strict";
importScripts("/js/core.js");

const VERSION = "probity-shell-v23";
const API_CACHE = "probity-api-v1";
/* the delivery keys of pushes already shown: a message sent again after a crash (same key) is not
 * shown twice */
const SHOWN_CACHE = "probity-push-shown-v1";
const SHOWN_KEEP = 500;
const SHELL = [
  "/",
  "/index.html",
  "/manifest.json",
  "/css/app.css",
  "/icons/icon.svg",
  "/icons/icon-192.png",
  "/icons/icon-512.png",
  "/js/core.js",
  "/js/app.js",
  "/js/api.js",
  "/js/i18n.js",
  "/js/ui.js",
  "/js/outbox.js",
  "/js/kept.js",
  "/js/sheet.js",
  "/js/undo.js",
  "/js/viewer.js",
  "/js/photos.js",
  "/js/push.js",
  "/js/totp.js",
  "/js/qr.js",
  "/js/charts.js",
  "/js/locales/zh-CN.js",
  "/js/locales/zh-CN.more.js",
  "/js/locales/en.js",
  "/js/locales/en.more.js",
  "/js/views/login.js",
  "/js/views/sso.js",
  "/js/views/inbox.js",
  "/js/views/warning.js",
  "/js/views/reply.js",
  "/js/views/notices.js",
  "/js/views/broadcast.js",
  "/js/views/profile.js",
  "/js/views/queue.js",
  "/js/views/urge.js",
  "/js/views/supervision.js",
  "/js/views/ladder.js",
  "/js/views/ladder-act.js",
  "/js/views/archive.js",
  "/js/exporting.js",
  "/js/views/linked.js",
  "/js/views/forms.js",
  "/js/views/forms-new.js",
  "/js/views/report.js",
  "/js/views/intake.js",
  "/js/views/casefile.js",
  "/js/views/clues.js",
  "/js/views/raise.js",
  "/js/views/problems.js",
  "/js/views/opinions.js",
  "/js/views/checks.js",
  "/js/views/dashboard.js",
  "/js/views/reports.js",
  "/js/views/portrait.js",
  "/js/views/registers.js",
  "/js/views/interviews.js",
  "/js/views/interview-new.js",
  "/js/signature.js",
  "/js/views/admin.js",
  "/js/views/admin-topics.js",
  "/js/views/admin-import.js",
  "/js/views/admin-calendar.js",
  "/js/views/admin-broadcasts.js",
  "/js/views/admin-broadcast.js",
  "/js/views/checkup-parts.js",
  "/js/views/checkups.js",
  "/js/views/checkup-answer.js",
  "/js/views/checkup-result.js",
  "/js/views/checkup-campaign.js",
  "/js/views/checkup-person.js",
  "/js/views/checkup-care.js",
  "/js/views/checkup-admin.js",
  "/js/views/evaluation.js",
  "/js/views/evaluation-file.js",
  "/js/views/evaluation-round.js",
  "/js/views/evaluation-setup.js",
  "/js/views/evaluation-library.js",
  "/js/views/evaluation-subjects.js",
  "/js/views/dossier.js",
];
/** API reads kept for offline use: the inbox, the warnings opened, who I am, my notifications, my
 * check-ups, the people and interview records of my scope (an interview form opens with no signal) */
const KEEP = [/^\/api\/warnings$/, /^\/api\/warnings\/\d+$/, /^\/api\/auth\/me$/, /^\/api\/notifications$/, /^\/api\/units$/, /^\/api\/people$/, /^\/api\/interviews$/, /^\/api\/checkups\/mine(\/\d+)?$/];
const SYNC_TAG = "probity-outbox";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(VERSION)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => ![VERSION, API_CACHE, SHOWN_CACHE].includes(k)).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

async function shell(request) {
  const cache = await caches.open(VERSION);
  const key = request.mode === "navigate" ? "/index.html" : request;
  const cached = await cache.match(key, { ignoreSearch: request.mode === "navigate" });
  const fresh = fetch(request)
    .then((res) => {
      if (res.ok && res.type === "basic") cache.put(key, res.clone());
      return res;
    })
    .catch(() => null);
  if (cached) return cached;
  return (await fresh) || new Response("offline", { status: 503, headers: { "Content-Type": "text/plain" } });
}

async function savedApi(request) {
  const cache = await caches.open(API_CACHE);
  try {
    const res = await fetch(request);
    if (res.ok) {
      const headers = new Headers(res.headers);
      headers.set("X-Probity-Saved-At", new Date().toISOString());
      const body = await res.clone().arrayBuffer();
      await cache.put(request.url, new Response(body, { status: res.status, headers }));
    }
    return res;
  } catch (err) {
    const cached = await cache.match(request.url);
    if (cached) return cached;
    throw err;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/api/")) {
    if (KEEP.some((re) => re.test(url.pathname))) event.respondWith(savedApi(request));
    return;
  }
  // the messenger's callbacks and single sign-on are the server's, never the shell's
  if (url.pathname.startsWith("/schema") || url.pathname === "/healthz" || url.pathname.startsWith("/messenger/")) return;
  event.respondWith(shell(request));
});

self.addEventListener("message", (event) => {
  const msg = event.data || {};
  if (msg.type === "clear-api-cache") event.waitUntil(caches.delete(API_CACHE));
  // confirmations held behind the undo bar of a page that is going away (js/undo.js)
  if (msg.type === "confirm-held") {
    const send = ({ id, body }) =>
      self.ProbityCore.authFetch("/api/warnings/" + Number(id) + "/confirm", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body || {}) }).catch(() => null);
    event.waitUntil(Promise.all((msg.items || []).map(send)));
  }
});

self.addEventListener("sync", (event) => {
  if (event.tag !== SYNC_TAG) return;
  event.waitUntil(
    self.ProbityCore.flush().then((result) => {
      if (result.retry) throw new Error("still offline: the browser retries later");
    }),
  );
});

const shownUrl = (key) => self.location.origin + "/__shown/" + encodeURIComponent(key);

/* Whether every key of this push was shown before; records them otherwise (the oldest beyond
 * SHOWN_KEEP are forgotten). */
async function seenBefore(keys) {
  if (!keys.length) return false;
  const cache = await caches.open(SHOWN_CACHE);
  const found = await Promise.all(keys.map((k) => cache.match(shownUrl(k))));
  if (found.every(Boolean)) return true;
  await Promise.all(keys.map((k) => cache.put(shownUrl(k), new Response(""))));
  const all = await cache.keys();
  await Promise.all(all.slice(0, Math.max(0, all.length - SHOWN_KEEP)).map((r) => cache.delete(r)));
  return false;
}

async function showPush(data) {
  const title = data.title || "Probity";
  const keys = Array.isArray(data.keys) ? data.keys.map(String) : [];
  const options = {
    body: data.body || "",
    tag: data.tag || undefined,
    renotify: !!data.tag,
    icon: "/icons/icon-192.png",
    badge: "/icons/icon-192.png",
    requireInteraction: data.level === "high",
    data: { url: data.url || "/#/notifications" },
  };
  if (await seenBefore(keys)) {
    // the same message again (a delivery repeated after a crash): no second alert. Still on
    // screen: replaced silently; already dismissed or opened: not shown again.
    const open = data.tag ? await self.registration.getNotifications({ tag: data.tag }) : [];
    if (!open.length) return;
    options.renotify = false;
    options.silent = true;
  }
  await self.registration.showNotification(title, options);
}

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (_) {
    data = { title: event.data ? event.data.text() : "Probity" };
  }
  event.waitUntil(showPush(data));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  // the link names the server's public address; open the same route on this app's own origin
  const target = new URL((event.notification.data && event.notification.data.url) || "/", self.location.origin);
  const url = self.location.origin + "/" + target.hash;
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      for (const w of windows) {
        if (new URL(w.url).origin === self.location.origin && "focus" in w) {
          w.navigate(url).catch(() => null);
          return w.focus();
        }
      }
      return self.clients.openWindow(url);
    }),
  );
});
