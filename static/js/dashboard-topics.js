// 每月一题 board: every topic with its status, lead unit, 包案领导, task progress, indicators
// with their history (a small chart and a table) and the latest 周调度 report.

import { api, t } from "./api.js";
import { el, fmt, row } from "./ui.js";
import { chart, indicatorTable, num, progressBar, results } from "./dashboard-common.js";

const board = document.getElementById("topic-board");
const status = document.getElementById("board-status");
const more = document.getElementById("board-more");
let next = null;
more.addEventListener("click", () => next && load(next));

function latestReport(r) {
  if (!r) return el("p", { class: "xn-muted small mb-0" }, t("no_report"));
  const part = (key, text) => (text ? [el("dt", {}, t(key)), el("dd", {}, text)] : null);
  return [
    el("p", { class: "small xn-muted mb-1" }, `${fmt("week_of", { week: r.week })} · ${r.unit?.name || ""}`),
    el("dl", { class: "xn-report small mb-0" },
      part("done", r.done), part("problems", r.problems), part("next_steps", r.next_steps)),
  ];
}

function history(indicator) {
  const values = [...indicator.values].sort((a, b) => (a.date < b.date ? -1 : 1));
  if (!values.length) return null;
  const summary = values.map((v) => `${v.date} ${num(v.value)}`).join("，");
  return el("div", { class: "col-12 col-md-6 col-xl-4" },
    el("h4", { class: "h6 small mb-1" }, indicator.name),
    el("div", {
      class: "xn-chart-sm", role: "img", dataset: { history: indicator.id },
      "aria-label": fmt("history_chart", { name: indicator.name, summary }),
    }),
    el("details", {},
      el("summary", { class: "small" }, t("table_view")),
      el("table", { class: "table table-sm small" },
        el("caption", { class: "visually-hidden" }, indicator.name),
        el("thead", {}, el("tr", {}, el("th", { scope: "col" }, t("date")), el("th", { scope: "col" }, t("value")))),
        el("tbody", {}, values.map((v) => row([v.date, num(v.value)]))))));
}

function drawHistory(indicator) {
  const node = board.querySelector(`[data-history="${indicator.id}"]`);
  if (!node) return;
  const values = [...indicator.values].sort((a, b) => (a.date < b.date ? -1 : 1));
  const series = [{ type: "line", data: values.map((v) => Number(v.value)), itemStyle: { color: "#1a4d8f" }, label: { show: true } }];
  if (indicator.target !== null) {
    series[0].markLine = { silent: true, symbol: "none", label: { show: false }, data: [{ yAxis: Number(indicator.target) }], lineStyle: { color: "#a52834" } };
  }
  chart(node, {
    grid: { left: 56, right: 16, top: 20, bottom: 24 },
    xAxis: { type: "category", data: values.map((v) => v.date.slice(0, 7)) },
    yAxis: { type: "value" },
    series,
  });
}

function card(topic) {
  const units = topic.cooperating_units.map((u) => u.name).join("、") || t("none");
  const leader = [topic.leader_title, topic.leader_name].filter(Boolean).join(" ") || t("none");
  const fact = (key, value, wide = false) => [
    el("dt", { class: "col-sm-3 col-lg-2" }, t(key)),
    el("dd", { class: wide ? "col-sm-9 col-lg-10" : "col-sm-9 col-lg-4" }, value),
  ];
  return el("article", { class: "xn-card", "aria-labelledby": `topic-${topic.id}`, dataset: { topic: topic.id } },
    el("div", { class: "d-flex flex-wrap align-items-baseline gap-2 mb-2" },
      el("h2", { class: "h5 mb-0 me-auto", id: `topic-${topic.id}` },
        el("a", { href: `/dashboard/topics/${topic.id}/` }, topic.title)),
      el("span", { class: "badge text-bg-light border" }, t(`theme_${topic.theme}`, topic.theme)),
      el("span", { class: "badge text-bg-primary" }, t(`status_${topic.status}`, topic.status))),
    el("dl", { class: "row small mb-2" },
      fact("month", topic.month.slice(0, 7)),
      fact("target_date", topic.target_date || t("none")),
      fact("lead_unit", topic.lead_unit.name),
      fact("leader", leader),
      fact("cooperating", units, true)),
    el("div", { class: "row g-3" },
      el("div", { class: "col-12 col-lg-6" },
        el("h3", { class: "h6" }, t("progress")),
        progressBar(topic.tasks_done, topic.tasks_total),
        el("h3", { class: "h6 mt-3" }, t("indicators")),
        indicatorTable(topic.indicators)),
      el("div", { class: "col-12 col-lg-6" },
        el("h3", { class: "h6" }, t("latest_report")),
        latestReport(topic.latest_report))),
    topic.indicators.some((i) => i.values.length)
      ? [el("h3", { class: "h6 mt-3" }, t("history")), el("div", { class: "row g-3" }, topic.indicators.map(history))]
      : null);
}

// One request per page of the board (selectors.board); "more" appends the next page and moves
// the focus to the first topic it added.
async function load(url = "/api/v1/topics/board/") {
  status.textContent = t("loading");
  more.disabled = true;
  const first = !board.children.length;
  try {
    const data = await api(url, first ? { params: { page_size: 20 } } : {});
    const topics = results(data);
    if (!topics.length && first) {
      board.replaceChildren(el("p", { class: "xn-muted" }, t("no_topics")));
      status.textContent = "";
      more.hidden = true;
      return;
    }
    board.append(...topics.map(card));
    topics.forEach((topic) => topic.indicators.forEach(drawHistory));
    // DRF's next link is absolute; keep only its path, so a proxy's host or scheme never leaks in
    next = data.next ? new URL(data.next).pathname + new URL(data.next).search : null;
    more.hidden = !next;
    status.textContent = fmt("board_count", { n: board.querySelectorAll("[data-topic]").length, total: data.count });
    if (!first && topics.length) board.querySelector(`#topic-${topics[0].id} a`)?.focus();
  } catch (error) {
    board.append(el("p", { class: "xn-failed" }, error.message));
    status.textContent = error.message;
  } finally {
    more.disabled = false;
  }
}

// 候选: topics proposed (from 未诉先办 or by hand) and not yet adopted; each links to its page,
// where the committee adopts it with the date of its meeting.
async function loadCandidates() {
  const section = document.getElementById("candidate-topics");
  try {
    const topics = results(await api("/api/v1/topics/", { params: { status: "candidate", page_size: 50 } }));
    document.getElementById("candidate-list").replaceChildren(...topics.map((topic) => el("li", {},
      el("a", { href: `/dashboard/topics/${topic.id}/` }, topic.title), " ",
      el("span", { class: "small xn-muted" }, `${topic.month.slice(0, 7)} · ${topic.lead_unit.name}`))));
    section.hidden = !topics.length;
  } catch (error) {
    section.hidden = true; // the board itself says what failed
  }
}

async function loadBulletins() {
  const list = document.getElementById("bulletin-list");
  try {
    const bulletins = results(await api("/api/v1/bulletins/", { params: { page_size: 12 } }));
    list.replaceChildren(...(bulletins.length
      ? bulletins.map((b) => el("li", {},
        el("a", { href: `/dashboard/bulletins/${b.id}/` }, b.title), " ",
        el("span", { class: "small xn-muted" }, t(`bulletin_${b.status}`, b.status))))
      : [el("li", { class: "xn-muted" }, t("no_bulletins"))]));
  } catch (error) {
    list.replaceChildren(el("li", { class: "xn-failed" }, error.message));
  }
}

// 生成本月草稿: the month's 月通报 drafted now from its figures so far, then opened to edit.
const draft = document.getElementById("bulletin-draft");
if (draft) {
  draft.addEventListener("click", async () => {
    const problem = document.getElementById("bulletin-draft-error");
    problem.hidden = true;
    draft.disabled = true;
    try {
      const bulletin = await api("/api/v1/bulletins/draft/", { method: "POST", body: {} });
      window.location.assign(`/dashboard/bulletins/${bulletin.id}/`);
    } catch (error) {
      problem.textContent = error.message;
      problem.hidden = false;
      draft.disabled = false;
    }
  });
}

load();
loadCandidates();
loadBulletins();
