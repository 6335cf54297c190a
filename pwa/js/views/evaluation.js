// The "1+3" integrity evaluation on the phone (issue 20, seed 004): my results over rounds and the
// tags filed about me (I may comment); for heads, inspectors and the committee also the people they
// file tags for, the first-form talks suggested and the rounds.
import { api, blobUrl } from "../api.js";
import { figure, table } from "../charts.js";
import { fmtDay, fmtNumber, maybe, t } from "../i18n.js";
import { add, busy, checkedForm, emptyState, field, h, heading, icon, s, setFieldError, toast } from "../ui.js";

export const DIMENSIONS = ["behaviour", "awareness", "problems"];

export function signed(value) {
  return (value > 0 ? "+" : "") + fmtNumber(value, 2);
}

export function flagChips(flags) {
  return flags.map((f) => h("span", { class: "chip chip-warn" }, t("ev.flag." + f)));
}

/** The totals over rounds as columns, with the numbers as a table too. */
function trendChart(points) {
  const W = 360;
  const H = 140;
  const max = Math.max(1, ...points.map((p) => Math.abs(p.total)));
  const w = Math.min(60, (W - 20) / points.length - 12);
  const svg = s("svg", { viewBox: `0 0 ${W} ${H + 34}`, class: "chart-svg" });
  points.forEach((p, i) => {
    const x = 10 + i * (w + 12);
    const bh = (Math.max(0, p.total) / max) * (H - 20);
    svg.append(
      s("rect", { x, y: H - bh, width: w, height: bh, fill: p.flags.length ? "#e8710a" : "#1565c0" }),
      s("text", { x: x + w / 2, y: H - bh - 4, "text-anchor": "middle", "font-size": 12 }, fmtNumber(p.total, 1)),
      // "2026年第三季度" over two lines: the year, then the quarter
      ...(p.round_name.match(/^(\d{4}年)?(.*)$/) || []).slice(1).filter(Boolean).map((part, k) => s("text", { x: x + w / 2, y: H + 14 + k * 14, "text-anchor": "middle", "font-size": 11 }, part)),
    );
  });
  const rows = points.map((p) => [p.round_name, fmtNumber(p.total, 2), ...DIMENSIONS.map((d) => signed(p[d])), t("ev.rank_of", { rank: p.rank_category, of: p.of_category })]);
  return figure(t("ev.trend"), svg, table([t("ev.round"), t("ev.total"), ...DIMENSIONS.map((d) => t("ev.dim." + d)), t("ev.rank")], rows));
}

function commentForm(tag, ctx) {
  const text = h("textarea", { rows: 2, maxlength: 2000 });
  const submit = h("button", { type: "submit", class: "btn btn-small" }, t("ev.comment_send"));
  return checkedForm(
    { class: "ev-comment" },
    (fail) => {
      if (!text.value.trim()) {
        setFieldError(text, t("ev.comment_need"));
        return text.focus();
      }
      busy(
        submit,
        async () => {
          await api("/api/evaluation/tags/" + tag.id + "/comments", { method: "POST", json: { text: text.value.trim() } });
          toast(t("ev.commented"), "ok");
          ctx.reload();
        },
        fail,
      );
    },
    field("ev-comment-" + tag.id, t("ev.comment"), text),
    submit,
  );
}

/** The tag's photo, fetched behind the token once drawn (a placeholder while it comes or offline). */
function tagPhoto(tag) {
  const box = h("p", { class: "ev-photo muted small" }, t("ev.photo_loading"));
  blobUrl("/api/evaluation/tags/" + tag.id + "/photo")
    .then((url) => box.replaceChildren(h("img", { src: url, alt: t("ev.photo_of", { name: tag.tag_name }), loading: "lazy" })))
    .catch(() => (box.textContent = t("ev.photo_unavailable")));
  return box;
}

export function tagCard(tag, ctx, { comment = false, person = false } = {}) {
  return h(
    "li",
    { class: "card ev-tag dir-" + tag.direction },
    h(
      "p",
      { class: "ev-head" },
      h("span", { class: "chip" }, t("ev.dim." + tag.dimension)),
      h("strong", {}, tag.tag_name),
      h("span", { class: "points" }, signed((tag.direction === "plus" ? 1 : -1) * tag.coefficient)),
      tag.confidential ? h("span", { class: "chip chip-warn" }, t("ev.confidential")) : null,
    ),
    h("p", { class: "muted small" }, [person ? tag.person_name : null, fmtDay(tag.occurred_on), t("ev.filed_by", { name: tag.filed_by_name }), maybe("ev.channel." + tag.channel)].filter(Boolean).join(" · ")),
    tag.note ? h("p", { class: "pre" }, tag.note) : null,
    tag.photo_id ? tagPhoto(tag) : null,
    tag.comments.length ? h("ul", { class: "ev-comments" }, tag.comments.map((c) => h("li", {}, h("strong", {}, c.person_name), "：", c.text))) : null,
    comment ? commentForm(tag, ctx) : null,
  );
}

async function mine(ctx, overseer) {
  const me = ctx.me.person_id;
  const [trend, tags] = await Promise.all([api("/api/evaluation/people/" + me + "/trend"), api("/api/evaluation/tags?person_id=" + me)]);
  if (overseer && !trend.length && !tags.length) return null; // a head or inspector not evaluated themselves
  const last = trend[trend.length - 1];
  return h(
    "section",
    {},
    heading(t("ev.mine"), 2),
    last
      ? h(
          "div",
          { class: "card ev-summary" },
          h("p", {}, h("strong", { class: "big" }, fmtNumber(last.total, 2)), " ", t("ev.points"), " · ", t("ev.rank_of", { rank: last.rank_category, of: last.of_category })),
          h("p", { class: "muted" }, last.category_name, " · ", last.round_name),
          h("p", {}, flagChips(last.flags)),
        )
      : emptyState(t("ev.no_results")),
    trend.length ? trendChart(trend) : null,
    heading(t("ev.tags_about_me"), 2),
    h("p", { class: "hint" }, t("ev.tags_hint")),
    tags.length ? h("ul", { class: "plain" }, tags.map((x) => tagCard(x, ctx, { comment: true }))) : emptyState(t("ev.no_tags")),
  );
}

async function filing(ctx) {
  const categories = await api("/api/evaluation/categories");
  const parts = [];
  for (const c of categories) {
    const subjects = (await api("/api/evaluation/categories/" + c.id + "/subjects")).filter((x) => x.may_file.length);
    parts.push(
      h(
        "section",
        { class: "card" },
        h("h3", {}, c.name, " ", h("span", { class: "muted small" }, t("ev.version", { n: c.library.version }))),
        subjects.length
          ? h(
              "ul",
              { class: "wlist" },
              subjects.map((x) =>
                h(
                  "li",
                  {},
                  h("a", { class: "wcard", href: `#/evaluation/file/${c.id}/${x.person_id}` }, h("span", { class: "wcard-top" }, h("strong", {}, x.person_name), h("span", { class: "muted" }, [x.post_name, x.unit_name].filter(Boolean).join(" · "))), h("span", { class: "due" }, t("ev.file_tag"), icon("forward"))),
                ),
              ),
            )
          : emptyState(t("ev.no_subjects")),
      ),
    );
  }
  return h("section", {}, heading(t("ev.filing"), 2), categories.length ? parts : emptyState(t("ev.no_categories")));
}

function talkCard(x, ctx) {
  const record = ctx.has("head", "inspector")
    ? h("a", { class: "btn btn-small", href: `#/interviews/new?score=${x.id}&person=${x.person_id}` }, t("ev.record_talk"))
    : null;
  return h(
    "li",
    { class: "card ev-talk" },
    h("p", { class: "ev-head" }, h("a", { href: "#/dossier/" + x.person_id }, h("strong", {}, x.person_name)), h("span", { class: "muted" }, x.unit_name)),
    h("p", {}, t("ev.total_is", { total: fmtNumber(x.total, 2) }), " ", flagChips(x.flags), x.problems < 0 ? h("span", { class: "chip chip-warn" }, t("ev.has_problems")) : null),
    record,
  );
}

async function talksAndRounds(ctx) {
  const [talks, rounds] = await Promise.all([api("/api/evaluation/talks"), api("/api/evaluation/rounds")]);
  return [
    h(
      "section",
      {},
      heading(t("ev.talks"), 2),
      h("p", { class: "hint" }, t("ev.talks_hint")),
      talks.length
        ? h("ul", { class: "plain" }, talks.map((x) => talkCard(x, ctx)))
        : emptyState(t("ev.no_talks")),
    ),
    h(
      "section",
      {},
      heading(t("ev.rounds"), 2),
      rounds.length
        ? h("ul", { class: "wlist" }, rounds.map((r) => h("li", {}, h("a", { class: "wcard", href: "#/evaluation/rounds/" + r.id }, h("span", { class: "wcard-top" }, h("strong", {}, r.name), h("span", { class: "muted" }, r.category_name)), h("span", { class: "due" }, t("ev.period", { from: fmtDay(r.period_start), to: fmtDay(r.period_end) }), " · ", t("ev.people", { n: r.people }))))))
        : emptyState(t("ev.no_rounds")),
    ),
  ];
}

export default async function render(root, ctx) {
  const overseer = ctx.has("head", "inspector", "committee");
  add(
    root,
    h("a", { class: "back", href: "#/me" }, icon("back"), t("common.back")),
    heading(t("ev.title")),
    h("p", { class: "hint" }, t("ev.lead")),
    ctx.has("admin", "expert", "inspector", "committee") ? h("a", { class: "card hub-link", href: "#/evaluation/setup" }, h("strong", {}, t("ev.setup.title")), h("span", { class: "muted" }, t("ev.setup.hub_hint"))) : null,
    await mine(ctx, overseer),
    overseer ? await filing(ctx) : null,
    overseer ? await talksAndRounds(ctx) : null,
  );
}
