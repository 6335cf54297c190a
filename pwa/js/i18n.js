// UI strings come only from the catalogs in ./locales; zh-CN is the default, English the second.
export const LANGS = ["zh-CN", "en"];
let lang = "zh-CN";
let catalog = {};
let plural = new Intl.PluralRules("zh-CN");

export function currentLang() {
  return lang;
}

export function pickLang(saved) {
  if (LANGS.includes(saved)) return saved;
  return "zh-CN";
}

// The catalogue of a language is two files: what the first screen needs (shell, sign-in, inbox,
// error texts), loaded before anything is drawn, and the rest, fetched right after and awaited by
// every other screen (allWords). The split is kept by tests/pwa/catalogue.py.
let rest = Promise.resolve();

export async function loadLang(wanted) {
  const next = pickLang(wanted);
  const mod = next === "en" ? await import("./locales/en.js") : await import("./locales/zh-CN.js");
  catalog = { ...mod.default };
  lang = next;
  plural = new Intl.PluralRules(next);
  document.documentElement.lang = next;
  const more = next === "en" ? import("./locales/en.more.js") : import("./locales/zh-CN.more.js");
  rest = more.then((m) => {
    if (lang === next) Object.assign(catalog, m.default);
  });
  rest.catch(() => {}); // offline before the shell was cached: the screen that needs it says so
  return next;
}

/** Resolves once the whole catalogue of the current language is loaded. */
export function allWords() {
  return rest;
}

/** t("outbox.waiting", {n: 2}): "{n}" placeholders; a value {one, other} is chosen by n. */
export function t(key, vars) {
  let text = catalog[key];
  if (text === undefined) return key;
  if (typeof text === "object") text = text[plural.select(Number(vars && vars.n))] ?? text.other;
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

/** A catalog entry if there is one, else undefined (for codes and enum values). */
export function maybe(key, vars) {
  return key in catalog ? t(key, vars) : undefined;
}

const TZ = "Asia/Shanghai";

export function fmtDate(value, withTime = false) {
  if (!value) return "";
  const d = typeof value === "string" && value.length === 10 ? new Date(value + "T00:00:00+08:00") : new Date(value);
  const opts = { timeZone: TZ, year: "numeric", month: "short", day: "numeric" };
  if (withTime) Object.assign(opts, { hour: "2-digit", minute: "2-digit", hour12: false });
  return new Intl.DateTimeFormat(lang, opts).format(d);
}

/** A day as people say it: "12月18日（周五）" / "Fri 18 Dec" (the words from the catalog). */
export function fmtDay(value) {
  if (!value) return "";
  const d = typeof value === "string" && value.length === 10 ? new Date(value + "T00:00:00+08:00") : new Date(value);
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-CA", { timeZone: TZ, year: "numeric", month: "numeric", day: "numeric", weekday: "short" })
      .formatToParts(d)
      .map((p) => [p.type, p.value]),
  );
  const weekday = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].indexOf(parts.weekday) + 1;
  const month = Number(parts.month);
  return t("fmt.day", { month, day: Number(parts.day), weekday: t("weekday." + weekday), month_name: t("month." + month) });
}

/** A period key as people read it: "2026-10" → 2026年10月 / Oct 2026; other keys as they are. */
export function fmtPeriod(value) {
  const m = /^(\d{4})-(\d{2})$/.exec(value || "");
  if (!m) return value || "";
  const month = Number(m[2]);
  return t("fmt.period", { year: m[1], month, month_name: t("month." + month) });
}

export function fmtTime(value) {
  if (!value) return "";
  return new Intl.DateTimeFormat(lang, { timeZone: TZ, hour: "2-digit", minute: "2-digit", hour12: false }).format(
    new Date(value),
  );
}

export function fmtNumber(value, digits = 0) {
  return new Intl.NumberFormat(lang, { maximumFractionDigits: digits }).format(value);
}

export function fmtPercent(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  return new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 1 }).format(value);
}

/** The error's text in the user's language: the catalog entry of its code, else the server's detail. */
export function errorText(err) {
  if (!err) return "";
  const code = err.code || "";
  const known = code && maybe("err." + code, err);
  if (known) return known;
  if (err.detail) return err.detail;
  return t("err.unknown");
}
