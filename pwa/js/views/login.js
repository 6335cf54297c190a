// Sign in: username and password; with a second factor, a six-digit code (or a recovery code) as a
// second step, or setting the factor up first when the role requires it. The tokens go to
// IndexedDB (the service worker needs them too).
import { ApiError } from "../api.js";
import { t } from "../i18n.js";
import { codeInput, keyBox, recoveryBox, recoveryInput } from "../totp.js";
import { add, busy, checkedForm, field, h, heading } from "../ui.js";

/** POST to /api/auth/login or one of its steps ("/totp", "/totp/setup"); no token yet. */
async function post(step, json) {
  let res;
  try {
    res = await fetch("/api/auth/login" + step, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Probity-Channel": "pwa" },
      body: JSON.stringify(json),
    });
  } catch (_) {
    throw new ApiError(0, { code: "network" });
  }
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
}

async function finish(tokens, ctx) {
  await ctx.signIn(tokens);
  const after = sessionStorage.getItem("probity.after");
  sessionStorage.removeItem("probity.after");
  ctx.navigate(tokens.must_change_password ? "#/me?password=1" : after || ctx.home());
  ctx.refreshBadges();
}

/** The second step: a code from the authenticator app, or a recovery code. */
function codeStep(wrap, step, ctx, lead = "totp.step_lead") {
  const code = codeInput();
  const recovery = recoveryInput();
  const codeField = field("login-code", t("totp.code"), code, { hint: t("totp.code_hint") });
  const recoveryField = field("login-recovery", t("totp.recovery_code"), recovery, { hint: t("totp.recovery_hint") });
  recoveryField.hidden = true;
  const toggle = h("button", { type: "button", class: "btn btn-quiet" }, t("totp.use_recovery"));
  const back = h("button", { type: "button", class: "btn btn-quiet", onclick: () => ctx.reload() }, t("totp.start_over"));
  toggle.onclick = () => {
    const useRecovery = recoveryField.hidden;
    recoveryField.hidden = !useRecovery;
    codeField.hidden = useRecovery;
    toggle.textContent = useRecovery ? t("totp.use_code") : t("totp.use_recovery");
    (useRecovery ? recovery : code).focus();
  };
  const submit = h("button", { class: "btn btn-primary btn-block", type: "submit" }, t("totp.verify"));
  const form = checkedForm(
    { class: "card login login-code" },
    (fail) => {
      const value = recoveryField.hidden ? code.value.replace(/\s/g, "") : recovery.value.trim();
      if (recoveryField.hidden ? !/^\d{6}$/.test(value) : !value) {
        fail(recoveryField.hidden ? t("totp.code_missing") : t("totp.recovery_missing"));
        return;
      }
      busy(
        submit,
        async () => finish(await post("/totp", { challenge: step.challenge, code: value }), ctx),
        (err) => {
          fail(err);
          (recoveryField.hidden ? code : recovery).select();
        },
      );
    },
    h("h2", {}, t("totp.step_title")),
    h("p", { class: "hint" }, t(lead)),
    codeField,
    recoveryField,
    submit,
    toggle,
    back,
  );
  wrap.replaceChildren(heading(t("login.title")), form);
  code.focus();
}

/** Enrolment required at sign-in: show the new key, confirm with a code, show the recovery codes. */
async function enrolStep(wrap, step, ctx) {
  const setup = await post("/totp/setup", { challenge: step.challenge });
  const code = codeInput();
  const submit = h("button", { class: "btn btn-primary btn-block", type: "submit" }, t("totp.activate"));
  const form = checkedForm(
    { class: "card login login-enrol" },
    (fail) => {
      const value = code.value.replace(/\s/g, "");
      if (!/^\d{6}$/.test(value)) {
        fail(t("totp.code_missing"));
        return;
      }
      busy(
        submit,
        async () => {
          const tokens = await post("/totp", { challenge: step.challenge, code: value });
          const go = h("button", { type: "button", class: "btn btn-primary btn-block" }, t("totp.recovery_saved"));
          go.onclick = () => busy(go, () => finish(tokens, ctx));
          wrap.replaceChildren(heading(t("totp.recovery_title")), h("section", { class: "card" }, recoveryBox(tokens.recovery_codes), go));
        },
        (err) => {
          fail(err);
          code.select();
        },
      );
    },
    h("h2", {}, t("totp.enrol_title")),
    h("p", { class: "hint" }, t("totp.enrol_required")),
    keyBox(setup),
    field("enrol-code", t("totp.code"), code),
    submit,
  );
  wrap.replaceChildren(heading(t("login.title")), form);
}

/** The second factor still to do after a password or a messenger sign-in (``second_factor``). */
export async function secondStep(wrap, answer, ctx, { messenger = false } = {}) {
  if (answer.second_factor === "totp") codeStep(wrap, answer, ctx, messenger ? "totp.step_lead_messenger" : "totp.step_lead");
  else if (answer.second_factor === "enrol") await enrolStep(wrap, answer, ctx);
}

export default async function render(root, ctx) {
  const user = h("input", { name: "username", autocomplete: "username", autocapitalize: "none", spellcheck: "false", required: true });
  const pass = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { class: "btn btn-primary btn-block", type: "submit" }, t("login.submit"));
  const wrap = h("div", { class: "login-wrap" });
  const form = checkedForm(
    { class: "card login" },
    (fail) => {
      if (!user.value.trim() || !pass.value) {
        fail(t("login.missing"));
        return;
      }
      busy(
        submit,
        async () => {
          const answer = await post("", { username: user.value.trim(), password: pass.value });
          if (answer.second_factor) await secondStep(wrap, answer, ctx);
          else await finish(answer, ctx);
        },
        (err) => {
          fail(err);
          pass.select();
        },
      );
    },
    field("login-user", t("login.username"), user),
    field("login-pass", t("login.password"), pass),
    submit,
  );
  add(
    wrap,
    heading(t("login.title")),
    h("p", { class: "lead" }, t("login.lead")),
    form,
    h("p", { class: "hint center" }, h("a", { href: "#/report" }, t("report.entry"))),
  );
  add(root, wrap);
}
