// The shell: session, language, router, bottom navigation, the outbox banner, the service worker.
import { api, ApiError, core } from "./api.js";
import { allWords, currentLang, errorText, loadLang, t } from "./i18n.js";
import { setupOutbox, pendingCount } from "./outbox.js";
import { clear, h, icon, spinner, toast } from "./ui.js";

const LANG_KEY = "probity.lang";

/** route → view module (loaded on first use) and who may open it */
const ROUTES = [
  { re: /^\/login$/, view: "login", public: true },
  { re: /^\/report$/, view: "report", public: true },
  { re: /^\/intake(?:\/(\d+))?$/, view: "intake", roles: ["inspector", "committee"] },
  { re: /^\/checks(?:\/(new|\d+))?$/, view: "checks", roles: ["head", "inspector"] },
  { re: /^\/sso\/([A-Za-z0-9_-]{10,80})$/, view: "sso", public: true },
  { re: /^\/clues(?:\/(new|\d+))?$/, view: "clues", roles: ["inspector", "committee"] },
  { re: /^\/problems(?:\/(new|\d+))?$/, view: "problems", roles: ["head", "inspector", "committee"] },
  { re: /^\/opinions(?:\/(new|\d+))?$/, view: "opinions", roles: ["head", "inspector", "committee"] },
  { re: /^\/warnings\/new$/, view: "raise", roles: ["inspector"] },
  { re: /^\/warnings$/, view: "inbox" },
  { re: /^\/warnings\/(\d+)$/, view: "warning" },
  { re: /^\/warnings\/(\d+)\/reply$/, view: "reply" },
  { re: /^\/notifications$/, view: "notices" },
  { re: /^\/broadcasts\/(\d+)$/, view: "broadcast" },
  { re: /^\/me$/, view: "profile" },
  { re: /^\/queue$/, view: "queue", roles: ["head", "inspector"] },
  { re: /^\/ladder(?:\/(\d+))?$/, view: "ladder" },
  { re: /^\/supervision$/, view: "supervision", roles: ["head", "inspector", "committee"] },
  { re: /^\/linked(?:\/(\d+))?$/, view: "linked", roles: ["head", "inspector", "committee"] },
  { re: /^\/forms\/new\/(b5|b6|b7|b8|b9|b11)$/, view: "forms-new", roles: ["head", "inspector", "expert"] },
  { re: /^\/forms(?:\/(\d+))?$/, view: "forms", roles: ["head", "inspector", "committee", "admin", "expert"] },
  { re: /^\/dashboard$/, view: "dashboard", roles: ["head", "inspector", "committee"] },
  { re: /^\/reports$/, view: "reports", roles: ["head", "inspector", "committee"] },
  { re: /^\/archive$/, view: "archive", roles: ["head", "inspector", "committee"] },
  { re: /^\/portrait$/, view: "portrait", roles: ["head", "inspector", "committee"] },
  { re: /^\/registers$/, view: "registers", roles: ["head", "inspector", "committee", "admin", "expert"] },
  { re: /^\/interviews$/, view: "interviews" },
  { re: /^\/interviews\/(\d+)$/, view: "interviews" },
  { re: /^\/interviews\/new$/, view: "interview-new", roles: ["head", "inspector"] },
  { re: /^\/admin$/, view: "admin", roles: ["admin", "expert"] },
  { re: /^\/admin\/topics$/, view: "admin-topics", roles: ["admin", "expert"] },
  { re: /^\/admin\/import$/, view: "admin-import", roles: ["admin", "expert"] },
  { re: /^\/admin\/calendar$/, view: "admin-calendar", roles: ["admin"] },
  { re: /^\/admin\/broadcasts$/, view: "admin-broadcasts", roles: ["admin"] },
  { re: /^\/admin\/broadcasts\/(new|\d+)$/, view: "admin-broadcast", roles: ["admin"] },
  { re: /^\/evaluation$/, view: "evaluation" },
  { re: /^\/evaluation\/file\/(\d+)\/(\d+)$/, view: "evaluation-file", roles: ["head", "inspector", "committee"] },
  { re: /^\/evaluation\/rounds\/(\d+)$/, view: "evaluation-round" },
  { re: /^\/evaluation\/setup(?:\/(\d+)\/(round))?$/, view: "evaluation-setup", roles: ["admin", "expert", "inspector", "committee"] },
  { re: /^\/evaluation\/setup\/(new|\d+)(?:\/library)?$/, view: "evaluation-library", roles: ["admin", "expert", "inspector", "committee"] },
  { re: /^\/evaluation\/setup\/(\d+)\/subjects$/, view: "evaluation-subjects", roles: ["admin", "inspector", "committee"] },
  { re: /^\/dossier\/(\d+)$/, view: "dossier" },
  { re: /^\/checkups$/, view: "checkups" },
  { re: /^\/checkups\/(\d+)$/, view: "checkup-answer" },
  { re: /^\/checkups\/(\d+)\/result$/, view: "checkup-result" },
  { re: /^\/checkups\/campaigns\/(\d+)$/, view: "checkup-campaign", roles: ["admin", "committee", "inspector", "head"] },
  { re: /^\/checkups\/campaigns\/(\d+)\/people\/(\d+)$/, view: "checkup-person", roles: ["inspector"] },
  { re: /^\/checkups\/care$/, view: "checkup-care", roles: ["inspector", "head"] },
  { re: /^\/checkups\/(new|policy)$/, view: "checkup-admin", roles: ["admin"] },
];

/** The bottom tabs, at most MAX_TABS of them: where a role has more, those with the highest
 * ``drop`` go (their screens stay one tap away under 我的, see ``moreTabs``). */
const NAV = [
  { hash: "#/warnings", icon: "inbox", label: "nav.inbox", match: /^\/warnings/ },
  { hash: "#/queue", icon: "check", label: "nav.queue", roles: ["head", "inspector"], match: /^\/(queue|linked|interviews|supervision|forms)/, badge: "queue" },
  { hash: "#/dashboard", icon: "chart", label: "nav.dashboard", roles: ["head", "inspector", "committee"], match: /^\/(dashboard|reports|portrait|registers|archive)/ },
  { hash: "#/checkups", icon: "pulse", label: "nav.checkups", match: /^\/checkups/, drop: 1 },
  { hash: "#/admin", icon: "gear", label: "nav.admin", roles: ["admin", "expert"], match: /^\/(admin|registers)/ },
  { hash: "#/notifications", icon: "bell", label: "nav.notices", match: /^\/(notifications|broadcasts)/, badge: "unread" },
  { hash: "#/me", icon: "user", label: "nav.me", match: /^\/me|^\/ladder|^\/evaluation|^\/dossier|^\/intake|^\/clues|^\/problems|^\/opinions|^\/warnings\/new|^\/interviews\?(.*&)?mine=1/ },
];
const MAX_TABS = 5;
// views drawn with the first part of the catalogue alone (tests/pwa/catalogue.py)
const FIRST_VIEWS = new Set(["login", "inbox"]);

/** The tabs of the signed-in person, in order: at most MAX_TABS. */
function tabsOf(has) {
  const items = NAV.filter((n) => !n.roles || has(...n.roles));
  const dropped = [...items].filter((n) => n.drop).sort((a, b) => b.drop - a.drop).slice(0, Math.max(0, items.length - MAX_TABS));
  return items.filter((n) => !dropped.includes(n));
}

/** Where each role starts: its work, not an empty inbox (issue 16). */
function homeOf(has) {
  if (has("admin")) return "#/admin";
  if (has("inspector", "committee")) return "#/dashboard";
  if (has("head")) return "#/queue";
  if (has("expert")) return "#/admin";
  return "#/warnings";
}

const ctx = {
  me: null,
  badges: { unread: 0, queue: 0 },
  has(...roles) {
    return !!this.me && roles.some((r) => this.me.roles.includes(r));
  },
  navigate(hash, replace = false) {
    if (replace || location.hash === hash) {
      if (replace) history.replaceState(null, "", hash);
      route();
    } else {
      location.hash = hash; // hashchange routes
    }
  },
  reload: () => route(),
  async signIn(tokens) {
    postToWorker({ type: "clear-api-cache" }); // nothing another person read stays for offline use
    await core.session.set({ access: tokens.access_token, refresh: tokens.refresh_token });
    const me = await api("/api/auth/me");
    await core.session.set({ access: tokens.access_token, refresh: tokens.refresh_token, me });
    ctx.me = me;
    return me;
  },
  async signOut() {
    try {
      await api("/api/auth/logout", { method: "POST" });
    } catch (_) {
      /* offline or already ended: the local session goes anyway */
    }
    await core.session.clear();
    ctx.me = null;
    postToWorker({ type: "clear-api-cache" });
    ctx.navigate("#/login");
  },
  async setLang(next) {
    const lang = await loadLang(next);
    localStorage.setItem(LANG_KEY, lang);
    // signed in: the server keeps it too, so WeCom, DingTalk, Telegram, e-mail and push speak it
    if (ctx.me) api("/api/delivery/me/preferences", { method: "PUT", json: { language: lang === "en" ? "en" : "zh" } }).catch(() => {});
    renderFrame();
    await route();
  },
  refreshBadges: () => refreshBadges(),
  /** the landing screen of the signed-in person's role */
  home() {
    return homeOf((...roles) => this.has(...roles));
  },
  /** the screens a tab would open that this person's bar has no room for (listed under 我的) */
  moreTabs() {
    const has = (...roles) => this.has(...roles);
    const shown = tabsOf(has);
    return NAV.filter((n) => (!n.roles || has(...n.roles)) && !shown.includes(n)).map((n) => ({ hash: n.hash, label: t(n.label), icon: n.icon }));
  },
};

let cleanup = null;
let routing = 0;

function parseHash() {
  const raw = location.hash.replace(/^#/, "") || "/warnings";
  const [path, query] = raw.split("?");
  return { path, query: new URLSearchParams(query || "") };
}

async function route() {
  const ticket = ++routing;
  // the app's own address (the home-screen icon, the brand): the signed-in role's landing screen
  if (ctx.me && /^#?\/?$/.test(location.hash)) history.replaceState(null, "", ctx.home());
  const { path, query } = parseHash();
  const found = ROUTES.map((r) => ({ r, m: path.match(r.re) })).find((x) => x.m);
  if (!ctx.me && !(found && found.r.public)) {
    if (path !== "/login") sessionStorage.setItem("probity.after", location.hash);
    history.replaceState(null, "", "#/login");
    return route();
  }
  if (ctx.me && path === "/login") {
    history.replaceState(null, "", ctx.home());
    return route();
  }
  const main = document.getElementById("main");
  if (cleanup) {
    try {
      cleanup();
    } catch (_) {
      /* a view's cleanup must not break navigation */
    }
    cleanup = null;
  }
  renderNav(path);
  if (!found) {
    clear(main).append(h("h1", { class: "page-title", tabindex: "-1" }, t("common.not_found")));
    return;
  }
  if (found.r.roles && !ctx.has(...found.r.roles)) {
    clear(main).append(h("h1", { class: "page-title", tabindex: "-1" }, t("common.forbidden")));
    return;
  }
  clear(main).append(spinner());
  document.body.dataset.view = found.r.view;
  try {
    // the sign-in and the inbox need only the first part of the catalogue; other screens all of it
    const [mod] = await Promise.all([import("./views/" + found.r.view + ".js"), FIRST_VIEWS.has(found.r.view) ? null : allWords()]);
    if (ticket !== routing) return;
    const container = h("div", { class: "view" });
    const result = await mod.default(container, ctx, found.m.slice(1), query);
    if (ticket !== routing) return;
    clear(main).append(container);
    cleanup = typeof result === "function" ? result : null;
  } catch (err) {
    if (ticket !== routing) return;
    clear(main).append(
      h("h1", { class: "page-title", tabindex: "-1" }, t("common.error_title")),
      h("div", { class: "alert alert-error", role: "alert" }, err instanceof ApiError ? errorText(err) : t("err.unknown")),
      h("button", { class: "btn", type: "button", onclick: () => route() }, t("common.retry")),
    );
    if (!(err instanceof ApiError)) console.error(err);
  }
  const title = main.querySelector(".page-title");
  document.title = (title ? title.textContent + " · " : "") + t("app.name");
  if (title) title.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

function renderFrame() {
  const header = document.getElementById("bar");
  clear(header).append(
    h("a", { class: "brand", href: "#/" }, h("img", { src: "/icons/icon.svg", alt: "", width: 28, height: 28 }), h("span", {}, t("app.name"))),
    h(
      "button",
      {
        class: "lang-switch",
        type: "button",
        lang: currentLang() === "en" ? "zh-CN" : "en",
        "aria-label": t("lang.switch_label"),
        onclick: () => ctx.setLang(currentLang() === "en" ? "zh-CN" : "en"),
      },
      icon("globe"),
      h("span", {}, currentLang() === "en" ? "中文" : "English"),
    ),
  );
  document.querySelector(".skip").textContent = t("app.skip");
  renderBanner();
}

function renderNav(path) {
  const nav = document.getElementById("tabs");
  nav.setAttribute("aria-label", t("nav.label"));
  if (!ctx.me) {
    nav.hidden = true;
    document.body.classList.remove("has-tabs");
    return;
  }
  nav.hidden = false;
  document.body.classList.add("has-tabs");
  const items = tabsOf((...roles) => ctx.has(...roles));
  // the tab of the page: the last one whose pattern the hash matches ("my interviews" is under Me)
  const full = location.hash.replace(/^#/, "") || path;
  const current = items.filter((n) => n.match.test(full)).pop();
  clear(nav).append(
    h(
      "ul",
      {},
      items.map((n) => {
        const count = n.badge ? ctx.badges[n.badge] : 0;
        return h(
          "li",
          {},
          h(
            "a",
            { href: n.hash, "aria-current": n === current ? "page" : null },
            icon(n.icon),
            h("span", { class: "tab-label" }, t(n.label)),
            count ? h("span", { class: "tab-badge", "aria-label": t("nav.badge", { n: count }) }, count > 99 ? "99+" : String(count)) : null,
          ),
        );
      }),
    ),
  );
}

async function refreshBadges() {
  if (!ctx.me) return;
  try {
    const page = await api("/api/notifications?unread=true&limit=1");
    ctx.badges.unread = page.unread;
    if (ctx.has("head", "inspector")) {
      const queue = await api("/api/warnings?view=unit&state=submitted&limit=1");
      ctx.badges.queue = queue.total;
    }
  } catch (_) {
    return; // offline: keep the last counts
  }
  renderNav(parseHash().path);
}

async function renderBanner() {
  const bar = document.getElementById("status");
  const parts = [];
  if (!navigator.onLine) parts.push(h("span", { class: "offline-dot" }, t("status.offline")));
  if (ctx.me) {
    const { queued, failed, answers, interviews, tags } = await pendingCount(ctx.me.person_id);
    for (const [n, key] of [[queued, "outbox.waiting"], [interviews, "outbox.interviews_waiting"], [tags, "outbox.tags_waiting"]]) {
      if (!n) continue;
      parts.push(
        h(
          "span",
          { class: "waiting" },
          icon("cloud"),
          t(key, { n }),
          navigator.onLine
            ? h("button", { type: "button", class: "link", onclick: () => core.flush() }, t("outbox.send_now"))
            : null,
        ),
      );
    }
    if (failed) parts.push(h("a", { class: "refused", href: "#/me" }, t("outbox.refused", { n: failed })));
    if (answers) parts.push(h("span", { class: "waiting" }, icon("cloud"), t("ck.answers_waiting", { n: answers })));
  }
  clear(bar).append(...parts);
  bar.hidden = parts.length === 0;
}

function postToWorker(message) {
  if (navigator.serviceWorker && navigator.serviceWorker.controller) navigator.serviceWorker.controller.postMessage(message);
}

async function registerWorker() {
  if (!("serviceWorker" in navigator)) return null;
  try {
    return await navigator.serviceWorker.register("/sw.js", { scope: "/" });
  } catch (_) {
    return null;
  }
}

async function checkSession() {
  try {
    const me = await api("/api/auth/me");
    ctx.me = me;
    await core.session.set(Object.assign({}, await core.session.get(), { me }));
  } catch (err) {
    if (err.status === 401) ctx.me = null; // signed out elsewhere; the outbox keeps its replies
  }
  return ctx.me;
}

/** Who is signed in: the saved answer at once (no round trip before the first screen), checked
 * with the server in the background; with nothing saved, asked first. */
async function restoreSession() {
  const s = await core.session.get();
  if (!s || (!s.access && !s.refresh) || s.ended) return null;
  if (!s.me) return checkSession();
  ctx.me = s.me;
  checkSession().then((me) => {
    if (!me) ctx.navigate("#/login");
    else if (me.roles.join() !== s.me.roles.join()) renderNav(parseHash().path);
  });
  return ctx.me;
}

const ENDED = new Set(["invalid_token", "session_ended", "account_disabled", "not_authenticated", "invalid_refresh_token", "token_expired"]);

async function boot() {
  await loadLang(localStorage.getItem(LANG_KEY) || "zh-CN");
  renderFrame();
  document.getElementById("main").append(spinner());
  const worker = registerWorker();
  await restoreSession();
  renderBanner(); // what waits on this phone, as soon as we know whose phone it is (also after a reload)
  core.onChange(async (msg) => {
    if (msg.type === "outbox" || msg.type === "flushed") renderBanner();
    if (msg.type === "flushed" && msg.sent) {
      const replies = msg.sent - (msg.interviews || 0) - (msg.tags || 0);
      const said = replies ? t("outbox.sent", { n: replies }) : msg.tags ? t("outbox.tags_sent", { n: msg.tags }) : t("outbox.interviews_sent", { n: msg.interviews });
      toast(said, "ok");
      if (/^\/(warnings|interviews$)/.test(parseHash().path)) route();
    }
    if (msg.type === "unauthorized" && ENDED.has(msg.code) && ctx.me) {
      const s = await core.session.get();
      if (!s || !s.access || s.ended) {
        ctx.me = null;
        toast(t("err.session_ended"), "error");
        ctx.navigate("#/login");
      }
    }
  });
  window.addEventListener("online", renderBanner);
  window.addEventListener("offline", renderBanner);
  window.addEventListener("hashchange", route);
  setupOutbox(worker, () => ctx.me);
  await route();
  refreshBadges();
}

boot();

export { ctx };
