// Sign in: username and password; the tokens go to IndexedDB (the service worker needs them too).
import { ApiError } from "../api.js";
import { t } from "../i18n.js";
import { add, busy, checkedForm, field, h, heading } from "../ui.js";

async function login(username, password) {
  let res;
  try {
    res = await fetch("/api/auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Probity-Channel": "pwa" },
      body: JSON.stringify({ username, password }),
    });
  } catch (_) {
    throw new ApiError(0, { code: "network" });
  }
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
}

export default async function render(root, ctx) {
  const user = h("input", { name: "username", autocomplete: "username", autocapitalize: "none", spellcheck: "false", required: true });
  const pass = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { class: "btn btn-primary btn-block", type: "submit" }, t("login.submit"));
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
          const tokens = await login(user.value.trim(), pass.value);
          await ctx.signIn(tokens);
          const after = sessionStorage.getItem("probity.after");
          sessionStorage.removeItem("probity.after");
          ctx.navigate(tokens.must_change_password ? "#/me?password=1" : after || "#/warnings");
          ctx.refreshBadges();
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
  add(root, 
    h("div", { class: "login-wrap" }, heading(t("login.title")), h("p", { class: "lead" }, t("login.lead")), form),
  );
}
