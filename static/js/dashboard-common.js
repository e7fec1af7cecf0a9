// Shared helpers of the committee's dashboards: number formats, ECharts set-up, tables.
// ECharts comes from npm (static vendor/echarts/echarts.min.js, loaded before this module).

import { clearErrors, showErrors, t } from "./api.js";
import { el, fmt, row } from "./ui.js";

const lang = () => (document.documentElement.lang === "en" ? "en-GB" : "zh-CN");

export function num(value) {
  if (value === null || value === undefined || value === "") return t("none", "—");
  return new Intl.NumberFormat(lang(), { maximumFractionDigits: 2 }).format(Number(value));
}

export function pct(rate) {
  if (rate === null || rate === undefined) return t("none", "—");
  return fmt("percent", { n: (rate * 100).toFixed(1) }, "%(n)s%");
}

export function isoDate(date) {
  const y = date.getFullYear();
  const m = String(date.getMonth() + 1).padStart(2, "0");
  const d = String(date.getDate()).padStart(2, "0");
  return `${y}-${m}-${d}`;
}

const charts = new Set();
// ECharts 6.1.0 throws on every frame when a map chart is laid out at 0×0 (apache/echarts#21706,
// fixed after 6.1.0): no chart is drawn or resized while its box has no size; one that gets its
// first option then is drawn as soon as the box has a size.
const sized = (node) => node.offsetWidth > 0 && node.offsetHeight > 0;
window.addEventListener("resize", () => charts.forEach((c) => sized(c.getDom()) && c.resize()));
const waiting = new Map(); // container → its latest option, until it has a size
const sizeWatch = new ResizeObserver((entries) => {
  for (const { target } of entries) {
    if (!sized(target) || !waiting.has(target)) continue;
    const option = waiting.get(target);
    waiting.delete(target);
    sizeWatch.unobserve(target);
    draw(target, option);
  }
});

function draw(container, option) {
  const echarts = window.echarts;
  let instance = echarts.getInstanceByDom(container);
  if (!instance) {
    instance = echarts.init(container, null, { renderer: "canvas" });
    charts.add(instance);
  }
  instance.setOption({ aria: { enabled: false }, animation: false, ...option }, true);
  return instance;
}

// One ECharts instance per container; the container is role="img" and its aria-label is the
// summary, so ECharts' own aria decoration stays off (the data is also in a table).
export function chart(container, option, label) {
  if (label) container.setAttribute("aria-label", label);
  if (!sized(container)) {
    waiting.set(container, option);
    sizeWatch.observe(container);
    return null;
  }
  waiting.delete(container);
  return draw(container, option);
}

// Fill a table body with rows of cells (already formatted text); an empty list shows a note.
export function fillTable(table, rows, { header = 1 } = {}) {
  const body = table.tBodies[0];
  const columns = table.tHead ? table.tHead.rows[0].cells.length : 1;
  if (!rows.length) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: columns, class: "xn-muted" }, t("no_data"))));
    return;
  }
  body.replaceChildren(...rows.map((cells) => row(cells, { header })));
}

// A progress bar with its text (tasks done / total): two nodes, the label and the bar.
export function progressBar(done, total) {
  const percent = total ? Math.round((done / total) * 100) : 0;
  const text = fmt("topic_progress", { done, total }, "%(done)s / %(total)s");
  return [
    el("div", { class: "xn-progress-label" }, text),
    el("progress", { class: "xn-progress", max: total || 1, value: done, "aria-label": text }, `${percent}%`),
  ];
}

// Indicator rows: name, "actual / target unit" with thousands separators.
export function indicatorTable(indicators) {
  if (!indicators.length) return el("p", { class: "xn-muted small mb-0" }, t("no_indicators"));
  const rows = indicators.map((i) => el("tr", {},
    el("th", { scope: "row" }, i.name),
    el("td", { class: "xn-figure" }, `${num(i.actual)} / ${num(i.target)} ${i.unit_of_measure || ""}`),
    el("td", {}, i.percent === null ? null : el("progress", {
      class: "xn-progress xn-progress-sm", max: 100, value: Math.min(100, i.percent),
      "aria-label": `${i.name} ${i.percent}%`,
    }, `${i.percent}%`))));
  return el("div", { class: "table-responsive" }, el("table", { class: "table table-sm mb-0 xn-indicators" },
    el("thead", {}, el("tr", {},
      el("th", { scope: "col" }, t("indicator")),
      el("th", { scope: "col" }, t("actual_target")),
      el("th", { scope: "col" }, el("span", { class: "visually-hidden" }, "%")))),
    el("tbody", {}, rows)));
}

// The link of a table's Excel export (GET /api/v1/stats/export.xlsx) for these parameters.
export function exportHref(table, params = {}) {
  const url = new URL("/api/v1/stats/export.xlsx", window.location.origin);
  url.searchParams.set("table", table);
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
  }
  return url.pathname + url.search;
}

export function results(data) {
  return Array.isArray(data) ? data : data.results || [];
}

// A period form's dates, checked before a request: from after to is refused on the form.
// Returns false (and shows the error) when the period is the wrong way round.
export function periodIsValid(form, { from, to }) {
  clearErrors(form);
  if (from && to && from > to) {
    showErrors(form, { message: t("check_dates"), fields: { from: [t("check_dates")] } });
    return false;
  }
  return true;
}
