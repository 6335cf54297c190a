// Filing a "1+3" tag about a person from the phone (issue 20): the tags I may file for them, the
// day, a note (the evidence where the tag needs it), a photo if wanted. Offline-safe like replies:
// the client id is made when the form opens, the tag and its photo wait in the outbox, the photo is
// uploaded first (stored once per SHA-256) and the server stores the tag once.
import { api, core } from "../api.js";
import { t } from "../i18n.js";
import { queueTag } from "../outbox.js";
import { shrink } from "../photos.js";
import { add, checkedForm, field, h, heading, icon, setFieldError, toast } from "../ui.js";
import { signed } from "./evaluation.js";

function today() {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai" }).formatToParts(new Date());
  const v = Object.fromEntries(parts.map((p) => [p.type, p.value]));
  return `${v.year}-${v.month}-${v.day}`;
}

export default async function render(root, ctx, [categoryId, personId]) {
  const [library, subjects] = await Promise.all([
    api("/api/evaluation/categories/" + categoryId + "/library"),
    api("/api/evaluation/categories/" + categoryId + "/subjects"),
  ]);
  const subject = subjects.find((x) => String(x.person_id) === personId);
  const back = h("a", { class: "back", href: "#/evaluation" }, icon("back"), t("common.back"));
  if (!subject || !subject.may_file.length) {
    add(root, back, heading(t("ev.file_title")), h("p", { class: "alert alert-warn" }, t("ev.may_not_file")));
    return;
  }
  const clientId = core.uuid();
  const tags = library.content.tags.filter((x) => subject.may_file.includes(x.code));
  const choices = h(
    "fieldset",
    { class: "choices" },
    h("legend", {}, t("ev.pick_tag")),
    tags.map((x) =>
      h(
        "label",
        { class: "choice" },
        h("input", { type: "radio", name: "tag", value: x.code }),
        h("span", {}, h("strong", {}, x.name), " ", h("span", { class: "chip" }, t("ev.dim." + x.dimension)), " ", h("span", { class: "points" }, signed((x.direction === "plus" ? 1 : -1) * x.coefficient)), x.evidence_required ? h("span", { class: "muted small" }, " · ", t("ev.needs_evidence")) : null, x.confidential ? h("span", { class: "muted small" }, " · ", t("ev.confidential")) : null),
      ),
    ),
  );
  // --- the optional photo: shrunk on the phone, kept in memory until the tag is submitted, then in
  // the outbox with it (uploaded first, the tag refers to it)
  let photo = null;
  const thumb = h("div", { class: "thumbs" });
  const photoStatus = h("p", { class: "small muted", role: "status" });
  const drawPhoto = () => {
    if (!photo) return thumb.replaceChildren();
    const url = URL.createObjectURL(photo.blob);
    thumb.replaceChildren(
      h(
        "div",
        { class: "thumb" },
        h("img", { src: url, alt: t("ev.photo_alt"), width: 96, height: 96, onload: () => URL.revokeObjectURL(url) }),
        h("button", { type: "button", class: "thumb-remove", "aria-label": t("ev.photo_remove"), onclick: () => { photo = null; photoStatus.textContent = ""; drawPhoto(); } }, icon("close")),
      ),
    );
  };
  const takePhoto = async (file) => {
    if (!file) return;
    photoStatus.textContent = t("reply.photo_working");
    try {
      photo = await shrink(file);
      photoStatus.textContent = t("ev.photo_added");
    } catch (_) {
      photoStatus.textContent = "";
      toast(t("reply.photo_unreadable"), "error");
    }
    drawPhoto();
  };
  const pickers = [
    ["camera", t("reply.photo_take"), { capture: "environment" }],
    ["image", t("reply.photo_pick"), {}],
  ].map(([ic, label, extra]) =>
    h(
      "label",
      { class: "btn file-btn" },
      h("input", Object.assign({ type: "file", accept: "image/*", class: "file-input", onchange: (e) => { takePhoto(e.target.files[0]); e.target.value = ""; } }, extra)),
      icon(ic),
      h("span", {}, label),
    ),
  );
  const photoPart = h("fieldset", { class: "photos" }, h("legend", {}, t("ev.photo")), h("p", { class: "hint" }, t("ev.photo_hint")), h("div", { class: "actions" }, pickers), photoStatus, thumb);
  const day = h("input", { type: "date", value: today(), max: today() });
  const note = h("textarea", { rows: 4, maxlength: 2000 });
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("ev.file_send"));
  const form = checkedForm(
    { class: "card" },
    async () => {
      const picked = choices.querySelector("input:checked");
      const tag = picked && tags.find((x) => x.code === picked.value);
      if (!tag) return toast(t("ev.pick_tag_need"), "error");
      if (tag.evidence_required && !note.value.trim()) {
        setFieldError(note, t("err.evidence_required"));
        return note.focus();
      }
      const body = { category_id: Number(categoryId), person_id: subject.person_id, tag_code: tag.code, occurred_on: day.value || today(), note: note.value.trim() };
      submit.disabled = true;
      if (photo) await core.outbox.putPhoto({ id: clientId + ":1", client_id: clientId, n: 1, blob: photo.blob, width: photo.width, height: photo.height, size: photo.blob.size });
      const result = await queueTag(clientId, ctx.me.person_id, body);
      toast(result && result.tags ? t("ev.filed") : t("ev.filed_offline"), "ok");
      ctx.navigate("#/evaluation");
    },
    choices,
    field("ev-day", t("ev.day"), day),
    field("ev-note", t("ev.note"), note, { hint: t("ev.note_hint") }),
    photoPart,
    submit,
  );
  add(root, back, heading(t("ev.file_title")), h("p", { class: "lead" }, h("strong", {}, subject.person_name), " · ", [subject.post_name, subject.unit_name].filter(Boolean).join(" · ")), form);
}
