// Signed in through the company messenger (WeCom, DingTalk): the server's single sign-on hands
// this page a one-time code, traded here (in the same browser) for a session; then the item the
// card's button was pressed for opens. No password, no install: this runs in the messenger's browser.
import { api } from "../api.js";
import { t } from "../i18n.js";
import { add, h, heading } from "../ui.js";
import { secondStep } from "./login.js";

export default async function render(root, ctx, [code]) {
  add(root, heading(t("sso.title")), h("p", { class: "lead", role: "status" }, t("sso.signing_in")));
  let got;
  try {
    got = await api("/messenger/sso/exchange", { method: "POST", json: { code } });
  } catch (_) {
    root.replaceChildren(
      heading(t("sso.title")),
      h("div", { class: "alert alert-error", role: "alert" }, t("sso.expired")),
      h("p", {}, h("a", { class: "btn", href: "#/login" }, t("sso.to_login"))),
    );
    return;
  }
  const to = "#" + (/^\/[a-z0-9/-]*$/.test(got.target || "") ? got.target : "/warnings");
  if (got.second_factor) {
    // the messenger replaces the password, not the second factor: the same step as a password sign-in
    sessionStorage.setItem("probity.after", to);
    const wrap = h("div", { class: "login-wrap" });
    root.replaceChildren(wrap);
    await secondStep(wrap, got, ctx, { messenger: true });
    return;
  }
  await ctx.signIn(got);
  ctx.navigate(to, true);
}
