// A department head asks a topic's thresholds changed (B.11) from the phone: the topic, the new
// bounds of each level (the current ones shown), the reason. Filing it files the topic's request;
// the department head, discipline and the expert group then sign it in order.
import { api } from "../api.js";
import { t } from "../i18n.js";
import { add, busy, checkedForm, field, h, heading, icon, setFieldError, toast } from "../ui.js";

const LEVELS = ["high", "medium", "low"];

export default async function render(root, ctx) {
  const topics = (await api("/api/topics")).filter((tp) => tp.current_version && !tp.offline && tp.state !== "retired");
  const pick = h("select", {}, h("option", { value: "" }, t("fnew.choose_topic")), topics.map((tp) => h("option", { value: String(tp.id) }, tp.name)));
  const now = h("p", { class: "muted small" });
  const bounds = Object.fromEntries(LEVELS.map((lv) => [lv, h("input", { type: "number", inputmode: "decimal", step: "any" })]));
  const reason = h("textarea", { rows: 4, maxlength: 1000 });
  const send = h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("fnew.send"));
  const chosen = () => topics.find((tp) => String(tp.id) === pick.value);
  pick.onchange = () => {
    const tp = chosen();
    const old = tp ? tp.current_version.thresholds : null;
    now.textContent = old ? t("fnew.current", { high: old.high ?? "—", medium: old.medium ?? "—", low: old.low ?? "—" }) : "";
    for (const lv of LEVELS) bounds[lv].value = old && old[lv] !== null && old[lv] !== undefined ? String(old[lv]) : "";
  };
  const form = checkedForm(
    { class: "card" },
    (fail) => {
      const tp = chosen();
      setFieldError(pick, tp ? "" : t("fnew.need_topic"));
      setFieldError(reason, reason.value.trim() ? "" : t("fnew.need_reason"));
      if (!tp || !reason.value.trim()) return;
      const old = tp.current_version.thresholds;
      const thresholds = { measure: old.measure, direction: old.direction };
      for (const lv of LEVELS) thresholds[lv] = bounds[lv].value === "" ? null : Number(bounds[lv].value);
      busy(
        send,
        async () => {
          const filed = await api("/api/forms/b11", { method: "POST", json: { topic_id: tp.id, thresholds, reason: reason.value.trim() } });
          toast(t("fnew.sent"), "ok");
          ctx.navigate("#/forms/" + filed.id);
        },
        fail,
      );
    },
    field("fn-topic", t("form.field.topic"), pick, { required: true }),
    now,
    LEVELS.map((lv) => field("fn-" + lv, t("fnew.bound." + lv), bounds[lv])),
    field("fn-reason", t("fnew.reason"), reason, { required: true }),
    send,
  );
  add(root, h("a", { class: "back", href: "#/forms" }, icon("back"), t("common.back")), heading(t("form.title.b11")), h("p", { class: "hint" }, t("fnew.lead")), form);
}
