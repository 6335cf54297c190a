// The API client: JSON in and out, errors as ApiError {status, code, detail}, the channel header and
// token refresh done by core.js (shared with the service worker).
import "./core.js";

const core = globalThis.ProbityCore;

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.detail) || "HTTP " + status);
    this.status = status;
    this.code = (body && body.code) || (status === 0 ? "network" : "http_" + status);
    this.detail = (body && body.detail) || "";
    this.body = body || {};
    // numbers the error's text names ("try again in {retry_after} s", "at least {min_length}")
    for (const key of ["retry_after", "min_length"]) if (body && body[key] !== undefined) this[key] = body[key];
  }
}

/** Whether this answer came from the service worker's saved copy (no network). */
export function fromCache(res) {
  return res.headers.get("X-Probity-Saved-At");
}

export async function request(path, { method = "GET", json, body, headers } = {}) {
  const init = { method, headers: Object.assign({}, headers || {}) };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (body !== undefined) {
    init.body = body;
  }
  let res;
  try {
    res = await core.authFetch(path, init);
  } catch (_) {
    throw new ApiError(0, { code: "network" });
  }
  if (!res.ok) {
    let problem = {};
    try {
      problem = await res.json();
    } catch (_) {
      problem = {};
    }
    if (res.status === 401) core.announce("unauthorized", { code: problem.code });
    throw new ApiError(res.status, problem);
  }
  return res;
}

export async function api(path, options) {
  const res = await request(path, options);
  if (res.status === 204) return null;
  const data = await res.json();
  const saved = fromCache(res);
  if (saved && data && typeof data === "object") Object.defineProperty(data, "$savedAt", { value: saved });
  return data;
}

/** A file the API serves behind the bearer token (a PDF form), saved by the browser as ``name``. */
export async function saveFile(path, name) {
  const res = await request(path);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement("a");
  Object.assign(a, { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

/** An image the API serves behind the bearer token, as an object URL for <img src>. */
export async function blobUrl(path) {
  const res = await request(path);
  return URL.createObjectURL(await res.blob());
}

/**
 * Upload with progress (XMLHttpRequest: fetch() has no upload progress events). onProgress gets
 * (loaded, total). One refresh on 401 token_expired, like every other call.
 */
export async function upload(path, { method = "POST", body, onProgress, retried = false }) {
  const s = await core.session.get();
  const result = await new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, path);
    xhr.setRequestHeader("X-Probity-Channel", "pwa");
    if (s && s.access) xhr.setRequestHeader("Authorization", "Bearer " + s.access);
    xhr.responseType = "json";
    xhr.upload.onprogress = (e) => onProgress && onProgress(e.loaded, e.lengthComputable ? e.total : 0);
    xhr.onload = () => resolve({ status: xhr.status, body: xhr.response });
    xhr.onerror = () => resolve({ status: 0, body: { code: "network" } });
    xhr.send(body);
  });
  if (result.status === 401 && !retried && result.body && result.body.code === "token_expired") {
    if (await core.refresh(s && s.access)) return upload(path, { method, body, onProgress, retried: true });
  }
  if (result.status < 200 || result.status >= 300) throw new ApiError(result.status, result.body);
  return result.body;
}

export { core };
