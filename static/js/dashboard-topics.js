// 每月一题 board: every topic with its status, lead unit, 包案领导, task progress, indicators
// with their history (a small chart and a table) and the latest 周调度 report.

import { api, escapeHtml, t } from "./api.js";
import { chart, fill, indicatorTable, num, progressBar, results } from "./dashboard-common.js";

const board = document.getElementById("topic-board");
const status = document.getElementById("board-status");
const more = document.getElementById("board-more");
let next = null;
more.addEventListener("click", () => next && load(next));

function latestReport(r) {
  if (!r) return `<p class="xn-muted small mb-0">${escapeHtml(t("no_report"))}</p>`;
  const part = (key, text) => (text ? `<dt>${escapeHtml(t(key))}</dt><dd>${escapeHtml(text)}</dd>` : "");
  return `<p class="small xn-muted mb-1">${escapeHtml(fill(t("week_of"), { week: r.week }))} · ${escapeHtml(r.unit?.name || "")}</p>
    <dl class="xn-report small mb-0">${part("done", r.done)}${part("problems", r.problems)}${part("next_steps", r.next_steps)}</dl>`;
}

function history(indicator) {
  const values = [...indicator.values].sort((a, b) => (a.date < b.date ? -1 : 1));
  if (!values.length) return "";
  const rows = values.map((v) => `<tr><th scope="row">${escapeHtml(v.date)}</th><td>${escapeHtml(num(v.value))}</td></tr>`).join("");
  return `<div class="col-12 col-md-6 col-xl-4">
    <h4 class="h6 small mb-1">${escapeHtml(indicator.name)}</h4>
    <div class="xn-chart-sm" role="img" data-history="${indicator.id}"
         aria-label="${escapeHtml(fill(t("history_chart"), { name: indicator.name, summary: values.map((v) => `${v.date} ${num(v.value)}`).join("，") }))}"></div>
    <details><summary class="small">${escapeHtml(t("table_view"))}</summary>
      <table class="table table-sm small"><caption class="visually-hidden">${escapeHtml(indicator.name)}</caption>
      <thead><tr><th scope="col">${escapeHtml(t("date"))}</th><th scope="col">${escapeHtml(t("value"))}</th></tr></thead>
      <tbody>${rows}</tbody></table></details></div>`;
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
  return `<article class="xn-card" aria-labelledby="topic-${topic.id}" data-topic="${topic.id}">
    <div class="d-flex flex-wrap align-items-baseline gap-2 mb-2">
      <h2 class="h5 mb-0 me-auto" id="topic-${topic.id}"><a href="/dashboard/topics/${topic.id}/">${escapeHtml(topic.title)}</a></h2>
      <span class="badge text-bg-light border">${escapeHtml(t(`theme_${topic.theme}`, topic.theme))}</span>
      <span class="badge text-bg-primary">${escapeHtml(t(`status_${topic.status}`, topic.status))}</span>
    </div>
    <dl class="row small mb-2">
      <dt class="col-sm-3 col-lg-2">${escapeHtml(t("month"))}</dt><dd class="col-sm-9 col-lg-4">${escapeHtml(topic.month.slice(0, 7))}</dd>
      <dt class="col-sm-3 col-lg-2">${escapeHtml(t("target_date"))}</dt><dd class="col-sm-9 col-lg-4">${escapeHtml(topic.target_date || t("none"))}</dd>
      <dt class="col-sm-3 col-lg-2">${escapeHtml(t("lead_unit"))}</dt><dd class="col-sm-9 col-lg-4">${escapeHtml(topic.lead_unit.name)}</dd>
      <dt class="col-sm-3 col-lg-2">${escapeHtml(t("leader"))}</dt><dd class="col-sm-9 col-lg-4">${escapeHtml(leader)}</dd>
      <dt class="col-sm-3 col-lg-2">${escapeHtml(t("cooperating"))}</dt><dd class="col-sm-9 col-lg-10">${escapeHtml(units)}</dd>
    </dl>
    <div class="row g-3">
      <div class="col-12 col-lg-6">
        <h3 class="h6">${escapeHtml(t("progress"))}</h3>
        ${progressBar(topic.tasks_done, topic.tasks_total)}
        <h3 class="h6 mt-3">${escapeHtml(t("indicators"))}</h3>
        ${indicatorTable(topic.indicators)}
      </div>
      <div class="col-12 col-lg-6">
        <h3 class="h6">${escapeHtml(t("latest_report"))}</h3>
        ${latestReport(topic.latest_report)}
      </div>
    </div>
    ${topic.indicators.some((i) => i.values.length) ? `<h3 class="h6 mt-3">${escapeHtml(t("history"))}</h3>
      <div class="row g-3">${topic.indicators.map(history).join("")}</div>` : ""}
  </article>`;
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
      board.innerHTML = `<p class="xn-muted">${escapeHtml(t("no_topics"))}</p>`;
      status.textContent = "";
      more.hidden = true;
      return;
    }
    board.insertAdjacentHTML("beforeend", topics.map(card).join(""));
    topics.forEach((topic) => topic.indicators.forEach(drawHistory));
    // DRF's next link is absolute; keep only its path, so a proxy's host or scheme never leaks in
    next = data.next ? new URL(data.next).pathname + new URL(data.next).search : null;
    more.hidden = !next;
    status.textContent = fill(t("board_count"), { n: board.querySelectorAll("[data-topic]").length, total: data.count });
    if (!first && topics.length) board.querySelector(`#topic-${topics[0].id} a`)?.focus();
  } catch (error) {
    board.insertAdjacentHTML("beforeend", `<p class="xn-failed">${escapeHtml(error.message)}</p>`);
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
    document.getElementById("candidate-list").innerHTML = topics.map((topic) => `<li>
      <a href="/dashboard/topics/${topic.id}/">${escapeHtml(topic.title)}</a>
      <span class="small xn-muted">${escapeHtml(topic.month.slice(0, 7))} · ${escapeHtml(topic.lead_unit.name)}</span></li>`).join("");
    section.hidden = !topics.length;
  } catch (error) {
    section.hidden = true; // the board itself says what failed
  }
}

async function loadBulletins() {
  const list = document.getElementById("bulletin-list");
  try {
    const bulletins = results(await api("/api/v1/bulletins/", { params: { page_size: 12 } }));
    list.innerHTML = bulletins.length
      ? bulletins.map((b) => `<li><a href="/dashboard/bulletins/${b.id}/">${escapeHtml(b.title)}</a>
          <span class="small xn-muted">${escapeHtml(t(`bulletin_${b.status}`, b.status))}</span></li>`).join("")
      : `<li class="xn-muted">${escapeHtml(t("no_bulletins"))}</li>`;
  } catch (error) {
    list.innerHTML = `<li class="xn-failed">${escapeHtml(error.message)}</li>`;
  }
}

load();
loadCandidates();
loadBulletins();
