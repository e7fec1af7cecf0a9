// 工作计划安排表: the year's tasks as bars from start month to deadline month (months across),
// overdue ones in red, and the same data as a table for screen readers and for printing.

import { api, showErrors, clearErrors, t } from "./api.js";
import { el, fmt } from "./ui.js";
import { exportHref, fillTable } from "./dashboard-common.js";

const form = document.getElementById("plan-form");
const gantt = document.getElementById("plan-gantt");
const table = document.getElementById("plan-table");
const status = document.getElementById("plan-status");

function monthIndex(iso, year) {
  const [y, m] = iso.split("-").map(Number);
  if (y < year) return 1;
  if (y > year) return 12;
  return m;
}

function render(plan) {
  document.getElementById("plan-export").href = exportHref("plan", { year: plan.year });
  // A topic spans several months: list each one once, in its first month.
  const seen = new Map();
  for (const month of plan.months) {
    for (const topic of month.topics) if (!seen.has(topic.id)) seen.set(topic.id, topic);
  }
  const topics = [...seen.values()];
  const cells = [el("div", { class: "xn-gantt-head" })];
  for (let m = 1; m <= 12; m += 1) cells.push(el("div", { class: "xn-gantt-head" }, fmt("month_n", { n: m })));
  const rows = [];
  for (const topic of topics) {
    cells.push(el("div", { class: "xn-gantt-topic" }, `${topic.title} · ${topic.lead_unit.name}`));
    for (const task of topic.tasks) {
      const start = monthIndex(task.start || task.deadline, plan.year);
      const end = Math.max(start, monthIndex(task.deadline, plan.year));
      const state = task.is_overdue ? "xn-overdue" : task.status === "done" ? "xn-done" : "";
      const statusText = task.is_overdue ? t("overdue") : t(`task_${task.status}`, task.status);
      cells.push(el("div", { class: "xn-gantt-label" }, task.title));
      cells.push(el("div", {
        class: `xn-gantt-bar xn-gs-${start} xn-ge-${end} ${state}`,
        dataset: { task: task.id },
        title: fmt("task_bar", {
          title: task.title, start: task.start || t("no_start"), deadline: task.deadline,
          status: statusText, progress: task.progress,
        }),
      }, `${task.progress}%`));
      rows.push({ task, topic, statusText });
    }
  }
  gantt.replaceChildren(...cells);
  gantt.hidden = topics.length === 0;
  fillTable(table, rows.map(({ topic, task, statusText }) => [
    topic.title, task.title, task.owner.name, task.start || t("no_start"), task.deadline,
    statusText, `${task.progress}%`,
  ]), { header: 2 });
  rows.forEach(({ task }, i) => {
    const tr = table.tBodies[0].rows[i];
    tr.dataset.task = task.id;
    if (task.is_overdue) tr.classList.add("xn-row-overdue");
  });
  if (!topics.length) {
    table.tBodies[0].replaceChildren(el("tr", {}, el("td", { colspan: 7, class: "xn-muted" }, t("no_plan"))));
  }
  status.textContent = "";
}

async function load() {
  clearErrors(form);
  const year = form.elements.year.value;
  status.textContent = t("loading");
  try {
    render(await api("/api/v1/topics/plan/", { params: { year } }));
    history.replaceState(null, "", `?year=${encodeURIComponent(year)}`);
  } catch (error) {
    showErrors(form, error);
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  load();
});
form.elements.year.value = new URLSearchParams(window.location.search).get("year") || new Date().getFullYear();
load();
