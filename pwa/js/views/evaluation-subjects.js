// The people evaluated in a category (user management of the "1+3" evaluation, issue 20): who is
// evaluated, their post and unit, their evaluators (the heads and inspectors over them); adding a
// person, or changing a person's evaluators. For the admin, inspectors (their units) and the committee.
import { api } from "../api.js";
import { t } from "../i18n.js";
import { add, busy, checkedForm, emptyState, field, h, heading, icon, toast } from "../ui.js";

function subjectCard(x, pick) {
  return h(
    "li",
    { class: "card ev-subject" },
    h("p", { class: "wcard-top" }, h("strong", {}, x.person_name), h("span", { class: "muted" }, [x.post_name, x.unit_name].filter(Boolean).join(" · "))),
    h("p", { class: "muted small" }, x.evaluator_names.length ? t("ev.setup.evaluators_are", { names: x.evaluator_names.join("、") }) : t("ev.setup.no_evaluators")),
    h("button", { type: "button", class: "btn btn-small", onclick: () => pick({ id: x.person_id, name: x.person_name, post_name: x.post_name, unit_name: x.unit_name }, x.evaluator_ids) }, t("ev.setup.change_evaluators")),
  );
}

export default async function render(root, ctx, [id]) {
  const [categories, subjects, posts] = await Promise.all([
    api("/api/evaluation/categories"),
    api("/api/evaluation/categories/" + id + "/subjects"),
    api("/api/posts").catch(() => []),
  ]);
  const category = categories.find((c) => String(c.id) === id);
  const taken = new Set(subjects.map((x) => x.person_id));
  const q = h("input", { type: "search", maxlength: 60, autocomplete: "off", placeholder: t("ev.setup.search_placeholder") });
  const found = h("div", { class: "choices", role: "group", "aria-label": t("ev.setup.pick_person") });
  const evaluators = h("div", { class: "choices", role: "group", "aria-label": t("ev.setup.evaluators") });
  const chosenLine = h("p", { class: "lead", "aria-live": "polite" });
  let chosen = null;
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block", disabled: true }, t("ev.setup.add_subject"));

  async function pick(person, current) {
    chosen = person;
    chosenLine.replaceChildren(h("strong", {}, person.name), " ", h("span", { class: "muted" }, [person.post_name, person.unit_name].filter(Boolean).join(" · ")));
    const overseers = (await api("/api/people/" + person.id + "/overseers").catch(() => [])).filter((o) => o.role === "head" || o.role === "inspector");
    const preset = current ? new Set(current) : new Set(overseers.map((o) => o.id));
    evaluators.replaceChildren(
      h("p", { class: "label" }, t("ev.setup.evaluators")),
      ...(overseers.length
        ? overseers.map((o) => h("label", { class: "choice" }, h("input", { type: "checkbox", value: String(o.id), checked: preset.has(o.id) }), h("span", {}, h("strong", {}, o.name), h("small", {}, [t("role." + o.role), o.post_name, o.unit_name].filter(Boolean).join(" · ")))))
        : [emptyState(t("ev.setup.no_overseers"))]),
    );
    submit.disabled = false;
    submit.textContent = taken.has(person.id) ? t("ev.setup.save_evaluators") : t("ev.setup.add_subject");
    chosenLine.scrollIntoView({ block: "nearest" });
  }

  const search = h("button", { type: "button", class: "btn" }, t("ck.search"));
  const doSearch = () =>
    busy(search, async () => {
      const page = await api("/api/people?limit=20&q=" + encodeURIComponent(q.value.trim()));
      const people = page.items.filter((p) => p.active !== false);
      found.replaceChildren(
        ...(people.length
          ? people.map((p) =>
              h(
                "label",
                { class: "choice" },
                h("input", { type: "radio", name: "ev-subject-person", value: String(p.id), onchange: () => pick(p, taken.has(p.id) ? subjects.find((x) => x.person_id === p.id).evaluator_ids : null) }),
                h("span", {}, h("strong", {}, p.name), h("small", {}, [p.post_name, p.unit_name, taken.has(p.id) ? t("ev.setup.already") : null].filter(Boolean).join(" · "))),
              ),
            )
          : [emptyState(t("ev.setup.nobody_found"))]),
      );
    });
  search.onclick = doSearch;
  q.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      doSearch();
    }
  });
  const form = checkedForm(
    { class: "card ev-setup-form" },
    (fail) => {
      if (!chosen) return toast(t("ev.setup.pick_person"), "error");
      const ids = [...evaluators.querySelectorAll("input:checked")].map((i) => Number(i.value));
      busy(
        submit,
        async () => {
          await api("/api/evaluation/categories/" + id + "/subjects", { method: "POST", json: { person_id: chosen.id, evaluator_ids: ids } });
          toast(t("ev.setup.subject_saved", { name: chosen.name }), "ok");
          ctx.reload();
        },
        fail,
      );
    },
    h("h2", {}, t("ev.setup.add_title")),
    field("ev-subject-q", t("ev.setup.search"), q),
    h("p", { class: "ev-setup-actions" }, search),
    found,
    chosenLine,
    evaluators,
    submit,
  );
  // a whole post at once: everyone holding it whom I may add, with the heads and inspectors over each
  const postPick = h("select", { name: "post_id" }, h("option", { value: "" }, t("ev.setup.pick_post")), posts.map((p) => h("option", { value: String(p.id) }, p.name)));
  const addPost = h("button", { type: "submit", class: "btn btn-block" }, t("ev.setup.add_post"));
  const byPost = checkedForm(
    { class: "card ev-setup-form" },
    (fail) => {
      if (!postPick.value) return toast(t("ev.setup.pick_post"), "error");
      busy(
        addPost,
        async () => {
          const added = await api("/api/evaluation/categories/" + id + "/subjects/by-post", { method: "POST", json: { post_id: Number(postPick.value) } });
          toast(t("ev.setup.post_added", { n: added.length }), "ok");
          ctx.reload();
        },
        fail,
      );
    },
    h("h2", {}, t("ev.setup.by_post_title")),
    h("p", { class: "hint" }, t("ev.setup.by_post_hint")),
    field("ev-post", t("ev.setup.post"), postPick),
    addPost,
  );
  add(
    root,
    h("a", { class: "back", href: "#/evaluation/setup" }, icon("back"), t("common.back")),
    heading(t("ev.setup.subjects_title", { name: category ? category.name : "" })),
    h("p", { class: "hint" }, t("ev.setup.subjects_lead")),
    form,
    byPost,
    heading(t("ev.setup.subjects_now", { n: subjects.length }), 2),
    subjects.length ? h("ul", { class: "plain" }, subjects.map((x) => subjectCard(x, pick))) : emptyState(t("ev.setup.no_subjects")),
  );
}
