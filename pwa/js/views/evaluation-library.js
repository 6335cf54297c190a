// Setting up the "1+3" evaluation (issue 20): a new business category with its first tag library,
// or the next version of a category's library. The base indicators (the "1", from business data)
// and the tags of the three dimensions, each with its coefficient, direction, whether evidence is
// required, who may file it and whether only inspectors see it. Saving an edit makes a new version:
// rounds already computed keep the version they used. Codes are made here, never typed or shown.
import { api } from "../api.js";
import { t } from "../i18n.js";
import { add, busy, checkedForm, field, h, heading, icon, setFieldError, toast } from "../ui.js";
import { DIMENSIONS } from "./evaluation.js";

const FILERS = ["head", "inspector", "committee"];
let seq = 0;

/** A code the API accepts (a lower-case letter, then letters and digits), unique in this library. */
function newCode(prefix, taken) {
  let code;
  do {
    seq += 1;
    code = prefix + Date.now().toString(36).slice(-5) + seq;
  } while (taken.has(code));
  taken.add(code);
  return code;
}

function num(value, fallback) {
  return h("input", { type: "number", inputmode: "decimal", step: "any", value: value ?? fallback ?? "" });
}

function select(options, value) {
  return h(
    "select",
    {},
    options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)),
  );
}

function check(label, checked) {
  const box = h("input", { type: "checkbox", checked: !!checked });
  return [box, h("label", { class: "choice inline" }, box, " ", label)];
}

/** One tag's fields; read() gives its definition (or null with the field marked). */
function tagRow(tag, n, codes, onRemove) {
  const id = "ev-tag-" + n;
  const name = h("input", { type: "text", maxlength: 60, value: tag.name || "" });
  const dimension = select(DIMENSIONS.map((d) => [d, t("ev.dim." + d)]), tag.dimension || "behaviour");
  const coefficient = num(tag.coefficient, 1);
  const direction = select([["plus", t("ev.dir.plus")], ["minus", t("ev.dir.minus")]], tag.direction || "plus");
  const [evidence, evidenceLabel] = check(t("ev.setup.evidence"), tag.evidence_required);
  const [confidential, confidentialLabel] = check(t("ev.setup.confidential"), tag.confidential);
  const filers = FILERS.map((r) => check(t("role." + r), (tag.filers || ["head", "inspector"]).includes(r)));
  const remove = h("button", { type: "button", class: "btn btn-small btn-quiet", onclick: () => onRemove(row) }, icon("close"), t("ev.setup.remove_tag"));
  const row = h(
    "fieldset",
    { class: "card ev-def ev-tag-def" },
    h("legend", {}, t("ev.setup.tag_n", { n })),
    field(id + "-name", t("ev.setup.tag_name"), name, { required: true }),
    h("div", { class: "ev-def-grid" }, field(id + "-dim", t("ev.setup.dimension"), dimension), field(id + "-coef", t("ev.setup.coefficient"), coefficient, { required: true }), field(id + "-dir", t("ev.setup.direction"), direction)),
    h("fieldset", { class: "choices inline" }, h("legend", {}, t("ev.setup.filers")), filers.map(([, label]) => label)),
    h("div", { class: "choices inline" }, evidenceLabel, confidentialLabel),
    remove,
  );
  row.read = () => {
    if (!name.value.trim()) {
      setFieldError(name, t("ev.setup.name_need"));
      name.focus();
      return null;
    }
    const c = Number(coefficient.value);
    if (!(c > 0 && c <= 1000)) {
      setFieldError(coefficient, t("ev.setup.coefficient_range"));
      coefficient.focus();
      return null;
    }
    const who = FILERS.filter((r, i) => filers[i][0].checked);
    if (!who.length) {
      toast(t("ev.setup.filers_need"), "error");
      filers[0][0].focus();
      return null;
    }
    return { code: tag.code || newCode("t", codes), name: name.value.trim(), dimension: dimension.value, coefficient: c, direction: direction.value, evidence_required: evidence.checked, filers: who, confidential: confidential.checked };
  };
  return row;
}

/** One base indicator's fields: a SELECT over business data giving employee_no and value. */
function indicatorRow(ind, n, codes, onRemove) {
  const id = "ev-ind-" + n;
  const name = h("input", { type: "text", maxlength: 60, value: ind.name || "" });
  const unit = h("input", { type: "text", maxlength: 10, value: ind.unit || "" });
  const sql = h("textarea", { rows: 4, maxlength: 20000, spellcheck: false, class: "mono" }, ind.sql || "");
  const coefficient = num(ind.coefficient, 1);
  const direction = select([["plus", t("ev.dir.plus")], ["minus", t("ev.dir.minus")]], ind.direction || "plus");
  const row = h(
    "fieldset",
    { class: "card ev-def ev-ind-def" },
    h("legend", {}, t("ev.setup.indicator_n", { n })),
    field(id + "-name", t("ev.setup.indicator_name"), name, { required: true }),
    field(id + "-sql", t("ev.setup.sql"), sql, { hint: t("ev.setup.sql_hint"), required: true }),
    h("div", { class: "ev-def-grid" }, field(id + "-coef", t("ev.setup.coefficient"), coefficient, { required: true }), field(id + "-dir", t("ev.setup.direction"), direction), field(id + "-unit", t("ev.setup.unit"), unit)),
    h("button", { type: "button", class: "btn btn-small btn-quiet", onclick: () => onRemove(row) }, icon("close"), t("ev.setup.remove_indicator")),
  );
  row.read = () => {
    for (const [control, need] of [[name, "ev.setup.name_need"], [sql, "ev.setup.sql_need"]]) {
      if (!control.value.trim()) {
        setFieldError(control, t(need));
        control.focus();
        return null;
      }
    }
    const c = Number(coefficient.value);
    if (!(c > 0 && c <= 1000)) {
      setFieldError(coefficient, t("ev.setup.coefficient_range"));
      coefficient.focus();
      return null;
    }
    return { code: ind.code || newCode("i", codes), name: name.value.trim(), sql: sql.value.trim(), coefficient: c, direction: direction.value, unit: unit.value.trim() };
  };
  return row;
}

/** The library's fields; read() gives a LibraryContent (or null, the wrong field marked). */
export function libraryEditor(content) {
  const codes = new Set([...(content.tags || []), ...(content.indicators || [])].map((x) => x.code));
  const base = num(content.base_points, 60);
  const below = num(content.alert_below, "");
  const drop = num(content.drop_alert, "");
  const note = h("textarea", { rows: 2, maxlength: 2000 });
  const tags = h("div", { class: "ev-defs" });
  const indicators = h("div", { class: "ev-defs" });
  const renumber = (box, key) => [...box.children].forEach((row, i) => (row.querySelector("legend").textContent = t(key, { n: i + 1 })));
  const removeTag = (row) => {
    row.remove();
    renumber(tags, "ev.setup.tag_n");
  };
  const removeIndicator = (row) => {
    row.remove();
    renumber(indicators, "ev.setup.indicator_n");
  };
  let tagN = 0;
  let indN = 0;
  const addTag = (tag) => tags.append(tagRow(tag, ++tagN, codes, removeTag)) || renumber(tags, "ev.setup.tag_n");
  const addIndicator = (ind) => indicators.append(indicatorRow(ind, ++indN, codes, removeIndicator)) || renumber(indicators, "ev.setup.indicator_n");
  (content.tags && content.tags.length ? content.tags : [{}]).forEach(addTag);
  (content.indicators || []).forEach(addIndicator);
  const part = h(
    "div",
    { class: "ev-library" },
    h("section", { class: "card" }, h("h2", {}, t("ev.setup.scoring")), h("div", { class: "ev-def-grid" }, field("ev-base", t("ev.setup.base_points"), base, { required: true }), field("ev-below", t("ev.setup.alert_below"), below, { hint: t("ev.setup.optional") }), field("ev-drop", t("ev.setup.drop_alert"), drop, { hint: t("ev.setup.optional") }))),
    h("section", {}, heading(t("ev.setup.indicators"), 2), h("p", { class: "hint" }, t("ev.setup.indicators_hint")), indicators, h("button", { type: "button", class: "btn btn-block", onclick: () => addIndicator({}) }, t("ev.setup.add_indicator"))),
    h("section", {}, heading(t("ev.setup.tags"), 2), h("p", { class: "hint" }, t("ev.setup.tags_hint")), tags, h("button", { type: "button", class: "btn btn-block", onclick: () => addTag({}) }, t("ev.setup.add_tag"))),
    field("ev-lib-note", t("ev.setup.note"), note, { hint: t("ev.setup.note_hint") }),
  );
  part.read = () => {
    const out = {};
    for (const [control, key, required] of [[base, "base_points", true], [below, "alert_below", false], [drop, "drop_alert", false]]) {
      if (control.value === "" && !required) {
        out[key] = null;
        continue;
      }
      const v = Number(control.value);
      if (control.value === "" || !Number.isFinite(v) || (key === "drop_alert" && v <= 0)) {
        setFieldError(control, t("ev.setup.number_need"));
        control.focus();
        return null;
      }
      out[key] = v;
    }
    out.indicators = [];
    for (const row of indicators.children) {
      const v = row.read();
      if (!v) return null;
      out.indicators.push(v);
    }
    out.tags = [];
    for (const row of tags.children) {
      const v = row.read();
      if (!v) return null;
      out.tags.push(v);
    }
    if (!out.tags.length) {
      toast(t("ev.setup.tags_need"), "error");
      return null;
    }
    out.note = note.value.trim();
    return out;
  };
  return part;
}

export default async function render(root, ctx, [id]) {
  const isNew = id === "new";
  const back = h("a", { class: "back", href: "#/evaluation/setup" }, icon("back"), t("common.back"));
  const library = isNew ? null : await api("/api/evaluation/categories/" + id + "/library");
  const category = isNew ? null : (await api("/api/evaluation/categories")).find((c) => String(c.id) === id);
  const name = h("input", { type: "text", maxlength: 120 });
  const description = h("textarea", { rows: 2, maxlength: 2000 });
  const editor = libraryEditor(library ? library.content : { base_points: 60 });
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block" }, isNew ? t("ev.setup.create") : t("ev.setup.save_version", { n: library.version + 1 }));
  const form = checkedForm(
    { class: "ev-setup-form" },
    (fail) => {
      if (isNew && !name.value.trim()) {
        setFieldError(name, t("ev.setup.name_need"));
        return name.focus();
      }
      const content = editor.read();
      if (!content) return;
      busy(
        submit,
        async () => {
          if (isNew) {
            const code = "c" + Date.now().toString(36);
            const made = await api("/api/evaluation/categories", { method: "POST", json: { code, name: name.value.trim(), description: description.value.trim(), library: content } });
            toast(t("ev.setup.created"), "ok");
            ctx.navigate("#/evaluation/setup/" + made.id + "/subjects");
          } else {
            const saved = await api("/api/evaluation/categories/" + id + "/library", { method: "POST", json: content });
            toast(t("ev.setup.saved", { n: saved.version }), "ok");
            ctx.navigate("#/evaluation/setup");
          }
        },
        fail,
      );
    },
    isNew ? [field("ev-cat-name", t("ev.setup.category_name"), name, { required: true, hint: t("ev.setup.category_name_hint") }), field("ev-cat-desc", t("ev.setup.description"), description)] : null,
    editor,
    submit,
  );
  add(
    root,
    back,
    heading(isNew ? t("ev.setup.new_title") : t("ev.setup.library_title", { name: category ? category.name : "" })),
    h("p", { class: "hint" }, isNew ? t("ev.setup.new_lead") : t("ev.setup.library_lead", { n: library.version })),
    form,
  );
}
