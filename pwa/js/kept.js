// Offline copies of my open warnings (issue 16): when the inbox loads online, the details of its
// open items not kept lately are fetched in one request (GET /api/warnings/kept, which does not mark
// them read) and put in the service worker's API cache under the address the warning and reply
// screens read, so a warning never opened can be read and answered with no signal.
import { api } from "./api.js";

const CACHE = "probity-api-v1"; // the service worker's API cache (sw.js API_CACHE)
const FRESH_MS = 10 * 60 * 1000;

/** The address the warning and reply screens read a warning's details from. */
export function detailPath(id, lang) {
  return "/api/warnings/" + id + "?lang=" + encodeURIComponent(lang);
}

/** Keep an inbox page as the service worker would (its first load may come before the worker
 * controls the page): the inbox then opens offline after a reply is queued. */
export async function keepPage(path, page) {
  if (!("caches" in globalThis)) return;
  const cache = await caches.open(CACHE);
  const headers = { "Content-Type": "application/json", "X-Probity-Saved-At": new Date().toISOString() };
  await cache.put(location.origin + path, new Response(JSON.stringify(page), { headers }));
}

/** Keep the details of these warnings (mine, open) on the phone. Resolves to how many were fetched. */
export async function keepDetails(ids, lang) {
  if (!("caches" in globalThis) || !navigator.onLine || !ids.length) return 0;
  const cache = await caches.open(CACHE);
  const stale = [];
  for (const id of ids) {
    const hit = await cache.match(location.origin + detailPath(id, lang));
    const at = hit ? Date.parse(hit.headers.get("X-Probity-Saved-At") || "") : NaN;
    if (!(Date.now() - at < FRESH_MS)) stale.push(id);
  }
  if (!stale.length) return 0;
  const details = await api("/api/warnings/kept?ids=" + stale.join(",") + "&lang=" + encodeURIComponent(lang));
  const at = new Date().toISOString();
  const headers = { "Content-Type": "application/json", "X-Probity-Saved-At": at };
  await Promise.all(details.map((d) => cache.put(location.origin + detailPath(d.warning.id, lang), new Response(JSON.stringify(d), { headers }))));
  return details.length;
}
