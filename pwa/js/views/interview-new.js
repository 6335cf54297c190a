// Recording an interview (约谈记录表, B.12): the interviewee and the warning(s) it is about, two
// interviewers at least, time and place, the three questions (三问), the three checks (三查), one
// suggestion (一建议), the follow-up measures, and a signature drawn on the screen by every
// interviewer and the interviewee. Interviewers are picked from the recorder's people and from
// those over the interviewee (heads above, discipline inspectors, committee members).
//
// Like a reply, the form has a client id from the moment it opens; the draft and the signature
// PNGs live in IndexedDB; submitting queues it and the outbox sends the signatures, then the record
// (now, or when the network returns). It counts as stored when the server echoes the client id.
import { api, core } from "../api.js";
import { errorText, fmtDate, t } from "../i18n.js";
import { interviewDraft, queue } from "../outbox.js";
import { signaturePad } from "../signature.js";
import { add, busy, checkedForm, clear, debounce, field, h, heading, icon, levelBadge, setFieldError, toast } from "../ui.js";
import { CHECKS, QUESTIONS } from "./interviews.js";

const TEXTS = [...QUESTIONS, ...CHECKS, "suggestion", "follow_up"];

function pad2(n) {
  return String(n).padStart(2, "0");
}

/** "YYYY-MM-DDTHH:MM" in the phone's time, for <input type=datetime-local>. */
function localNow() {
  const d = new Date();
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}T${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

/** The local time with the phone's offset, as the API wants it: 2026-11-20T14:30:00+08:00. */
function withOffset(value) {
  const off = -new Date(value).getTimezoneOffset();
  const sign = off >= 0 ? "+" : "-";
  return `${value}:00${sign}${pad2(Math.floor(Math.abs(off) / 60))}:${pad2(Math.abs(off) % 60)}`;
}

export default async function render(root, ctx, _params, query) {
  const warningId = Number(query.get("warning")) || null;
  const scoreId = Number(query.get("score")) || null;
  const subjectId = Number(query.get("person")) || null;
  const item = await interviewDraft(ctx.me.person_id, { clientId: query.get("client"), warningId, scoreId, subjectId });
  const body = item.body;
  const people = (await api("/api/people?limit=500").catch(() => ({ items: [] }))).items.filter((p) => p.active !== false);
  const byId = new Map(people.map((p) => [p.id, p]));
  byId.set(ctx.me.person_id, byId.get(ctx.me.person_id) || { id: ctx.me.person_id, name: ctx.me.name || t("iv.me") });
  if (warningId && !body.person_id) {
    const w = await api("/api/warnings/" + warningId).catch(() => null);
    if (w) body.person_id = w.warning.person_id;
  }
  if (body.person_id && !byId.has(body.person_id)) {
    const p = await api("/api/people/" + body.person_id).catch(() => null);
    if (p) byId.set(p.id, p);
  }
  if (!body.held_at) body.held_at = localNow();
  const name = (id) => (byId.get(id) ? byId.get(id).name : "#" + id);
  // who may act over the interviewee (heads above, inspectors, committee), as second interviewers
  // from outside the recorder's unit; none while offline
  let overseers = [];
  async function loadOverseers() {
    const of = body.person_id;
    overseers = [];
    const found = of ? await api(`/api/people/${of}/overseers`).catch(() => []) : [];
    if (of !== body.person_id) return; // another interviewee was picked meanwhile
    overseers = found;
    for (const o of found) if (!byId.has(o.id)) byId.set(o.id, o);
  }
  await loadOverseers();

  let submitted = false;
  const save = debounce(() => {
    if (submitted) return; // the queued record is frozen: a replay must carry the same body
    item.state = "draft";
    core.outbox.put(item);
  }, 300);

  add(root, h("a", { class: "back", href: "#/interviews" }, icon("back"), t("common.back")), heading(t("iv.new_title")));
  if (item.state === "failed" && item.error) add(root, h("div", { class: "alert alert-error", role: "alert" }, errorText(item.error)));

  // --- interviewee and the warnings -------------------------------------------------------------
  const candidates = people.filter((p) => p.id !== ctx.me.person_id);
  const who = h(
    "select",
    {
      // a suggested talk is about the person of the result
      disabled: body.score_id ? true : null,
      onchange: () => {
        body.person_id = Number(who.value) || null;
        body.warning_ids = [];
        body.interviewer_ids = body.interviewer_ids.filter((id) => id !== body.person_id);
        const loading = loadOverseers();
        drawWarnings();
        drawInterviewers();
        loading.then(drawInterviewers);
        drawPads();
        save();
      },
    },
    h("option", { value: "" }, t("iv.pick_person")),
    candidates.map((p) => h("option", { value: p.id, selected: p.id === body.person_id }, p.name + (p.post_name ? " · " + p.post_name : "") + " · " + p.unit_name)),
  );
  if (body.person_id && !candidates.some((p) => p.id === body.person_id)) {
    who.append(h("option", { value: body.person_id, selected: true }, name(body.person_id)));
  }
  const warningBox = h("fieldset", { class: "choices", id: "iv-warnings", "aria-describedby": "iv-warnings-error" });
  async function drawWarnings() {
    clear(warningBox).append(h("legend", {}, body.score_id ? t("iv.basis") : t("iv.warnings"), h("span", { class: "req", "aria-hidden": "true" }, " *")));
    if (body.score_id) {
      warningBox.append(h("p", { class: "hint" }, t("iv.basis_evaluation")));
    } else if (!body.person_id) {
      warningBox.append(h("p", { class: "hint" }, t("iv.pick_person_first")));
    } else {
      const page = await api(`/api/warnings?view=scope&person_id=${body.person_id}&limit=100`).catch(() => ({ items: [] }));
      const items = page.items.slice();
      for (const id of body.warning_ids) if (!items.some((w) => w.id === id)) items.unshift({ id, level: null, topic_name: t("iv.warning_kept"), object_key: "" });
      if (!items.length) warningBox.append(h("p", { class: "hint" }, t("iv.no_warnings")));
      for (const w of items) {
        warningBox.append(
          h(
            "label",
            { class: "choice" },
            h("input", {
              type: "checkbox",
              value: w.id,
              checked: body.warning_ids.includes(w.id),
              onchange: (e) => {
                body.warning_ids = e.target.checked ? [...new Set([...body.warning_ids, w.id])] : body.warning_ids.filter((x) => x !== w.id);
                setFieldError(warningBox, "");
                save();
              },
            }),
            h(
              "span",
              {},
              h("strong", {}, w.level ? levelBadge(w.level) : null, " ", w.topic_name || t("warning.untitled")),
              h("small", {}, [w.object_key, w.finding ? t("finding." + w.finding) : null, w.raised_at ? fmtDate(w.raised_at) : null].filter(Boolean).join(" · ")),
            ),
          ),
        );
      }
    }
    warningBox.append(h("p", { class: "field-error", id: "iv-warnings-error", hidden: true }));
  }

  // --- interviewers -----------------------------------------------------------------------------
  const interviewerBox = h("fieldset", { id: "iv-interviewers", "aria-describedby": "iv-interviewers-error" });
  // a search over names, posts and units narrows the picker and offers the first matches as one tap
  const finder = h("input", { type: "search", id: "iv-find-interviewer", autocomplete: "off", "aria-label": t("iv.find_interviewer"), placeholder: t("iv.find_interviewer"), oninput: () => drawInterviewers() });
  const matches = (text) => {
    const q = finder.value.trim().toLowerCase();
    return !q || text.toLowerCase().includes(q);
  };
  function drawInterviewers() {
    const typing = document.activeElement === finder;
    const chosen = body.interviewer_ids;
    const over = new Set(overseers.map((o) => o.id));
    const add = (id) => {
      if (id && !chosen.includes(id)) body.interviewer_ids = [...chosen, id];
      finder.value = "";
      setFieldError(interviewerBox, "");
      drawInterviewers();
      drawPads();
      save();
    };
    const groups = [
      [overseers, t("iv.group_overseers"), (o) => [o.name, o.post_name, o.unit_name, t("role." + o.role)]],
      [people.filter((p) => !over.has(p.id)), t("iv.group_people"), (p) => [p.name, p.post_name]],
    ].map(([list, label, parts]) => [list.filter((p) => !chosen.includes(p.id) && p.id !== body.person_id && matches(parts(p).filter(Boolean).join(" "))), label, parts]);
    const offer = ([open, label, parts]) => (open.length ? h("optgroup", { label }, open.map((p) => h("option", { value: p.id }, parts(p).filter(Boolean).join(" · ")))) : null);
    const adder = h(
      "select",
      { id: "iv-add-interviewer", "aria-label": t("iv.add_interviewer"), onchange: () => add(Number(adder.value)) },
      h("option", { value: "" }, t("iv.add_interviewer")),
      offer(groups[1]),
      offer(groups[0]),
    );
    const found = finder.value.trim() ? groups.flatMap(([open, , parts]) => open.map((p) => [p, parts(p)])).slice(0, 6) : [];
    const quick = finder.value.trim()
      ? found.length
        ? h("ul", { class: "iv-found" }, found.map(([p, parts]) => h("li", {}, h("button", { type: "button", class: "chip-btn", onclick: () => add(p.id) }, parts.filter(Boolean).slice(0, 2).join(" · ")))))
        : h("p", { class: "hint" }, t("iv.find_none"))
      : null;
    clear(interviewerBox).append(
      h("legend", {}, t("iv.interviewers"), h("span", { class: "req", "aria-hidden": "true" }, " *")),
      h("p", { class: "hint" }, t("iv.interviewers_hint")),
      h(
        "ul",
        { class: "plain chips iv-chosen" },
        chosen.map((id) =>
          h(
            "li",
            { class: "chip-btn iv-interviewer" },
            h("span", {}, name(id)),
            h(
              "button",
              {
                type: "button",
                class: "icon-btn",
                "aria-label": t("iv.remove_interviewer", { name: name(id) }),
                onclick: () => {
                  body.interviewer_ids = chosen.filter((x) => x !== id);
                  drawInterviewers();
                  drawPads();
                  save();
                },
              },
              icon("close"),
            ),
          ),
        ),
      ),
      h("div", { class: "iv-search" }, finder, quick, adder),
      h("p", { class: "field-error", id: "iv-interviewers-error", hidden: true }),
    );
    if (typing) finder.focus();
  }

  // --- time, place, the texts -------------------------------------------------------------------
  const heldAt = h("input", { type: "datetime-local", value: body.held_at, max: localNow(), oninput: () => { body.held_at = heldAt.value; save(); } });
  const place = h("input", { type: "text", maxlength: 200, value: body.place, autocomplete: "off", oninput: () => { body.place = place.value; save(); } });
  const texts = Object.fromEntries(
    TEXTS.map((k) => [k, h("textarea", { rows: 3, maxlength: 4000, value: body[k], oninput: (e) => { body[k] = e.target.value; save(); } })]),
  );
  const group = (legend, keys) => h("fieldset", { class: "card iv-group" }, h("legend", {}, legend), keys.map((k) => field("iv-" + k, t("iv." + k), texts[k], { required: true })));

  // --- signatures -------------------------------------------------------------------------------
  const pads = new Map(); // "interviewer:12" → pad
  const saving = new Map(); // key → the promise of its last save
  const padBox = h("div", { class: "iv-pads" });
  const blobId = (key) => item.client_id + ":sig:" + key;
  function signers() {
    const list = body.interviewer_ids.map((id) => ({ signer: "interviewer", id }));
    if (body.person_id) list.push({ signer: "interviewee", id: body.person_id });
    return list;
  }
  function storePad(key, who, pad) {
    const run = (async () => {
      if (submitted) return;
      if (pad.isEmpty()) await core.outbox.deletePhoto(blobId(key));
      else await core.outbox.putPhoto({ id: blobId(key), client_id: item.client_id, n: 0, signer: who.signer, signer_id: who.id, blob: await pad.toBlob() });
    })();
    saving.set(key, run);
    return run;
  }
  function drawPads() {
    const wanted = signers();
    clear(padBox).append(h("h2", {}, t("iv.signatures")), h("p", { class: "hint" }, t("iv.signatures_hint")));
    for (const who of wanted) {
      const key = who.signer + ":" + who.id;
      let pad = pads.get(key);
      if (!pad) {
        pad = signaturePad({
          id: "sig-" + who.signer + "-" + who.id,
          label: t("iv.sign_as_" + who.signer, { name: name(who.id) }),
          onChange: (p) => {
            setFieldError(p.canvas, "");
            storePad(key, who, p);
          },
        });
        pads.set(key, pad);
      }
      padBox.append(pad.el);
    }
  }

  // --- submit -----------------------------------------------------------------------------------
  const submit = h("button", { class: "btn btn-primary btn-block", type: "submit" }, t("iv.submit"));
  function validate() {
    let first = null;
    const mark = (control, message) => {
      setFieldError(control, message);
      if (message && !first) first = control;
    };
    mark(who, body.person_id ? "" : t("iv.need_person"));
    mark(warningBox, body.warning_ids.length || body.score_id ? "" : t("iv.need_warning"));
    mark(interviewerBox, body.interviewer_ids.length >= 2 ? "" : t("err.two_interviewers_required"));
    mark(heldAt, !body.held_at ? t("iv.need_time") : body.held_at > localNow() ? t("err.held_in_future") : "");
    mark(place, body.place.trim() ? "" : t("iv.need_place"));
    for (const k of TEXTS) mark(texts[k], body[k].trim() ? "" : t("iv.need_text"));
    for (const who of signers()) {
      const pad = pads.get(who.signer + ":" + who.id);
      mark(pad.canvas, pad.isEmpty() ? t("iv.need_signature", { name: name(who.id) }) : "");
    }
    if (first) {
      const target = first.querySelector ? first.querySelector("input, select") || first : first;
      if (target.tagName === "CANVAS") target.scrollIntoView({ block: "center" });
      else target.focus();
    }
    return !first;
  }

  const form = checkedForm(
    { class: "iv-form" },
    (fail) => {
      if (!validate()) return;
      busy(submit, async () => {
        // the signatures of the people who sign, as drawn now; nobody else's
        const keep = new Set();
        for (const [i, who] of signers().entries()) {
          const key = who.signer + ":" + who.id;
          keep.add(blobId(key));
          await saving.get(key); // each stroke's end saved the drawing (and dropped an older upload's id)
          const saved = (await core.outbox.photos(item.client_id)).find((p) => p.id === blobId(key));
          const blob = saved ? saved.blob : await pads.get(key).toBlob();
          await core.outbox.putPhoto(Object.assign(saved || { id: blobId(key), client_id: item.client_id, signer: who.signer, signer_id: who.id, blob }, { n: i }));
        }
        for (const p of await core.outbox.photos(item.client_id)) if (!keep.has(p.id)) await core.outbox.deletePhoto(p.id);
        submitted = true;
        save.cancel();
        const clean = { person_id: body.person_id, score_id: body.score_id || null, warning_ids: body.warning_ids, interviewer_ids: body.interviewer_ids, held_at: withOffset(body.held_at), place: body.place.trim() };
        for (const k of TEXTS) clean[k] = body[k].trim();
        item.body = clean;
        const outcome = await queue(item);
        const after = await core.outbox.get(item.client_id);
        if (!after) {
          const last = await core.kv.get("lastInterview");
          toast(t("iv.saved"), "ok");
          ctx.navigate(last && last.client_id === item.client_id ? "#/interviews/" + last.id : "#/interviews");
          return;
        }
        if (after.state === "failed") {
          submitted = false;
          Object.assign(item, { state: "failed", error: after.error, body }); // go on editing the form's values
          await core.outbox.put(item);
          fail(after.error);
          return;
        }
        toast(outcome && outcome.auth ? t("outbox.saved_signin") : t("iv.saved_offline"), "warn");
        ctx.navigate("#/interviews");
      });
    },
    h("fieldset", { class: "card iv-group" }, h("legend", {}, t("iv.who")), field("iv-person", t("iv.interviewee"), who, { required: true }), warningBox),
    h("div", { class: "card" }, interviewerBox),
    h("div", { class: "card" }, field("iv-held-at", t("iv.held_at"), heldAt, { required: true }), field("iv-place", t("iv.place"), place, { required: true, hint: t("iv.place_hint") })),
    group(t("iv.questions"), QUESTIONS),
    group(t("iv.checks"), CHECKS),
    group(t("iv.suggestion_title"), ["suggestion", "follow_up"]),
    h("section", { class: "card" }, padBox),
    h("p", { class: "hint" }, t("iv.offline_hint")),
    submit,
  );
  add(root, form);
  await drawWarnings();
  drawInterviewers();
  drawPads();
  for (const p of await core.outbox.photos(item.client_id)) {
    const pad = pads.get(p.signer + ":" + p.signer_id);
    if (pad && p.blob) await pad.load(p.blob).catch(() => null);
  }
  return () => save.cancel();
}
