// Me: who I am, the interviews held with me, language, push on this device (with the iPhone home-screen guidance), Telegram,
// my other channels and their order, quiet hours, password, replies waiting on this phone, sign out.
import { api, core } from "../api.js";
import { currentLang, errorText, fmtDate, fmtDay, fmtNumber, fmtTime, LANGS, maybe, t } from "../i18n.js";
import { isAndroid, isStandalone, pushEnabled, pushSupport, subscribe, unsubscribe } from "../push.js";
import { codeInput, keyBox, recoveryBox } from "../totp.js";
import { add, busy, checkedForm, field, h, heading, icon, note, setFieldError, toast } from "../ui.js";

const ADDRESS_CHANNELS = ["wecom", "dingtalk", "feishu", "email", "sms"];
let installPrompt = null;
window.addEventListener("beforeinstallprompt", (e) => {
  e.preventDefault();
  installPrompt = e;
});

function section(id, title, ...children) {
  return h("section", { class: "card", "aria-labelledby": id }, h("h2", { id }, title), ...children);
}

async function pushSection(delivery) {
  const support = pushSupport();
  const box = h("div", {});
  const draw = async () => {
    box.replaceChildren();
    if (support === "ios-install") {
      add(box, note(t("push.ios_install"), "info"), h("ol", { class: "steps" }, h("li", {}, t("push.ios_step1")), h("li", {}, t("push.ios_step2")), h("li", {}, t("push.ios_step3"))));
      return;
    }
    if (support !== "ok") {
      add(box, note(t("push." + support), "warn"));
      return;
    }
    const on = await pushEnabled().catch(() => false);
    const button = h("button", { type: "button", class: "btn" + (on ? "" : " btn-primary"), "aria-pressed": String(on) }, on ? t("push.turn_off") : t("push.turn_on"));
    button.onclick = () =>
      busy(button, async () => {
        if (on) await unsubscribe();
        else await subscribe(delivery.vapid_public_key);
        toast(on ? t("push.off_done") : t("push.on_done"), "ok");
        await draw();
      });
    add(box, h("p", { class: on ? "ok-text" : "muted" }, on ? t("push.state_on") : t("push.state_off")), button);
  };
  await draw();
  return section("sec-push", t("push.title"), box, installBox());
}

/** Putting the app on the home screen: the browser's own prompt where it offers one, and on
 * Android the steps in Chrome's menu (the prompt is not always offered). */
function installBox() {
  if (isStandalone()) return null;
  const button = installPrompt ? h("button", { type: "button", class: "btn btn-quiet", onclick: () => installPrompt.prompt() }, t("push.install")) : null;
  if (!isAndroid()) return button;
  return h(
    "div",
    { class: "install-android" },
    note(t("push.android_install"), "info"),
    h("ol", { class: "steps" }, h("li", {}, t("push.android_step1")), h("li", {}, t("push.android_step2")), h("li", {}, t("push.android_step3"))),
    button,
  );
}

function channelsSection(delivery, ctx) {
  const byChannel = Object.fromEntries(delivery.addresses.map((a) => [a.channel, a]));
  const rows = ADDRESS_CHANNELS.map((ch) => {
    const current = byChannel[ch];
    const directory = ch === "sms" && !current ? delivery.sms_from_directory : null;
    const input = h("input", { value: current ? current.address : "", placeholder: directory || null, autocomplete: ch === "email" ? "email" : ch === "sms" ? "tel" : "off", inputmode: ch === "sms" ? "tel" : ch === "email" ? "email" : null });
    const save = h("button", { type: "button", class: "btn" }, t("common.save"));
    save.onclick = () =>
      busy(
        save,
        async () => {
          setFieldError(input, "");
          if (input.value.trim()) await api("/api/delivery/me/channels/" + ch, { method: "PUT", json: { address: input.value.trim(), enabled: true } });
          else if (current) await api("/api/delivery/me/channels/" + ch, { method: "DELETE" });
          toast(t("common.saved"), "ok");
        },
        (err) => setFieldError(input, errorText(err)),
      );
    return h("div", { class: "inline-field" }, field("addr-" + ch, maybe("channel." + ch) || ch, input, { hint: current && current.refused_at ? t("channels.refused") : directory ? t("channels.sms_directory", { phone: directory }) : null }), save);
  });
  return section(
    "sec-channels",
    t("channels.title"),
    h("p", { class: "hint" }, t("channels.hint")),
    messengerBox(),
    delivery.telegram_enabled ? telegramBox(delivery, ctx) : null,
    rows,
    orderEditor(delivery, ctx),
  );
}

/** WeCom / DingTalk: whether my account there is linked (an admin links it: import or mobile number). */
function messengerBox() {
  const box = h("div", { class: "messenger-box" });
  api("/api/messenger/me")
    .then((bindings) => {
      for (const b of bindings.filter((x) => x.available || x.bound)) {
        const status = b.refused ? t("messenger.refused") : b.bound ? t("messenger.bound", { user: b.user_id }) : t("messenger.not_bound");
        box.append(h("p", { class: "messenger-" + b.provider }, h("strong", {}, t("channel." + b.provider)), " · ", status));
        if (!b.bound || b.refused) box.append(h("p", { class: "hint" }, t("messenger.how")));
      }
    })
    .catch(() => null);
  return box;
}

/** Telegram: bound or not; a one-time link (10 minutes) to bind; unbind. */
function telegramBox(delivery, ctx) {
  const box = h("div", { class: "telegram-box" });
  const draw = async () => {
    let me = null;
    try {
      me = await api("/api/telegram/me");
    } catch (_) {
      me = null; // no binding API on this server: say what the delivery settings know
    }
    const bound = me ? me.bound : delivery.telegram_bound;
    box.replaceChildren(
      h("p", {}, h("strong", {}, t("channel.telegram")), " · ", bound ? t("telegram.bound") : t("telegram.not_bound"), bound && me && me.bound_at ? " " + t("telegram.since", { date: fmtDate(me.bound_at) }) : null),
    );
    if (!me) {
      if (!bound) box.append(h("p", { class: "hint" }, t("telegram.how")));
      return;
    }
    if (bound) {
      const unbind = h("button", { type: "button", class: "btn btn-quiet" }, t("telegram.unbind"));
      unbind.onclick = () =>
        busy(unbind, async () => {
          if (!confirm(t("telegram.unbind_confirm"))) return;
          await api("/api/telegram/me", { method: "DELETE" });
          toast(t("telegram.unbound"), "ok");
          await draw();
        });
      box.append(unbind);
      return;
    }
    const out = h("div", { role: "status" });
    const make = h("button", { type: "button", class: "btn btn-primary" }, t("telegram.make_link"));
    make.onclick = () =>
      busy(make, async () => {
        const link = await api("/api/telegram/link", { method: "POST" });
        out.replaceChildren();
        add(
          out,
          link.url ? h("p", {}, h("a", { class: "btn", href: link.url, target: "_blank", rel: "noopener" }, t("telegram.open"))) : null,
          h("p", { class: "hint" }, t("telegram.or_send", { bot: link.bot_username ? "@" + link.bot_username.replace(/^@/, "") : t("telegram.the_bot") })),
          h("p", {}, h("code", { class: "start-command" }, link.start_command)),
          h("p", { class: "small muted" }, t("telegram.expires", { time: fmtTime(link.expires_at) })),
        );
      });
    box.append(h("p", { class: "hint" }, t("telegram.link_hint")), make, out);
  };
  draw();
  return box;
}

function orderEditor(delivery) {
  // Telegram only where the deployment offers it (the server keeps it last in the saved order)
  const order = delivery.channel_order.filter((ch) => ch !== "telegram" || delivery.telegram_enabled);
  const list = h("ol", { class: "order" });
  const draw = () =>
    list.replaceChildren(
      ...order.map((ch, i) =>
        h(
          "li",
          {},
          h("span", {}, maybe("channel." + ch) || ch),
          h("button", { type: "button", class: "icon-btn", disabled: i === 0, "aria-label": t("channels.up", { name: maybe("channel." + ch) || ch }), onclick: () => { [order[i - 1], order[i]] = [order[i], order[i - 1]]; draw(); } }, icon("up")),
          h("button", { type: "button", class: "icon-btn", disabled: i === order.length - 1, "aria-label": t("channels.down", { name: maybe("channel." + ch) || ch }), onclick: () => { [order[i + 1], order[i]] = [order[i], order[i + 1]]; draw(); } }, icon("down")),
        ),
      ),
    );
  draw();
  const save = h("button", { type: "button", class: "btn" }, t("channels.save_order"));
  save.onclick = () =>
    busy(save, async () => {
      await api("/api/delivery/me/preferences", { method: "PUT", json: { channel_order: order } });
      toast(t("common.saved"), "ok");
    });
  return h("div", { class: "order-box" }, h("h3", {}, t("channels.order")), h("p", { class: "hint" }, t("channels.order_hint")), list, save);
}

function quietSection(delivery) {
  const start = h("input", { type: "time", value: delivery.quiet_start || "" });
  const end = h("input", { type: "time", value: delivery.quiet_end || "" });
  const error = h("div", { class: "alert alert-error", role: "alert", hidden: true });
  const save = h("button", { type: "button", class: "btn" }, t("common.save"));
  save.onclick = () =>
    busy(
      save,
      async () => {
        error.hidden = true;
        await api("/api/delivery/me/preferences", { method: "PUT", json: { quiet_start: start.value || null, quiet_end: end.value || null } });
        toast(t("common.saved"), "ok");
      },
      (err) => {
        error.textContent = errorText(err);
        error.hidden = false;
      },
    );
  return section("sec-quiet", t("quiet.title"), h("p", { class: "hint" }, t("quiet.hint")), error, h("div", { class: "two" }, field("quiet-start", t("quiet.start"), start), field("quiet-end", t("quiet.end"), end)), save);
}

/** The second factor: enrol (the key, a code to confirm), the recovery codes once, turn it off. */
function totpSection() {
  const box = h("div", { class: "totp-box" });
  const error = h("div", { class: "alert alert-error", role: "alert", hidden: true });
  const failed = (err) => {
    error.textContent = errorText(err);
    error.hidden = false;
  };
  const draw = async (shown) => {
    error.hidden = true;
    const status = await api("/api/auth/totp");
    box.replaceChildren();
    if (shown) {
      add(box, recoveryBox(shown));
    }
    if (status.active) {
      add(box, h("p", { class: "ok-text" }, t("totp.state_on")), h("p", { class: "hint" }, t("totp.recovery_left", { n: status.recovery_codes_left })));
      const password = h("input", { type: "password", autocomplete: "current-password" });
      const code = h("input", { autocomplete: "off", autocapitalize: "none", spellcheck: "false", maxlength: 16 });
      const off = h("button", { type: "submit", class: "btn btn-danger" }, t("totp.disable"));
      const form = checkedForm(
        {},
        (fail) =>
          busy(
            off,
            async () => {
              await api("/api/auth/totp/disable", { method: "POST", json: { password: password.value, code: code.value.trim() } });
              toast(t("totp.disabled"), "ok");
              await draw();
            },
            fail,
          ),
        field("totp-off-pass", t("password.current"), password),
        field("totp-off-code", t("totp.code_or_recovery"), code),
        off,
      );
      add(box, h("details", {}, h("summary", {}, t("totp.disable")), form));
      return;
    }
    add(box, h("p", { class: "muted" }, status.required ? t("totp.state_required") : t("totp.state_off")), h("p", { class: "hint" }, t("totp.lead")));
    const start = h("button", { type: "button", class: "btn btn-primary" }, t("totp.enrol"));
    start.onclick = () =>
      busy(
        start,
        async () => {
          const setup = await api("/api/auth/totp/setup", { method: "POST" });
          const code = codeInput();
          const confirmButton = h("button", { type: "submit", class: "btn btn-primary" }, t("totp.activate"));
          const form = checkedForm(
            {},
            (fail) => {
              const value = code.value.replace(/\s/g, "");
              if (!/^\d{6}$/.test(value)) {
                fail(t("totp.code_missing"));
                return;
              }
              busy(
                confirmButton,
                async () => {
                  const result = await api("/api/auth/totp/activate", { method: "POST", json: { code: value } });
                  toast(t("totp.enabled"), "ok");
                  await draw(result.recovery_codes);
                },
                fail,
              );
            },
            keyBox(setup),
            field("totp-code", t("totp.code"), code),
            confirmButton,
          );
          box.replaceChildren(form);
          code.focus();
        },
        failed,
      );
    add(box, start);
  };
  draw().catch(failed);
  return section("sec-totp", t("totp.title"), error, box);
}

function passwordSection(open, ctx) {
  const current = h("input", { type: "password", autocomplete: "current-password" });
  const next = h("input", { type: "password", autocomplete: "new-password", minlength: 10 });
  const save = h("button", { type: "submit", class: "btn" }, t("password.save"));
  const form = checkedForm(
    {},
    (fail) =>
      busy(
        save,
        async () => {
          await api("/api/auth/password", { method: "POST", json: { current_password: current.value, new_password: next.value } });
          current.value = next.value = "";
          toast(t("password.done"), "ok");
          if (ctx.me.must_change_password) {
            ctx.me = Object.assign({}, ctx.me, { must_change_password: false });
            await core.session.set(Object.assign({}, await core.session.get(), { me: ctx.me }));
            ctx.reload();
          }
        },
        fail,
      ),
    field("pw-current", t("password.current"), current),
    field("pw-new", t("password.new"), next, { hint: t("password.hint") }),
    save,
  );
  return h("details", { class: "card", open: open || null }, h("summary", {}, t("password.title")), form);
}

async function outboxSection(ctx) {
  const items = await core.outbox.pending(ctx.me.person_id);
  if (!items.length) return null;
  return section(
    "sec-outbox",
    t("outbox.title"),
    h(
      "ul",
      { class: "plain" },
      items.map((i) =>
        h(
          "li",
          { class: "outbox-item" },
          i.kind === "interview"
            ? h("a", { href: "#/interviews" }, t("outbox.interview_item", { date: fmtDate(i.queued_at || i.created_at, true) }))
            : i.kind === "eval_tag"
            ? h("a", { href: "#/evaluation" }, t("outbox.tag_item", { date: fmtDate(i.queued_at || i.created_at, true) }))
            : h("a", { href: "#/warnings/" + i.warning_id }, t("outbox.item", { id: i.warning_id, date: fmtDate(i.queued_at || i.created_at, true) })),
          h("span", { class: i.state === "failed" ? "error-text" : "muted" }, i.state === "failed" ? errorText(i.error) : t("outbox.state_queued")),
          h(
            "button",
            {
              type: "button",
              class: "btn btn-quiet",
              onclick: async () => {
                if (!confirm(t("outbox.discard_confirm"))) return;
                await core.outbox.remove(i.client_id);
                ctx.reload();
              },
            },
            t("outbox.discard"),
          ),
        ),
      ),
    ),
    h("button", { type: "button", class: "btn", onclick: (e) => busy(e.currentTarget, () => core.flush()) }, t("outbox.send_now")),
  );
}

// my integrity education hours of the last twelve months against the target
async function educationCard() {
  const mine = await api("/api/education/mine").catch(() => null);
  if (!mine) return null;
  const short = Math.max(0, mine.required_hours - mine.hours);
  return h(
    "section",
    { class: "card education" },
    h("h2", {}, t("edu.title")),
    h("p", {}, t("edu.hours", { n: fmtNumber(mine.hours, 1), need: fmtNumber(mine.required_hours, 1) })),
    h("p", { class: short > 0 ? "small warn-text" : "small ok-text" }, short > 0 ? t("edu.short", { n: fmtNumber(short, 1) }) : t("edu.met")),
    mine.records.length
      ? h("ul", { class: "plain small" }, mine.records.slice(0, 5).map((r) => h("li", { class: "row-between" }, h("span", {}, r.title), h("span", { class: "muted" }, fmtDay(r.studied_on) + " · " + t("edu.n_hours", { n: fmtNumber(r.hours, 1) })))))
      : null,
  );
}

export default async function render(root, ctx, _params, query) {
  const me = ctx.me;
  const [delivery, units] = await Promise.all([api("/api/delivery/me"), api("/api/units").catch(() => [])]);
  const unit = units.find((u) => u.id === me.unit_id);
  const langBox = h(
    "fieldset",
    { class: "choices row" },
    h("legend", { class: "sr-only" }, t("lang.title")),
    LANGS.map((l) =>
      h("label", { class: "choice", lang: l }, h("input", { type: "radio", name: "lang", value: l, checked: currentLang() === l, onchange: () => ctx.setLang(l) }), h("span", {}, t("lang." + l))),
    ),
  );
  const signOut = h("button", { type: "button", class: "btn btn-danger btn-block" }, t("me.sign_out"));
  signOut.onclick = async () => {
    const waiting = await core.outbox.pending(me.person_id);
    if (waiting.length && !confirm(t("me.sign_out_waiting", { n: waiting.length }))) return;
    await unsubscribe().catch(() => null);
    await ctx.signOut();
  };
  add(root, 
    heading(t("me.title")),
    me.must_change_password ? note(t("password.must_change"), "warn") : null,
    h(
      "section",
      { class: "card me" },
      h("p", { class: "me-name" }, me.name),
      h("p", { class: "muted" }, [me.post_name, unit ? unit.name : null].filter(Boolean).join(" · ")),
      h("p", {}, me.roles.map((r) => h("span", { class: "chip" }, maybe("role." + r) || r))),
    ),
    ctx.moreTabs().map((n) => h("a", { class: "card hub-link more-tab", href: n.hash }, h("strong", {}, icon(n.icon), " ", n.label), h("span", { class: "muted" }, t("me.more_" + n.hash.slice(2))))),
    h("a", { class: "card hub-link", href: "#/ladder" }, h("strong", {}, t(ctx.has("inspector", "committee") ? "ladder.title_units" : "ladder.title")), h("span", { class: "muted" }, t(ctx.has("inspector", "committee") ? "ladder.hub_hint_units" : "ladder.hub_hint"))),
    h("a", { class: "card hub-link", href: "#/interviews?mine=1" }, h("strong", {}, t("iv.mine_title")), h("span", { class: "muted" }, t("iv.mine_lead"))),
    await educationCard(),
    h("a", { class: "card hub-link", href: "#/evaluation" }, h("strong", {}, t("ev.title")), h("span", { class: "muted" }, t("ev.hub_hint"))),
    h("a", { class: "card hub-link", href: "#/dossier/" + me.person_id }, h("strong", {}, t("dossier.mine")), h("span", { class: "muted" }, t("dossier.hub_hint"))),
    ctx.has("inspector", "committee")
      ? h("a", { class: "card hub-link", href: "#/intake" }, h("strong", {}, t("intake.title")), h("span", { class: "muted" }, t("intake.hub_lead")))
      : null,
    ctx.has("inspector") ? h("a", { class: "card hub-link", href: "#/warnings/new" }, h("strong", {}, t("mw.title")), h("span", { class: "muted" }, t("mw.hub_lead"))) : null,
    ctx.has("inspector", "committee") ? h("a", { class: "card hub-link", href: "#/clues" }, h("strong", {}, t("clue.title")), h("span", { class: "muted" }, t("clue.hub_lead"))) : null,
    ctx.has("head", "inspector", "committee") ? h("a", { class: "card hub-link", href: "#/problems" }, h("strong", {}, t("pb.title")), h("span", { class: "muted" }, t("pb.hub_lead"))) : null,
    ctx.has("head", "inspector", "committee") ? h("a", { class: "card hub-link", href: "#/opinions" }, h("strong", {}, t("op.title")), h("span", { class: "muted" }, t("op.hub_lead"))) : null,
    await outboxSection(ctx),
    section("sec-lang", t("lang.title"), langBox),
    await pushSection(delivery),
    channelsSection(delivery, ctx),
    quietSection(delivery),
    totpSection(),
    passwordSection(query.get("password") === "1" || me.must_change_password, ctx),
    signOut,
  );
}
