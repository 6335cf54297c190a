// Web Push on this device: subscribe with the server's VAPID key, tell the server, unsubscribe.
import { api, core } from "./api.js";

export function isIos() {
  return /iPad|iPhone|iPod/.test(navigator.userAgent) || (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);
}

export function isAndroid() {
  return /Android/i.test(navigator.userAgent);
}

export function isStandalone() {
  return matchMedia("(display-mode: standalone)").matches || navigator.standalone === true;
}

/** ok | ios-install (Safari pushes only to a home-screen app) | unsupported | denied */
export function pushSupport() {
  const capable = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  if (isIos() && !isStandalone()) return "ios-install";
  if (!capable) return "unsupported";
  if (Notification.permission === "denied") return "denied";
  return "ok";
}

function keyBytes(base64url) {
  const pad = "=".repeat((4 - (base64url.length % 4)) % 4);
  const raw = atob((base64url + pad).replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

function registration() {
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error("no service worker")), 5000));
  return Promise.race([navigator.serviceWorker.ready, timeout]);
}

/** Whether this device rings for the signed-in person. */
export async function pushEnabled() {
  if (pushSupport() !== "ok") return false;
  const saved = await core.kv.get("push");
  const sub = await (await registration()).pushManager.getSubscription();
  return !!(sub && saved && saved.endpoint === sub.endpoint);
}

export async function subscribe(vapidPublicKey) {
  const permission = await Notification.requestPermission();
  if (permission !== "granted") {
    const err = new Error("denied");
    err.code = "push_denied";
    throw err;
  }
  const reg = await registration();
  let sub = await reg.pushManager.getSubscription();
  if (!sub) sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(vapidPublicKey) });
  const json = sub.toJSON();
  const saved = await api("/api/delivery/me/push-subscriptions", {
    method: "POST",
    json: {
      endpoint: json.endpoint,
      keys: { p256dh: json.keys.p256dh, auth: json.keys.auth },
      expirationTime: json.expirationTime ?? null,
      user_agent: navigator.userAgent.slice(0, 200),
    },
  });
  await core.kv.set("push", { id: saved.id, endpoint: json.endpoint });
  return saved;
}

export async function unsubscribe() {
  const saved = await core.kv.get("push");
  if (saved && saved.id) {
    await api("/api/delivery/me/push-subscriptions/" + saved.id, { method: "DELETE" }).catch((err) => {
      if (err.status !== 404) throw err;
    });
  }
  if ("serviceWorker" in navigator) {
    const sub = await (await registration()).pushManager.getSubscription().catch(() => null);
    if (sub) await sub.unsubscribe();
  }
  await core.kv.del("push");
}
