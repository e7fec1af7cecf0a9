// 题目详情: one 每月一题 topic with its tasks, weekly reports, indicators and documents, and the
// forms for what the user may do now (the API's allowed_actions): the lead unit adds tasks,
// plans them backwards from the target date (倒排工期) and records progress; a cooperating unit
// records its own tasks; the lead unit files 周调度 and indicator readings; a supervisor issues
// 督办 on a late task;
// the committee adopts, carries over and closes (销号). Every change goes through the topic API,
// and the page is drawn again from the API's answer.

import { api, clearErrors, showErrors, t } from "./api.js";
import { el, fmt } from "./ui.js";
import { chart, num, pct, progressBar } from "./dashboard-common.js";
import { fieldError, formBody, formData, showMoreErrors, unitPicker } from "./workbench-common.js";

const root = document.getElementById("topic-page");
const base = `/api/v1/topics/${root.dataset.topic}/`;
const status = document.getElementById("topic-status");
const saved = document.getElementById("topic-saved");
const owner = unitPicker(document.getElementById("task-owner"), document.getElementById("task-owner-options"));
let topic = null;
let plan = null; // 倒排工期: the proposal, read only when the user may accept it

const label = (prefix, value) => t(`${prefix}_${value}`, value);
const may = (action) => topic.allowed_actions.includes(action);

function head() {
  const units = topic.cooperating_units.map((u) => u.name).join("、") || t("none");
  const leader = [topic.leader_title, topic.leader_name].filter(Boolean).join(" ") || t("none");
  const fact = (key, value) => [
    el("dt", { class: "col-sm-3 col-lg-2" }, key), el("dd", { class: "col-sm-9 col-lg-4" }, value),
  ];
  const text = (key, value) => (value ? [el("h2", { class: "h6" }, t(key)), el("p", { class: "xn-prewrap" }, value)] : null);
  const done = topic.tasks.filter((task) => task.status === "done").length;
  // Parts are nodes, lists of nodes or null: flattened and dropped as el() does, never printed.
  const parts = [
    el("div", { class: "d-flex flex-wrap gap-2 mb-2" },
      el("span", { class: "badge text-bg-light border" }, label("theme", topic.theme)),
      el("span", { class: "badge text-bg-primary", dataset: { status: topic.status } }, label("status", topic.status))),
    el("dl", { class: "row small mb-2" },
      fact(t("month"), topic.month.slice(0, 7)), fact(t("target_date"), topic.target_date || t("none")),
      fact(t("lead_unit"), topic.lead_unit.name), fact(t("leader"), leader),
      fact(t("cooperating"), units), fact(t("linked_cases"), fmt("cases_n", { n: topic.cases.length }))),
    text("problem", topic.problem),
    text("goals", topic.goals),
    text("closing_summary", topic.closing_summary),
    el("h2", { class: "h6" }, t("progress")),
    progressBar(done, topic.tasks.length),
  ];
  document.getElementById("topic-head").replaceChildren(...parts.flat().filter((part) => part !== null));
}

// A form's alert box and its fields' error slots, as showErrors() expects them.
const formAlert = () => el("div", {
  class: "alert alert-danger py-1 px-2 mb-1 w-100 small", role: "alert", dataset: { formAlert: "" }, hidden: true,
});
const fieldSlot = (id, field) => el("div", {
  class: "xn-field-error w-100", id, dataset: { errorFor: field }, hidden: true,
});

function taskControls(task) {
  const parts = [];
  if (topic.updatable_tasks.includes(task.id)) {
    const id = `task-${task.id}`;
    // The 工期 is the lead unit's plan: only the one who may accept plans edits it.
    const workdays = may("plan_accept")
      ? [el("input", {
        class: "form-control form-control-sm xn-w-num", type: "number", min: 1, max: 500, name: "workdays",
        value: task.workdays ?? "", placeholder: t("workdays"), "aria-describedby": `${id}-workdays-error`,
        "aria-label": fmt("workdays_of", { title: task.title }),
      }), fieldSlot(`${id}-workdays-error`, "workdays")]
      : [];
    parts.push(el("form", { class: "d-flex flex-wrap gap-1", dataset: { taskUpdate: task.id }, novalidate: true },
      formAlert(),
      el("select", {
        class: "form-select form-select-sm w-auto", name: "status", "aria-describedby": `${id}-status-error`,
        "aria-label": fmt("status_of", { title: task.title }),
      }, ["todo", "doing", "done"].map((value) => el("option", { value, selected: value === task.status }, label("task", value)))),
      el("input", {
        class: "form-control form-control-sm xn-w-num", type: "number", min: 0, max: 100, name: "progress",
        value: task.progress, "aria-describedby": `${id}-progress-error`,
        "aria-label": fmt("progress_of", { title: task.title }),
      }),
      workdays[0] || null,
      el("button", { class: "btn btn-sm btn-outline-primary", type: "submit" }, t("save")),
      workdays[1] || null,
      fieldSlot(`${id}-status-error`, "status"),
      fieldSlot(`${id}-progress-error`, "progress")));
  }
  if (may("task_supervise") && task.is_overdue) {
    const id = `supervise-${task.id}`;
    parts.push(el("form", { class: "d-flex flex-wrap gap-1 mt-1", dataset: { taskSupervise: task.id }, novalidate: true },
      formAlert(),
      el("input", {
        class: "form-control form-control-sm", name: "note", required: true, placeholder: t("supervise_note"),
        "aria-describedby": `${id}-note-error`, "aria-label": fmt("note_of", { title: task.title }),
      }),
      el("button", { class: "btn btn-sm btn-danger", type: "submit" }, t("supervise")),
      fieldSlot(`${id}-note-error`, "note")));
  }
  return parts;
}

function tasks() {
  const body = document.querySelector("#task-table tbody");
  if (!topic.tasks.length) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: 8, class: "xn-muted" }, t("no_tasks"))));
    return;
  }
  body.replaceChildren(...topic.tasks.map((task) => el("tr", {
    dataset: { task: task.id }, class: task.is_overdue ? "xn-row-overdue" : null,
  },
    el("th", { scope: "row" }, task.title,
      task.is_overdue ? [" ", el("span", { class: "badge text-bg-danger ms-1" }, t("overdue"))] : null,
      task.supervisions.length
        ? [" ", el("span", { class: "badge text-bg-warning ms-1" }, fmt("supervised", { n: task.supervisions.length }))]
        : null),
    el("td", {}, task.owner_unit.name),
    el("td", {}, task.workdays ? fmt("workdays_n", { n: task.workdays }) : t("none")),
    el("td", {}, task.start_date || t("none")),
    el("td", {}, task.deadline),
    el("td", {}, label("task", task.status)),
    el("td", { class: "xn-figure" }, `${task.progress}%`),
    el("td", {}, taskControls(task)))));
}

// 倒排工期: the proposed dates beside the current deadline; accepting posts the plan_accept form.
function schedule() {
  if (!plan) return;
  const late = document.getElementById("plan-late");
  const empty = document.getElementById("plan-empty");
  const rows = plan.tasks.map((task) => el("tr", { dataset: { planTask: task.id } },
    el("th", { scope: "row" }, task.title),
    el("td", {}, fmt("workdays_n", { n: task.workdays })),
    el("td", {}, task.proposed_start),
    el("td", {}, task.proposed_deadline),
    el("td", {}, task.deadline, " ",
      el("span", { class: `badge ${task.changed ? "text-bg-warning" : "text-bg-light border"}` },
        t(task.changed ? "plan_changes" : "plan_same")))));
  document.querySelector("#plan-table tbody").replaceChildren(...rows);
  document.getElementById("plan-table").hidden = !rows.length;
  const first = plan.tasks[0];
  late.hidden = !plan.starts_too_late;
  late.textContent = plan.starts_too_late ? fmt("plan_too_late", { start: first.proposed_start }) : "";
  const notes = [];
  if (!plan.target_date) notes.push(t("plan_no_target"));
  else if (!rows.length) notes.push(t("plan_none"));
  if (plan.unplanned.length) notes.push(fmt("plan_unplanned", { titles: plan.unplanned.map((u) => u.title).join("、") }));
  empty.textContent = notes.join(" ");
  empty.hidden = !notes.length;
  document.getElementById("plan-accept").disabled = !plan.tasks.some((task) => task.changed);
}

function reports() {
  const list = document.getElementById("report-list");
  if (!topic.reports.length) {
    list.replaceChildren(el("li", { class: "xn-muted" }, t("no_reports")));
    return;
  }
  const part = (key, text) => (text ? [el("dt", {}, t(key)), el("dd", { class: "xn-prewrap" }, text)] : null);
  list.replaceChildren(...[...topic.reports].sort((a, b) => (a.week < b.week ? 1 : -1)).map((r) => el("li", { class: "xn-card mb-2" },
    el("p", { class: "small xn-muted mb-1" }, `${fmt("week_of", { week: r.week })} · ${r.unit?.name || ""}`),
    el("dl", { class: "xn-report small mb-0" },
      part("done", r.done), part("problems", r.problems), part("next_steps", r.next_steps)))));
}

function indicatorForm(i) {
  return el("form", { class: "d-flex flex-wrap gap-1", dataset: { indicatorValue: i.id }, novalidate: true },
    formAlert(),
    el("input", {
      class: "form-control form-control-sm xn-w-num", type: "number", step: "0.01", name: "value", required: true,
      "aria-describedby": `indicator-${i.id}-value-error`, "aria-label": fmt("value_of", { name: i.name }),
    }),
    el("input", {
      class: "form-control form-control-sm w-auto", type: "date", name: "date",
      "aria-describedby": `indicator-${i.id}-date-error`, "aria-label": fmt("date_of", { name: i.name }),
    }),
    el("button", { class: "btn btn-sm btn-outline-primary", type: "submit" }, t("record")),
    fieldSlot(`indicator-${i.id}-value-error`, "value"),
    fieldSlot(`indicator-${i.id}-date-error`, "date"));
}

function indicators() {
  const body = document.querySelector("#indicator-table tbody");
  if (!topic.indicators.length) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: 4, class: "xn-muted" }, t("no_indicators"))));
    return;
  }
  body.replaceChildren(...topic.indicators.map((i) => el("tr", { dataset: { indicator: i.id } },
    el("th", { scope: "row" }, i.name),
    el("td", { class: "xn-figure" }, `${num(i.actual)} / ${num(i.target)} ${i.unit_of_measure || ""}`),
    // The readings, one per line.
    el("td", { class: "small" }, i.values.map((v, n) => [n ? el("br") : null, `${v.date}: ${num(v.value)}`])),
    el("td", {}, may("indicator_value") ? indicatorForm(i) : null))));
}

function documents() {
  const list = document.getElementById("document-list");
  list.replaceChildren(...(topic.documents.length
    ? topic.documents.map((d) => el("li", {},
      el("a", { href: `${base}documents/${d.id}/` }, d.title), " ",
      el("span", { class: "small xn-muted" }, [d.number, d.issued_on].filter(Boolean).join(" · "))))
    : [el("li", { class: "xn-muted" }, t("no_documents"))]));
}

// 成效: complaints per week before and since adoption, the figures of both windows and the
// verdict of the stated test (stats.effect). The 销号 form repeats the verdict: it is read before
// the topic is ticked off.
let effect = null;

function effectVerdict() {
  if (!effect) return t("loading");
  const text = t(`verdict_${effect.verdict}`, effect.verdict);
  if (!effect.effect) return text;
  const change = (rate) => (rate === null ? t("none") : fmt("change", { n: (rate * 100).toFixed(1) }));
  return fmt("verdict_detail", {
    verdict: text,
    change: change(effect.change),
    reference: t(`reference_${effect.reference.kind}`),
    reference_change: change(effect.reference_change),
    level: "95%",
    ratio: effect.effect.ratio.toFixed(2),
    low: effect.effect.low.toFixed(2),
    high: effect.effect.high.toFixed(2),
  });
}

function showEffect() {
  const summary = document.getElementById("effect-summary");
  const verdict = el("p", { class: "mb-2", dataset: { verdict: effect.verdict } }, el("strong", {}, effectVerdict()));
  const area = effect.categories.length
    ? el("p", { class: "small xn-muted mb-2" }, fmt("effect_area", {
      categories: effect.categories.map((c) => c.name).join("、"),
      regions: effect.regions.map((r) => r.name).join("、") || t("citywide"),
      weeks: effect.weeks,
    }))
    : null;
  summary.replaceChildren(...[verdict, area].filter(Boolean));
  document.getElementById("close-effect").textContent = effectVerdict();
  const { before, since } = effect;
  const shown = Boolean(before);
  document.getElementById("chart-effect").hidden = !shown;
  document.getElementById("effect-figures").hidden = !shown;
  document.getElementById("effect-method").hidden = !shown;
  if (!shown) return;
  const weeks = effect.weekly;
  chart(document.getElementById("chart-effect"), {
    grid: { left: 40, right: 16, top: 36, bottom: 28 },
    tooltip: { trigger: "axis" },
    legend: { top: 0, data: [t("before"), t("since")] },
    xAxis: { type: "category", data: weeks.map((w) => w.start.slice(5)) },
    yAxis: { type: "value", minInterval: 1 },
    series: [
      { name: t("before"), type: "bar", stack: "w", data: weeks.map((w) => (w.after ? null : w.created)), itemStyle: { color: "#6c757d" } },
      { name: t("since"), type: "bar", stack: "w", data: weeks.map((w) => (w.after ? w.created : null)), itemStyle: { color: "#1a4d8f" } },
    ],
  }, fmt("effect_chart", {
    before: num(before.per_week), since: since ? num(since.per_week) : t("none"), weeks: weeks.length,
  }));
  const cell = (window, value) => (window ? value(window) : t("none"));
  const rows = [
    [t("window"), (w) => `${w.start} ~ ${w.end}`],
    [t("received"), (w) => num(w.created)],
    [t("per_week"), (w) => num(w.per_week)],
    [t("response_rate"), (w) => pct(w.response_rate)],
    [t("resolution_rate"), (w) => pct(w.resolution_rate)],
    [t("satisfaction_rate"), (w) => pct(w.satisfaction_rate)],
    [fmt("repeat_complainants", { weeks: effect.weeks }), (w) => fmt("repeat_n", { people: w.repeat_complainants, cases: w.repeat_cases })],
  ];
  document.querySelector("#effect-table tbody").replaceChildren(...rows.map(([name, value]) => el("tr", {},
    el("th", { scope: "row" }, name), el("td", { class: "xn-figure" }, cell(before, value)),
    el("td", { class: "xn-figure" }, cell(since, value)))));
}

async function loadEffect() {
  effect = await api(`${base}effect/`);
  showEffect();
}

function render() {
  head();
  tasks();
  schedule();
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
  plan = may("plan_accept") ? await api(`${base}schedule/`) : null;
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
    const path = `${base}${form.dataset.path}/`;
    let body;
    try {
      // 销号: the effect is required reading.
      if (name === "close" && !form.elements.effect_read.checked) throw fieldError("effect_read", t("effect_unread"));
      if (form.dataset.multipart !== undefined) body = formData(form);
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
    const workdays = form.elements.workdays?.value.trim();
    if (workdays) body.workdays = Number(workdays);
    await submit(form, `${base}tasks/${taskUpdate}/`, { method: "PATCH", body }, `[data-task-update="${taskUpdate}"] select`);
  } else if (taskSupervise) {
    await submit(form, `${base}tasks/${taskSupervise}/supervise/`, { method: "POST", body: formBody(form) }, `[data-task-supervise="${taskSupervise}"] input`);
  } else {
    await submit(form, `${base}indicators/${indicatorValue}/values/`, { method: "POST", body: formBody(form) }, `[data-indicator-value="${indicatorValue}"] input`);
  }
});

load().catch((error) => {
  document.getElementById("topic-head").replaceChildren(el("p", { class: "xn-failed" }, error.message));
});
loadEffect().catch((error) => {
  document.getElementById("effect-summary").replaceChildren(el("p", { class: "xn-failed" }, error.message));
  document.getElementById("close-effect").textContent = error.message;
});
