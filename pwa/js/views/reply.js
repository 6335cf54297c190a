// The verification reply: true / not true, cause, measures (required when true), photos shrunk on
// the phone, optional location. The form has a client id from the moment it opens; the draft and
// its photos live in IndexedDB; submitting queues it and the outbox sends it (now, or when the
// network returns).
import { api, core, request } from "../api.js";
import { currentLang, errorText, fmtDate, fmtPeriod, t } from "../i18n.js";
import { detailPath } from "../kept.js";
import { draftFor, queue, queuedFor } from "../outbox.js";
import { shrink } from "../photos.js";
import { add, busy, debounce, dueLine, field, h, heading, icon, levelBadge, note, setFieldError, toast } from "../ui.js";

const MAX_PHOTOS = 12;

/** Which warning the form answers: its topic, object and period, and its deadline. */
function replyOf(warning) {
  if (!warning) return note(t("reply.of_unknown"), "warn");
  return h(
    "section",
    { class: "card reply-of lv-" + warning.level, "aria-label": t("reply.of_label") },
    h("p", { class: "wcard-top" }, levelBadge(warning.level), h("strong", { class: "topic" }, warning.topic_name || t("warning.untitled"))),
    h("p", { class: "muted" }, t("warning.object_period", { object: warning.object_key, period: fmtPeriod(warning.period_key) })),
    h("p", {}, dueLine(warning)),
  );
}

/** The reply the head returned last (the warning is in state returned), if the detail has it. */
function lastReturned(verifications) {
  const last = (verifications || []).reduce((a, v) => (!a || v.round > a.round ? v : a), null);
  return last && last.decision === "returned" ? last : null;
}

/** The head's reason for returning, first on the form. */
function returnedBox(v) {
  return h(
    "section",
    { class: "alert alert-error returned-reason", role: "note", "aria-label": t("reply.returned_label") },
    h("p", {}, h("strong", {}, t("reply.returned_title", { date: fmtDate(v.decided_at, true) }))),
    h("p", { class: "pre" }, v.decision_reason || t("reply.returned_no_reason")),
    h("p", { class: "small" }, t("reply.returned_prefilled")),
  );
}

/** A new draft after a return starts from the earlier answer: its finding, texts and photos (the
 * photos are already on the server: kept by their ids, their pictures fetched for the thumbnails). */
async function prefill(item, v, warningId) {
  item.body = { result: v.result, cause: v.cause || "", measures: v.measures || "" };
  let n = 0;
  for (const photoId of v.photo_ids || []) {
    n += 1;
    let blob = null;
    try {
      blob = await (await request("/api/warnings/" + warningId + "/photos/" + photoId)).blob();
    } catch (_) {
      blob = null; // offline: the photo is still sent by its id, shown without its picture
    }
    await core.outbox.putPhoto({ id: item.client_id + ":" + n, client_id: item.client_id, n, blob, server_id: photoId, size: blob ? blob.size : 0 });
  }
  item.prefilled = true;
  await core.outbox.put(item);
}

export default async function render(root, ctx, [id]) {
  const warningId = Number(id);
  let warning = null;
  let detail = null;
  try {
    detail = await api(detailPath(warningId, currentLang())); // kept on the phone when the inbox loaded
    warning = detail.warning;
  } catch (err) {
    if (err.code !== "network") throw err; // offline with nothing saved: the form still works
  }
  const waiting = await queuedFor(warningId, ctx.me.person_id);
  add(root, h("a", { class: "back", href: "#/warnings/" + warningId }, icon("back"), t("common.back")), heading(t("reply.title")));
  if (waiting && waiting.state === "queued") {
    add(root, note(t("outbox.item_waiting"), "warn"));
    return undefined;
  }
  const item = await draftFor(warningId, ctx.me.person_id);
  const returned = warning && warning.state === "returned" ? lastReturned(detail.verifications) : null;
  if (returned && !item.prefilled) await prefill(item, returned, warningId);
  const body = item.body;
  const urls = [];

  add(root, returned ? returnedBox(returned) : null, replyOf(warning));
  if (item.state === "failed" && item.error) add(root, h("div", { class: "alert alert-error", role: "alert" }, errorText(item.error)));

  let submitted = false;
  const save = debounce(() => {
    if (submitted) return; // the queued reply is frozen: a replay must carry the same body
    item.state = "draft";
    core.outbox.put(item);
  }, 300);

  // --- result --------------------------------------------------------------------------------
  const radios = ["true", "not_true"].map((value) =>
    h(
      "label",
      { class: "choice" },
      h("input", {
        type: "radio",
        name: "result",
        value,
        checked: body.result === value,
        onchange: () => {
          body.result = value;
          measuresField.querySelector(".req").hidden = value !== "true";
          setFieldError(resultSet, "");
          save();
        },
      }),
      h("span", {}, h("strong", {}, t("finding." + value)), h("small", {}, t("reply.result_hint_" + value))),
    ),
  );
  const resultSet = h(
    "fieldset",
    { class: "choices", id: "reply-result", "aria-describedby": "reply-result-error" },
    h("legend", {}, t("reply.result"), h("span", { class: "req", "aria-hidden": "true" }, " *")),
    radios,
    h("p", { class: "field-error", id: "reply-result-error", hidden: true }),
  );

  const cause = h("textarea", { rows: 4, maxlength: 4000, value: body.cause, oninput: () => { body.cause = cause.value; save(); } });
  const measures = h("textarea", { rows: 4, maxlength: 4000, value: body.measures, oninput: () => { body.measures = measures.value; save(); } });
  const measuresField = field("reply-measures", t("reply.measures"), measures, { hint: t("reply.measures_hint"), required: true });
  measuresField.querySelector(".req").hidden = body.result !== "true";

  // --- photos --------------------------------------------------------------------------------
  const thumbs = h("ul", { class: "thumbs editable" });
  const photoStatus = h("p", { class: "small muted", role: "status" });
  async function drawThumbs() {
    urls.splice(0).forEach((u) => URL.revokeObjectURL(u));
    const photos = await core.outbox.photos(item.client_id);
    thumbs.replaceChildren(
      ...photos.map((p, i) => {
        const url = p.blob ? URL.createObjectURL(p.blob) : null;
        if (url) urls.push(url);
        return h(
          "li",
          { class: "thumb" },
          url
            ? h("img", { src: url, alt: t("reply.photo_n", { n: i + 1 }), width: 96, height: 96 })
            : h("span", { class: "thumb-kept" }, t("reply.photo_kept", { n: i + 1 })),
          h(
            "button",
            {
              type: "button",
              class: "thumb-remove",
              "aria-label": t("reply.photo_remove", { n: i + 1 }),
              onclick: async () => {
                await core.outbox.deletePhoto(p.id);
                drawThumbs();
              },
            },
            icon("close"),
          ),
        );
      }),
    );
    photoStatus.textContent = photos.length ? t("reply.photo_count", { n: photos.length }) : "";
    return photos;
  }
  async function addFiles(files) {
    let photos = await core.outbox.photos(item.client_id);
    let n = photos.reduce((m, p) => Math.max(m, p.n), 0);
    for (const file of files) {
      if (photos.length >= MAX_PHOTOS) {
        toast(t("reply.photo_limit", { n: MAX_PHOTOS }), "error");
        break;
      }
      photoStatus.textContent = t("reply.photo_working");
      try {
        const small = await shrink(file);
        n += 1;
        await core.outbox.putPhoto({ id: item.client_id + ":" + n, client_id: item.client_id, n, blob: small.blob, width: small.width, height: small.height, size: small.blob.size });
      } catch (_) {
        toast(t("reply.photo_unreadable"), "error");
      }
      photos = await drawThumbs();
    }
  }
  const pickers = [
    ["camera", t("reply.photo_take"), { capture: "environment" }],
    ["image", t("reply.photo_pick"), { multiple: true }],
  ].map(([ic, label, extra]) =>
    h(
      "label",
      { class: "btn file-btn" },
      h("input", Object.assign({ type: "file", accept: "image/*", class: "file-input", onchange: (e) => { addFiles([...e.target.files]); e.target.value = ""; } }, extra)),
      icon(ic),
      h("span", {}, label),
    ),
  );

  // --- location ------------------------------------------------------------------------------
  const locStatus = h("p", { class: "small muted", role: "status" });
  const locBox = h("input", { type: "checkbox", checked: body.latitude !== undefined && body.latitude !== null });
  const showLoc = () => {
    locStatus.textContent = locBox.checked && body.latitude != null ? t("reply.location_got", { m: Math.round(body.accuracy_m || 0) }) : "";
  };
  locBox.onchange = () => {
    if (!locBox.checked) {
      delete body.latitude;
      delete body.longitude;
      delete body.accuracy_m;
      showLoc();
      save();
      return;
    }
    if (!navigator.geolocation) {
      locBox.checked = false;
      locStatus.textContent = t("reply.location_unavailable");
      return;
    }
    locStatus.textContent = t("reply.location_working");
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        body.latitude = Number(pos.coords.latitude.toFixed(6));
        body.longitude = Number(pos.coords.longitude.toFixed(6));
        body.accuracy_m = Math.min(100000, Math.round(pos.coords.accuracy || 0));
        showLoc();
        save();
      },
      () => {
        locBox.checked = false;
        locStatus.textContent = t("reply.location_denied");
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
    );
  };
  showLoc();

  // --- submit --------------------------------------------------------------------------------
  const formError = h("div", { class: "alert alert-error", role: "alert", hidden: true });
  const submit = h("button", { class: "btn btn-primary btn-block", type: "submit" }, t("reply.submit"));
  function validate() {
    let first = null;
    const mark = (control, message) => {
      setFieldError(control, message);
      if (message && !first) first = control;
    };
    mark(resultSet, body.result ? "" : t("reply.need_result"));
    mark(cause, body.cause.trim() ? "" : t("reply.need_cause"));
    mark(measures, body.result === "true" && !body.measures.trim() ? t("err.measures_required") : "");
    if (first) (first.querySelector ? first.querySelector("input") || first : first).focus();
    return !first;
  }
  const form = h(
    "form",
    {
      class: "reply-form",
      novalidate: true,
      onsubmit: (e) => {
        e.preventDefault();
        formError.hidden = true;
        if (!validate()) return;
        busy(submit, async () => {
          submitted = true;
          save.cancel();
          const clean = { result: body.result, cause: body.cause.trim(), measures: body.measures.trim() };
          if (body.latitude != null) Object.assign(clean, { latitude: body.latitude, longitude: body.longitude, accuracy_m: body.accuracy_m });
          item.body = clean;
          const outcome = await queue(item);
          const after = await core.outbox.get(item.client_id);
          if (!after) {
            toast(t("outbox.sent", { n: 1 }), "ok");
          } else if (after.state === "failed") {
            submitted = false;
            formError.textContent = errorText(after.error);
            formError.hidden = false;
            formError.focus();
            return;
          } else {
            toast(outcome && outcome.auth ? t("outbox.saved_signin") : t("outbox.saved_offline"), "warn");
          }
          ctx.refreshBadges();
          // sent: the warning shows the reply; waiting: back to the inbox, where it is marked 待发送
          ctx.navigate(after ? "#/warnings" : "#/warnings/" + warningId);
        });
      },
    },
    formError,
    resultSet,
    field("reply-cause", t("reply.cause"), cause, { required: true, hint: t("reply.cause_hint") }),
    measuresField,
    h("fieldset", { class: "photos" }, h("legend", {}, t("reply.photos")), h("p", { class: "hint" }, t("reply.photos_hint")), h("div", { class: "actions" }, pickers), photoStatus, thumbs),
    h("div", { class: "field" }, h("label", { class: "toggle" }, locBox, h("span", {}, icon("pin"), t("reply.location_attach"))), locStatus),
    h("p", { class: "hint" }, t("reply.offline_hint")),
    submit,
  );
  formError.tabIndex = -1;
  add(root, form);
  await drawThumbs();
  return () => urls.forEach((u) => URL.revokeObjectURL(u));
}
