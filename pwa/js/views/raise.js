// An inspector raises a warning by hand (人工预警) for an offline topic or an inspection: the topic,
// the person, the level, what was inspected, what was found and photos (shrunk on the phone). It
// then follows the normal warning path: the person's inbox, their head and inspectors by level.
import { api, request } from "../api.js";
import { t } from "../i18n.js";
import { shrink } from "../photos.js";
import { add, busy, checkedForm, field, h, heading, icon, LEVELS, toast } from "../ui.js";
import { choice, firstEmpty, select } from "./casefile.js";

export default async function render(root, ctx) {
  const topics = await api("/api/topics?state=online");
  const people = (await api("/api/people?limit=500")).items.filter((p) => p.id !== ctx.me.person_id);
  const topic = select(
    topics.map((tp) => [tp.id, tp.name + (tp.offline ? "（" + t("mw.offline") + "）" : "")]),
    t("mw.pick_topic"),
    (topics.find((tp) => tp.offline) || {}).id,
  );
  const person = select(people.map((p) => [p.id, p.name + " · " + (p.unit_name || "")]), t("clue.pick_person"));
  const level = choice(t("mw.level"), LEVELS.map((l) => [l, t("level." + l)]), "medium");
  const object = h("input", { type: "text", maxlength: 128 });
  const observed = h("textarea", { rows: 5, maxlength: 4000 });
  const chosen = h("ul", { class: "report-chosen", "aria-live": "polite" });
  const photos = h("input", {
    type: "file",
    accept: "image/*",
    multiple: true,
    class: "file-input",
    "aria-label": t("mw.photos"),
    onchange: () => chosen.replaceChildren(...[...photos.files].map((f) => h("li", {}, f.name))),
  });
  const send = h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("mw.send"));
  const form = checkedForm(
    { class: "card" },
    (fail) => {
      if (firstEmpty([topic, person, object, observed])) return;
      busy(
        send,
        async () => {
          const body = new FormData();
          body.append("topic_id", topic.value);
          body.append("person_id", person.value);
          body.append("level", level.value);
          body.append("object", object.value.trim());
          body.append("observed", observed.value.trim());
          for (const file of [...photos.files].slice(0, 6)) body.append("files", (await shrink(file)).blob, file.name);
          const res = await request("/api/warnings/manual", { method: "POST", body });
          const made = await res.json();
          toast(t("mw.sent"), "ok");
          ctx.navigate("#/warnings/" + made.warning.id, true);
        },
        fail,
      );
    },
    field("mw-topic", t("mw.topic"), topic, { required: true }),
    field("mw-person", t("mw.person"), person, { required: true }),
    h("div", { class: "field" }, h("p", { class: "field-label" }, t("mw.level")), level.el),
    field("mw-object", t("mw.object"), object, { required: true, hint: t("mw.object_hint") }),
    field("mw-observed", t("mw.observed"), observed, { required: true }),
    h(
      "div",
      { class: "field" },
      h("p", { class: "field-label" }, t("mw.photos")),
      h("label", { class: "btn file-btn" }, photos, icon("camera"), h("span", {}, t("mw.pick_photos"))),
      chosen,
    ),
    send,
  );
  add(root, h("a", { class: "back", href: "#/me" }, icon("back"), t("common.back")), heading(t("mw.title")), h("p", { class: "hint" }, t("mw.lead")), form);
}
