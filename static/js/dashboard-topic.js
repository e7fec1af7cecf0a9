// 题目详情: one 每月一题 topic with its tasks, weekly reports, indicators and documents, and the
// forms for what the user may do now (the API's allowed_actions): the lead unit adds tasks,
// records progress, files 周调度 and indicator readings; a supervisor issues 督办 on a late task;
// the committee adopts, carries over and closes (销号). Every change goes through the topic API,
// and the page is drawn again from the API's answer.

import { api, clearErrors, escapeHtml, showErrors, t } from "./api.js";
import { fill, num, progressBar } from "./dashboard-common.js";
import { fieldError, formBody, showMoreErrors, unitPicker } from "./workbench-common.js";

const root = document.getElementById("topic-page");
const base = `/api/v1/topics/${root.dataset.topic}/`;
const status = document.getElementById("topic-status");
const saved = document.getElementById("topic-saved");
const owner = unitPicker(document.getElementById("task-owner"), document.getElementById("task-owner-options"));
let topic = null;

const label = (prefix, value) => t(`${prefix}_${value}`, value);
const may = (action) => topic.allowed_actions.includes(action);

function head() {
  const units = topic.cooperating_units.map((u) => u.name).join("、") || t("none");
  const leader = [topic.leader_title, topic.leader_name].filter(Boolean).join(" ") || t("none");
  const row = (key, value) => `<dt class="col-sm-3 col-lg-2">${escapeHtml(key)}</dt><dd class="col-sm-9 col-lg-4">${escapeHtml(value)}</dd>`;
  const done = topic.tasks.filter((task) => task.status === "done").length;
  document.getElementById("topic-head").innerHTML = `
    <div class="d-flex flex-wrap gap-2 mb-2">
      <span class="badge text-bg-light border">${escapeHtml(label("theme", topic.theme))}</span>
      <span class="badge text-bg-primary" data-status="${escapeHtml(topic.status)}">${escapeHtml(label("status", topic.status))}</span>
    </div>
    <dl class="row small mb-2">
      ${row(t("month"), topic.month.slice(0, 7))}${row(t("target_date"), topic.target_date || t("none"))}
      ${row(t("lead_unit"), topic.lead_unit.name)}${row(t("leader"), leader)}
      ${row(t("cooperating"), units)}${row(t("linked_cases"), fill(t("cases_n"), { n: topic.cases.length }))}
    </dl>
    ${topic.problem ? `<h2 class="h6">${escapeHtml(t("problem"))}</h2><p class="xn-prewrap">${escapeHtml(topic.problem)}</p>` : ""}
    ${topic.goals ? `<h2 class="h6">${escapeHtml(t("goals"))}</h2><p class="xn-prewrap">${escapeHtml(topic.goals)}</p>` : ""}
    ${topic.closing_summary ? `<h2 class="h6">${escapeHtml(t("closing_summary"))}</h2><p class="xn-prewrap">${escapeHtml(topic.closing_summary)}</p>` : ""}
    <h2 class="h6">${escapeHtml(t("progress"))}</h2>${progressBar(done, topic.tasks.length)}`;
}

function taskControls(task) {
  const parts = [];
  if (may("task_update")) {
    const options = ["todo", "doing", "done"].map((value) => `<option value="${value}"${value === task.status ? " selected" : ""}>${escapeHtml(label("task", value))}</option>`).join("");
    const id = `task-${task.id}`;
    parts.push(`<form class="d-flex flex-wrap gap-1" data-task-update="${task.id}" novalidate>
      <div class="alert alert-danger py-1 px-2 mb-1 w-100 small" role="alert" data-form-alert hidden></div>
      <select class="form-select form-select-sm w-auto" name="status" aria-describedby="${id}-status-error"
              aria-label="${escapeHtml(fill(t("status_of"), { title: task.title }))}">${options}</select>
      <input class="form-control form-control-sm xn-w-num" type="number" min="0" max="100" name="progress" value="${task.progress}"
             aria-describedby="${id}-progress-error" aria-label="${escapeHtml(fill(t("progress_of"), { title: task.title }))}">
      <button class="btn btn-sm btn-outline-primary" type="submit">${escapeHtml(t("save"))}</button>
      <div class="xn-field-error w-100" id="${id}-status-error" data-error-for="status" hidden></div>
      <div class="xn-field-error w-100" id="${id}-progress-error" data-error-for="progress" hidden></div>
    </form>`);
  }
  if (may("task_supervise") && task.is_overdue) {
    const id = `supervise-${task.id}`;
    parts.push(`<form class="d-flex flex-wrap gap-1 mt-1" data-task-supervise="${task.id}" novalidate>
      <div class="alert alert-danger py-1 px-2 mb-1 w-100 small" role="alert" data-form-alert hidden></div>
      <input class="form-control form-control-sm" name="note" required placeholder="${escapeHtml(t("supervise_note"))}"
             aria-describedby="${id}-note-error" aria-label="${escapeHtml(fill(t("note_of"), { title: task.title }))}">
      <button class="btn btn-sm btn-danger" type="submit">${escapeHtml(t("supervise"))}</button>
      <div class="xn-field-error w-100" id="${id}-note-error" data-error-for="note" hidden></div>
    </form>`);
  }
  return parts.join("");
}

function tasks() {
  const body = document.querySelector("#task-table tbody");
  if (!topic.tasks.length) {
    body.innerHTML = `<tr><td colspan="7" class="xn-muted">${escapeHtml(t("no_tasks"))}</td></tr>`;
    return;
  }
  body.innerHTML = topic.tasks.map((task) => `<tr data-task="${task.id}"${task.is_overdue ? ' class="xn-row-overdue"' : ""}>
    <th scope="row">${escapeHtml(task.title)}
      ${task.is_overdue ? `<span class="badge text-bg-danger ms-1">${escapeHtml(t("overdue"))}</span>` : ""}
      ${task.supervisions.length ? `<span class="badge text-bg-warning ms-1">${escapeHtml(fill(t("supervised"), { n: task.supervisions.length }))}</span>` : ""}</th>
    <td>${escapeHtml(task.owner_unit.name)}</td>
    <td>${escapeHtml(task.start_date || t("none"))}</td>
    <td>${escapeHtml(task.deadline)}</td>
    <td>${escapeHtml(label("task", task.status))}</td>
    <td class="xn-figure">${escapeHtml(task.progress)}%</td>
    <td>${taskControls(task)}</td>
  </tr>`).join("");
}

function reports() {
  const list = document.getElementById("report-list");
  if (!topic.reports.length) {
    list.innerHTML = `<li class="xn-muted">${escapeHtml(t("no_reports"))}</li>`;
    return;
  }
  const part = (key, text) => (text ? `<dt>${escapeHtml(t(key))}</dt><dd class="xn-prewrap">${escapeHtml(text)}</dd>` : "");
  list.innerHTML = [...topic.reports].sort((a, b) => (a.week < b.week ? 1 : -1)).map((r) => `<li class="xn-card mb-2">
    <p class="small xn-muted mb-1">${escapeHtml(fill(t("week_of"), { week: r.week }))} · ${escapeHtml(r.unit?.name || "")}</p>
    <dl class="xn-report small mb-0">${part("done", r.done)}${part("problems", r.problems)}${part("next_steps", r.next_steps)}</dl></li>`).join("");
}

function indicators() {
  const body = document.querySelector("#indicator-table tbody");
  if (!topic.indicators.length) {
    body.innerHTML = `<tr><td colspan="4" class="xn-muted">${escapeHtml(t("no_indicators"))}</td></tr>`;
    return;
  }
  body.innerHTML = topic.indicators.map((i) => `<tr data-indicator="${i.id}">
    <th scope="row">${escapeHtml(i.name)}</th>
    <td class="xn-figure">${escapeHtml(num(i.actual))} / ${escapeHtml(num(i.target))} ${escapeHtml(i.unit_of_measure || "")}</td>
    <td class="small">${i.values.map((v) => `${escapeHtml(v.date)}: ${escapeHtml(num(v.value))}`).join("<br>")}</td>
    <td>${may("indicator_value") ? `<form class="d-flex flex-wrap gap-1" data-indicator-value="${i.id}" novalidate>
      <div class="alert alert-danger py-1 px-2 mb-1 w-100 small" role="alert" data-form-alert hidden></div>
      <input class="form-control form-control-sm xn-w-num" type="number" step="0.01" name="value" required
             aria-describedby="indicator-${i.id}-value-error" aria-label="${escapeHtml(fill(t("value_of"), { name: i.name }))}">
      <input class="form-control form-control-sm w-auto" type="date" name="date"
             aria-describedby="indicator-${i.id}-date-error" aria-label="${escapeHtml(fill(t("date_of"), { name: i.name }))}">
      <button class="btn btn-sm btn-outline-primary" type="submit">${escapeHtml(t("record"))}</button>
      <div class="xn-field-error w-100" id="indicator-${i.id}-value-error" data-error-for="value" hidden></div>
      <div class="xn-field-error w-100" id="indicator-${i.id}-date-error" data-error-for="date" hidden></div></form>` : ""}</td>
  </tr>`).join("");
}

function documents() {
  const list = document.getElementById("document-list");
  list.innerHTML = topic.documents.length
    ? topic.documents.map((d) => `<li><a href="${base}documents/${d.id}/">${escapeHtml(d.title)}</a>
        <span class="small xn-muted">${escapeHtml([d.number, d.issued_on].filter(Boolean).join(" · "))}</span></li>`).join("")
    : `<li class="xn-muted">${escapeHtml(t("no_documents"))}</li>`;
}

function render() {
  head();
  tasks();
  reports();
  indicators();
  documents();
  let any = false;
  for (const form of document.querySelectorAll("#topic-actions [data-form]")) {
    form.hidden = !may(form.dataset.form);
    any ||= !form.hidden;
  }
  document.getElementById("topic-actions").hidden = !any;
  for (const form of document.querySelectorAll("section > [data-form]")) form.hidden = !may(form.dataset.form);
}

async function load() {
  status.textContent = t("loading");
  topic = await api(base);
  render();
  status.textContent = "";
}

// After a change: draw the page again and say so (the notice is a status, read out). A row's
// form is drawn anew: the focus goes back to it, so the next row is a Tab away; after the other
// forms it goes to the notice.
async function done(again) {
  await load();
  saved.textContent = t("saved");
  saved.hidden = false;
  const target = again && document.querySelector(again);
  (target || saved).focus();
}

async function submit(form, path, body, again = null) {
  clearErrors(form);
  saved.hidden = true;
  const buttons = form.querySelectorAll("button");
  buttons.forEach((b) => { b.disabled = true; });
  try {
    await api(path, body);
  } catch (error) {
    showErrors(form, error);
    showMoreErrors(form, error);
    buttons.forEach((b) => { b.disabled = false; });
    return false;
  }
  form.reset?.();
  if (form.dataset.form === "task_add") owner.clear();
  buttons.forEach((b) => { b.disabled = false; });
  await done(again);
  return true;
}

// The forms of the page: the topic's transitions and the lead unit's nested records.
const build = {
  carry_over: (form) => {
    const month = form.elements.to_month.value.trim();
    if (!/^\d{4}-\d{2}$/.test(month)) throw fieldError("to_month", t("month_required"));
    return { to_month: `${month}-01`, reason: form.elements.reason.value };
  },
  task_add: async (form) => {
    const unit = await owner.settle();
    if (!unit) throw fieldError("owner_unit", t("unit_not_found"));
    return { ...formBody(form), owner_unit: unit.id };
  },
};

for (const form of document.querySelectorAll("[data-form]")) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = form.dataset.form;
    const path = `${base}${form.dataset.path || name}/`;
    let body;
    try {
      if (form.dataset.multipart !== undefined) body = new FormData(form);
      else body = build[name] ? await build[name](form) : formBody(form);
    } catch (problem) {
      showErrors(form, problem);
      return;
    }
    await submit(form, path, { method: "POST", body });
  });
}

// Row forms (drawn with the tables): progress of a task, 督办 on a late task, a reading.
root.addEventListener("submit", async (event) => {
  const form = event.target;
  const { taskUpdate, taskSupervise, indicatorValue } = form.dataset;
  if (!taskUpdate && !taskSupervise && !indicatorValue) return;
  event.preventDefault();
  if (taskUpdate) {
    const body = { status: form.elements.status.value };
    const progress = form.elements.progress.value.trim();
    if (progress !== "") body.progress = Number(progress); // blank: leave the progress as it is
    await submit(form, `${base}tasks/${taskUpdate}/`, { method: "PATCH", body }, `[data-task-update="${taskUpdate}"] select`);
  } else if (taskSupervise) {
    await submit(form, `${base}tasks/${taskSupervise}/supervise/`, { method: "POST", body: formBody(form) }, `[data-task-supervise="${taskSupervise}"] input`);
  } else {
    await submit(form, `${base}indicators/${indicatorValue}/values/`, { method: "POST", body: formBody(form) }, `[data-indicator-value="${indicatorValue}"] input`);
  }
});

load().catch((error) => {
  document.getElementById("topic-head").innerHTML = `<p class="xn-failed">${escapeHtml(error.message)}</p>`;
});
