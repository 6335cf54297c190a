// The second factor (TOTP): the pieces the sign-in screen and the profile share — the new key to
// scan (a QR code, js/qr.js) or copy into an authenticator app, the six-digit code field, the
// recovery codes shown once.
import { t } from "./i18n.js";
import { qrSvg } from "./qr.js";
import { h, note } from "./ui.js";

/** A six-digit code field: numeric keyboard, filled by the phone from a message or an app. */
export function codeInput(name = "code") {
  return h("input", { name, inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]*", maxlength: 6, class: "code-input", spellcheck: "false" });
}

/** A recovery-code field (letters and digits, as printed). */
export function recoveryInput(name = "recovery") {
  return h("input", { name, autocomplete: "off", autocapitalize: "none", spellcheck: "false", maxlength: 16, class: "code-input" });
}

/** The base32 key in groups of four, easier to type by hand. */
export function grouped(secret) {
  return secret.replace(/(.{4})/g, "$1 ").trim();
}

/** The new key: the otpauth link to copy, and the key in groups of four for typing in. */
export function keyBox(setup) {
  const uri = h("input", { readonly: true, value: setup.otpauth_uri, class: "mono", "aria-label": t("totp.uri") });
  uri.onfocus = () => uri.select();
  const copy = h("button", { type: "button", class: "btn btn-quiet" }, t("totp.copy"));
  copy.onclick = async () => {
    try {
      await navigator.clipboard.writeText(setup.otpauth_uri);
      copy.textContent = t("totp.copied");
    } catch (_) {
      uri.select();
    }
  };
  return h(
    "div",
    { class: "totp-key" },
    h("ol", { class: "steps" }, h("li", {}, t("totp.step_app")), h("li", {}, t("totp.step_key")), h("li", {}, t("totp.step_code"))),
    qrSvg(setup.otpauth_uri, t("totp.qr")),
    h("p", { class: "hint" }, t("totp.key_label")),
    h("p", {}, h("code", { class: "totp-secret", "aria-label": t("totp.key_label") }, grouped(setup.secret))),
    h("p", { class: "hint" }, t("totp.uri_label")),
    uri,
    h("p", {}, copy),
  );
}

/** The recovery codes, shown once: keep them somewhere safe. */
export function recoveryBox(codes) {
  return h(
    "div",
    { class: "totp-recovery", role: "status" },
    note(t("totp.recovery_once"), "warn"),
    h("ul", { class: "recovery-codes" }, codes.map((c) => h("li", {}, h("code", {}, c)))),
  );
}
