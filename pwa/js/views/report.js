// The public report form (外网廉情信息收集、信访举报): anyone, without an account, reports a problem
// (anonymously or with a way to be contacted), with photos or PDF files, and gets a receipt code to
// follow it. The form proves a second of work (no captcha); nothing the sender typed stays here.
import { ApiError, core } from "../api.js";
import { fmtDay, t } from "../i18n.js";
import { add, busy, checkedForm, field, h, heading, icon, segmented, setFieldError } from "../ui.js";

const CATEGORIES = ["integrity", "service", "other"];

async function publicJson(path, json) {
  let res;
  try {
    res = await core.publicFetch(path, {
      method: json ? "POST" : "GET",
      headers: json ? { "Content-Type": "application/json" } : {},
      body: json ? JSON.stringify(json) : undefined,
    });
  } catch (_) {
    throw new ApiError(0, { code: "network" });
  }
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
}

function zeroBits(bytes) {
  let bits = 0;
  for (const b of bytes) {
    if (b === 0) {
      bits += 8;
      continue;
    }
    return bits + Math.clz32(b) - 24;
  }
  return bits;
}

/** A nonce whose SHA-256 with the challenge has the leading zero bits asked for. */
async function solve(challenge, bits) {
  const enc = new TextEncoder();
  for (let n = 0; ; n++) {
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", enc.encode(challenge + ":" + n)));
    if (zeroBits(digest) >= bits) return String(n);
  }
}

function receiptCard(receipt) {
  const code = receipt.receipt.replace(/(.{4})(?=.)/g, "$1 ");
  const copy = h("button", { type: "button", class: "btn" }, t("report.copy"));
  copy.onclick = async () => {
    try {
      await navigator.clipboard.writeText(receipt.receipt);
      copy.textContent = t("report.copied");
    } catch (_) {
      copy.textContent = t("report.copy_failed");
    }
  };
  return h(
    "section",
    { class: "card receipt", role: "status" },
    h("h2", {}, t("report.sent_title")),
    h("p", {}, t("report.sent_lead")),
    h("p", { class: "receipt-code", lang: "en" }, code),
    h("p", { class: "hint" }, t("report.keep_code")),
    copy,
  );
}

function statusForm() {
  const code = h("input", { name: "receipt", autocomplete: "off", autocapitalize: "characters", spellcheck: "false" });
  const out = h("div", { "aria-live": "polite" });
  const submit = h("button", { class: "btn btn-block", type: "submit" }, t("report.look_up"));
  const form = checkedForm(
    { class: "card report-status" },
    (fail) => {
      const value = code.value.replace(/[\s-]/g, "");
      if (value.length < 8) {
        setFieldError(code, t("report.code_missing"));
        code.focus();
        return;
      }
      busy(
        submit,
        async () => {
          const found = await publicJson("/api/public/reports/status", { receipt: value });
          out.replaceChildren(
            h(
              "dl",
              { class: "facts" },
              h("dt", {}, t("report.state")),
              h("dd", {}, t("intake_state." + found.state)),
              h("dt", {}, t("report.received_on")),
              h("dd", {}, fmtDay(found.received_on)),
              h("dt", {}, t("report.updated_on")),
              h("dd", {}, fmtDay(found.updated_on)),
              found.note ? h("dt", {}, t("report.note")) : null,
              found.note ? h("dd", {}, found.note) : null,
            ),
          );
        },
        (err) => {
          out.replaceChildren();
          fail(err);
        },
      );
    },
    h("h2", {}, t("report.status_title")),
    field("report-receipt", t("report.receipt"), code),
    submit,
    out,
  );
  code.addEventListener("input", () => setFieldError(code, ""));
  return form;
}

export default async function render(root, ctx) {
  let category = "integrity";
  const pick = segmented(
    t("report.category"),
    CATEGORIES.map((c) => [c, t("intake_category." + c)]),
    category,
    (value) => {
      category = value;
      for (const b of pick.querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.textContent === t("intake_category." + value)));
    },
  );
  const subject = h("input", { name: "subject", maxlength: 100, autocomplete: "off" });
  const body = h("textarea", { name: "body", rows: 6, maxlength: 5000 });
  const about = h("input", { name: "about", maxlength: 200, autocomplete: "off" });
  const anonymous = h("input", { type: "checkbox", name: "anonymous", checked: true });
  const contact = h("input", { name: "contact", maxlength: 200, autocomplete: "tel" });
  const contactField = field("report-contact", t("report.contact"), contact, { hint: t("report.contact_hint") });
  contactField.hidden = true;
  anonymous.onchange = () => {
    contactField.hidden = anonymous.checked;
  };
  const chosen = h("ul", { class: "report-chosen", "aria-live": "polite" });
  const files = h("input", {
    type: "file",
    name: "files",
    multiple: true,
    accept: "image/*,application/pdf",
    class: "file-input",
    onchange: () => chosen.replaceChildren(...[...files.files].map((f) => h("li", {}, f.name))),
  });
  const filesField = h(
    "div",
    { class: "field" },
    h("p", { class: "field-label" }, t("report.files")),
    h("p", { class: "hint" }, t("report.files_hint")),
    h("label", { class: "btn file-btn" }, files, icon("camera"), h("span", {}, t("report.pick_files"))),
    chosen,
  );
  const submit = h("button", { class: "btn btn-primary btn-block", type: "submit" }, t("report.submit"));
  const wrap = h("div", { class: "report-wrap" });
  for (const control of [subject, body]) control.addEventListener("input", () => setFieldError(control, ""));
  const form = checkedForm(
    { class: "card report-form" },
    (fail) => {
      let first = null;
      for (const [control, key] of [[subject, "report.subject_missing"], [body, "report.body_missing"]]) {
        const empty = !control.value.trim();
        setFieldError(control, empty ? t(key) : "");
        if (empty && !first) first = control;
      }
      if (first) {
        first.focus();
        return;
      }
      if (files.files.length > 3) {
        fail(t("err.intake_too_many_files", { max: 3 }));
        return;
      }
      busy(
        submit,
        async () => {
          submit.textContent = t("report.working");
          const challenge = await publicJson("/api/public/reports/challenge");
          const nonce = await solve(challenge.challenge, challenge.bits);
          const data = new FormData();
          data.set("challenge", challenge.challenge);
          data.set("nonce", nonce);
          data.set("category", category);
          data.set("subject", subject.value.trim());
          data.set("body", body.value.trim());
          if (about.value.trim()) data.set("about", about.value.trim());
          if (!anonymous.checked && contact.value.trim()) data.set("contact", contact.value.trim());
          for (const file of files.files) data.append("files", file, file.name);
          let res;
          try {
            res = await core.publicFetch("/api/public/reports", { method: "POST", body: data });
          } catch (_) {
            throw new ApiError(0, { code: "network" });
          }
          const answer = await res.json().catch(() => ({}));
          if (!res.ok) throw new ApiError(res.status, answer);
          wrap.replaceChildren(heading(t("report.title")), receiptCard(answer), statusForm());
          window.scrollTo(0, 0);
        },
        (err) => {
          submit.textContent = t("report.submit");
          fail(err);
        },
      );
    },
    h("p", { class: "hint" }, t("report.lead")),
    h("div", { class: "field" }, h("p", { class: "field-label" }, t("report.category")), pick),
    field("report-subject", t("report.subject"), subject, { required: true }),
    field("report-body", t("report.body"), body, { required: true, hint: t("report.body_hint") }),
    field("report-about", t("report.about"), about, { hint: t("report.about_hint") }),
    h("label", { class: "toggle" }, anonymous, h("span", {}, t("report.anonymous"))),
    contactField,
    filesField,
    submit,
  );
  add(wrap, heading(t("report.title")), form, statusForm());
  if (!ctx.me) add(wrap, h("p", { class: "hint center" }, h("a", { href: "#/login" }, t("report.staff_sign_in"))));
  add(root, wrap);
}
