// 工作台: the queue tabs with counts, filters, cursor paging, bulk intake and 导出 (export).
// The tab and filters live in the address (?tab=…&q=…) so Back from a case returns here.

import { api, clearErrors, cookie, formatTime, showErrors, t } from "./api.js";
import { el, fmt } from "./ui.js";
import {
  deadlineBadge, fieldError, label, runningDeadline, showMoreErrors, supervisionBadge,
  unitPicker,
} from "./workbench-common.js";

const root = document.getElementById("queue");
const tabs = [...root.querySelectorAll('[role="tab"]')];
const panel = document.getElementById("queue-panel");
const rows = document.getElementById("queue-rows");
const filters = document.getElementById("queue-filters");
const prev = document.getElementById("page-prev");
const next = document.getElementById("page-next");
const pageInfo = document.getElementById("page-info");
const status = document.getElementById("queue-status");
const bulkForm = document.getElementById("bulk-form");
const selectAll = document.getElementById("select-all");
const canBulk = root.dataset.canBulk === "true";
const COLUMNS = 9;

const FILTERS = ["q", "category", "region", "unit", "channel", "created_after", "created_before"];
const state = { tab: tabs[0]?.dataset.queue, cursor: "", page: 1, next: "", previous: "", query: {} };
const selected = new Map(); // id → tracking code

const unit = unitPicker(
  document.getElementById("filter-unit"),
  document.getElementById("filter-unit-options"),
);

// --- reference data for the filters ---------------------------------------------------------

async function loadReference() {
  const [categories, districts] = await Promise.all([
    api("/api/v1/categories/"),
    api("/api/v1/regions/", { params: { level: 2 } }),
  ]);
  const select = filters.elements.category;
  const children = new Map();
  for (const category of categories) {
    if (category.parent) {
      if (!children.has(category.parent)) children.set(category.parent, []);
      children.get(category.parent).push(category);
    }
  }
  for (const category of categories.filter((c) => !c.parent)) {
    select.append(el("option", { value: category.id, text: category.name }));
    for (const child of children.get(category.id) || []) {
      select.append(el("option", { value: child.id, text: `\u3000${child.name}` }));
    }
  }
  const region = filters.elements.region;
  for (const district of districts) region.append(el("option", { value: district.id, text: district.name }));
}

// --- the address holds the tab and the filters -------------------------------------------------

function readAddress() {
  const params = new URLSearchParams(window.location.search);
  const tab = params.get("tab");
  if (tab && tabs.some((b) => b.dataset.queue === tab)) state.tab = tab;
  for (const name of ["q", "category", "region", "channel", "created_after", "created_before"]) {
    if (params.get(name)) filters.elements[name].value = params.get(name);
  }
  if (params.get("unit") && params.get("unit_name")) {
    unit.set({ id: Number(params.get("unit")), name: params.get("unit_name") });
  }
}

function writeAddress() {
  const params = new URLSearchParams({ tab: state.tab });
  for (const [key, value] of Object.entries(filterValues())) params.set(key, value);
  if (unit.get()) params.set("unit_name", unit.get().name);
  history.replaceState(null, "", `${window.location.pathname}?${params}`);
}

function filterValues() {
  const values = {};
  for (const name of FILTERS) {
    if (name === "unit") {
      if (unit.get()) values.unit = unit.get().id;
      continue;
    }
    const value = filters.elements[name].value.trim();
    if (value) values[name] = value;
  }
  return values;
}

// The date inputs are whole days in Beijing time; "至" includes its day.
function apiParams() {
  const values = filterValues();
  if (values.created_after) values.created_after = `${values.created_after}T00:00:00+08:00`;
  if (values.created_before) {
    const day = new Date(`${values.created_before}T00:00:00+08:00`);
    day.setUTCDate(day.getUTCDate() + 1);
    values.created_before = day.toISOString();
  }
  return values;
}

// --- tabs ----------------------------------------------------------------------------------

function selectTab(name, { focus = false } = {}) {
  state.tab = name;
  for (const tab of tabs) {
    const active = tab.dataset.queue === name;
    tab.classList.toggle("active", active);
    tab.setAttribute("aria-selected", String(active));
    tab.tabIndex = active ? 0 : -1;
    if (active) {
      panel.setAttribute("aria-labelledby", tab.id);
      if (focus) tab.focus();
    }
  }
  selected.clear();
  if (bulkForm) {
    bulkForm.hidden = !(canBulk && name === "submitted");
    document.getElementById("bulk-results").replaceChildren();
    clearErrors(bulkForm);
  }
  for (const cell of root.querySelectorAll("[data-bulk-only]")) cell.hidden = !bulkActive();
  loadList("");
}

function bulkActive() {
  return canBulk && state.tab === "submitted";
}

for (const tab of tabs) {
  tab.addEventListener("click", () => selectTab(tab.dataset.queue));
  tab.addEventListener("keydown", (event) => {
    const index = tabs.indexOf(tab);
    const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 };
    if (!(event.key in moves)) return;
    event.preventDefault();
    const target = tabs[(moves[event.key] + tabs.length) % tabs.length];
    selectTab(target.dataset.queue, { focus: true });
  });
}

async function loadCounts() {
  try {
    const counts = await api("/api/v1/cases/counts/");
    for (const badge of root.querySelectorAll("[data-count-for]")) {
      const count = counts[badge.dataset.countFor] ?? 0;
      badge.textContent = String(count);
      const alarming = ["overdue", "supervised"].includes(badge.dataset.countFor) && count > 0;
      badge.classList.toggle("text-bg-danger", alarming);
      badge.classList.toggle("text-bg-secondary", !alarming);
    }
  } catch (error) {
    // Counts are a help; the list still loads without them.
  }
}

// --- the list ------------------------------------------------------------------------------

function message(text) {
  rows.replaceChildren(
    el("tr", {}, el("td", { colspan: COLUMNS, class: "text-center py-4", text })),
  );
}

function cursorOf(url) {
  return url ? new URL(url).searchParams.get("cursor") || "" : "";
}

// Each load gets a number; an answer to an older load (a slow first page arriving after the
// user has already switched tab) is dropped, so the rows always match the tab and filters shown.
let latestLoad = 0;

async function loadList(cursor, direction = 0) {
  const load = ++latestLoad;
  writeAddress();
  message(t("loading"));
  // The export takes the query of the rows shown, not what is typed but not yet applied.
  state.query = { queue: state.tab, ...apiParams() };
  try {
    const data = await api("/api/v1/cases/", { params: { ...state.query, cursor } });
    if (load !== latestLoad) return;
    state.cursor = cursor;
    state.page = cursor ? Math.max(1, state.page + direction) : 1;
    state.next = cursorOf(data.next);
    state.previous = cursorOf(data.previous);
    render(data.results);
  } catch (error) {
    if (load !== latestLoad) return;
    message(error.message || t("error"));
    state.next = state.previous = "";
  }
  prev.disabled = !state.previous;
  next.disabled = !state.next;
  pageInfo.textContent = fmt("page_info", { n: state.page });
}

function render(cases) {
  rows.replaceChildren();
  updateSelection();
  if (!cases.length) {
    message(t("no_cases"));
    status.textContent = t("no_cases");
    return;
  }
  for (const item of cases) rows.append(row(item));
  status.textContent = "";
}

function row(item) {
  const running = runningDeadline(item);
  const place = [item.district?.name, item.street?.name, item.region?.name].filter(Boolean);
  const what = el("td", {},
    el("div", { class: "fw-semibold", text: item.title || item.category?.name || t("untitled") }),
    item.title ? el("div", { class: "small xn-muted", text: item.category?.name }) : null,
  );
  if (item.urgency && item.urgency !== "normal") {
    what.firstChild.append(" ", el("span", { class: "badge text-bg-danger", text: label("urgency", item.urgency) }));
  }
  const statusCell = el("td", {}, el("span", { class: "badge text-bg-primary", text: item.status_display }));
  if (item.supervision_level && item.supervision_level !== "on_time") {
    statusCell.append(" ", supervisionBadge(item.supervision_level));
  }
  const tr = el("tr", { dataset: { caseId: item.id, code: item.tracking_code } },
    bulkActive() ? el("td", { class: "xn-select-col" }, el("input", {
      class: "form-check-input",
      type: "checkbox",
      "aria-label": fmt("select_case", { code: item.tracking_code }),
      checked: selected.has(item.id),
      dataset: { select: item.id, code: item.tracking_code },
    })) : null,
    el("td", {}, el("a", { href: `/workbench/cases/${item.id}/`, class: "xn-code", text: item.tracking_code })),
    what,
    el("td", { class: "small", text: place.join(" ") }),
    statusCell,
    el("td", { class: "small", text: item.lead_unit?.name || "—" }),
    el("td", { class: "small d-none d-lg-table-cell" },
      el("div", { text: item.complainant_name }), el("div", { text: item.complainant_phone })),
    el("td", {}, running ? deadlineBadge(running.due, running.start)
      : el("span", { class: "small", text: t("no_deadline") })),
    el("td", { class: "small d-none d-lg-table-cell", text: formatTime(item.created_at) }),
  );
  return tr;
}

prev.addEventListener("click", () => loadList(state.previous, -1));
next.addEventListener("click", () => loadList(state.next, 1));

filters.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(filters);
  if ((await unit.settle()) === undefined) {
    showErrors(filters, fieldError("unit", t("unit_not_found")));
    showMoreErrors(filters, fieldError("unit", t("unit_not_found")));
    return;
  }
  loadList("");
});
filters.addEventListener("reset", () => {
  clearErrors(filters);
  unit.clear();
  setTimeout(() => loadList(""), 0);
});

// --- selection and bulk intake -------------------------------------------------------------

function updateSelection() {
  const boxes = [...rows.querySelectorAll("[data-select]")];
  if (selectAll) {
    selectAll.checked = boxes.length > 0 && boxes.every((box) => box.checked);
    selectAll.indeterminate = !selectAll.checked && boxes.some((box) => box.checked);
  }
  const counter = document.getElementById("bulk-selected");
  if (counter) counter.textContent = fmt("selected", { n: selected.size });
}

rows.addEventListener("change", (event) => {
  const box = event.target.closest("[data-select]");
  if (!box) return;
  const id = Number(box.dataset.select);
  if (box.checked) selected.set(id, box.dataset.code);
  else selected.delete(id);
  updateSelection();
});

selectAll?.addEventListener("change", () => {
  for (const box of rows.querySelectorAll("[data-select]")) {
    box.checked = selectAll.checked;
    if (box.checked) selected.set(Number(box.dataset.select), box.dataset.code);
    else selected.delete(Number(box.dataset.select));
  }
  updateSelection();
});

function errorText(error) {
  const details = Object.values(error.fields || {}).flat();
  return [error.message, ...details].filter(Boolean).join(" ");
}

async function runBulk(kind) {
  clearErrors(bulkForm);
  const results = document.getElementById("bulk-results");
  results.replaceChildren();
  const code = bulkForm.elements.duplicate_of.value.trim().toUpperCase();
  if (!selected.size) {
    showErrors(bulkForm, { message: t("bulk_need_selection"), fields: {} });
    return;
  }
  if (kind === "reject" && !code) {
    showErrors(bulkForm, fieldError("duplicate_of", t("bulk_need_code")));
    return;
  }
  const buttons = bulkForm.querySelectorAll("button");
  for (const button of buttons) button.disabled = true;
  results.append(el("li", { text: t("bulk_working") }));
  let ok = 0;
  const lines = [];
  for (const [id, trackingCode] of selected) {
    try {
      if (kind === "reject") {
        await api(`/api/v1/cases/${id}/reject/`, {
          method: "POST", body: { reason: "duplicate", duplicate_of: code },
        });
        lines.push(el("li", { class: "xn-ok", dataset: { result: "ok" }, text: fmt("bulk_rejected", { code: trackingCode }) }));
      } else {
        await api(`/api/v1/cases/${id}/accept/`, { method: "POST", body: {} });
        lines.push(el("li", { class: "xn-ok", dataset: { result: "ok" }, text: fmt("bulk_accepted", { code: trackingCode }) }));
      }
      ok += 1;
    } catch (error) {
      lines.push(el("li", {
        class: "xn-failed", dataset: { result: "failed" },
        text: fmt("bulk_failed", { code: trackingCode, message: errorText(error) }),
      }));
    }
  }
  results.replaceChildren(
    el("li", { class: "fw-semibold", text: fmt("bulk_summary", { ok, failed: selected.size - ok }) }),
    ...lines,
  );
  for (const button of buttons) button.disabled = false;
  selected.clear();
  await Promise.all([loadCounts(), loadList("")]);
}

if (bulkForm) {
  bulkForm.addEventListener("submit", (event) => {
    event.preventDefault();
    runBulk("reject");
  });
  bulkForm.querySelector('[data-bulk="accept"]').addEventListener("click", () => runBulk("accept"));
}

// --- 导出: the list as shown (tab and applied filters) to Excel or CSV ------------------------
// A small list comes back as the file; a large one as a background job (202) whose progress is
// polled every second until its download link is ready (stats.queue_export).

const exportMenu = document.querySelector("#queue-export details");
const exportStatus = document.getElementById("queue-export-status");

function saveFile(blob, response, fileType) {
  const disposition = response.headers.get("Content-Disposition") || "";
  const name = disposition.match(/filename="?([^";]+)"?/)?.[1] || `queue.${fileType}`;
  const link = el("a", { href: URL.createObjectURL(blob), download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60000);
}

function showExportJob(job) {
  if (job.status === "done") {
    exportStatus.replaceChildren(
      fmt("export_done", { rows: job.row_count }), " ",
      el("a", { href: job.download_url, download: true, dataset: { exportDownload: "" }, text: t("export_download") }),
    );
    return;
  }
  if (job.status === "failed") {
    exportStatus.replaceChildren(el("span", { class: "xn-failed", text: `${t("export_failed")}${job.error}` }));
    return;
  }
  const n = job.progress || 0;
  const text = job.status === "queued" ? t("export_queued") : fmt("export_progress", { n });
  const bar = el("div", { class: "progress-bar", text: `${n}%` });
  bar.style.width = `${n}%`;
  exportStatus.replaceChildren(
    el("div", {
      class: "progress", role: "progressbar", "aria-label": text,
      "aria-valuenow": n, "aria-valuemin": 0, "aria-valuemax": 100,
    }, bar),
    el("div", { text }),
  );
}

async function exportQueue(fileType) {
  const buttons = root.querySelectorAll("[data-export-type]");
  for (const button of buttons) button.disabled = true;
  exportStatus.textContent = t("export_working");
  const url = new URL(`/api/v1/stats/queue-export.${fileType}`, window.location.origin);
  for (const [key, value] of Object.entries(state.query)) url.searchParams.append(key, value);
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { Accept: "application/json", "X-CSRFToken": cookie("csrftoken") },
      credentials: "same-origin",
    });
    if (response.status === 200) {
      saveFile(await response.blob(), response, fileType);
      exportStatus.textContent = t("export_saved");
      return;
    }
    const body = await response.json().catch(() => ({ message: response.statusText }));
    if (response.status !== 202) throw new Error(body.message || t("error"));
    let job = body;
    showExportJob(job);
    while (job.status === "queued" || job.status === "running") {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      job = await api(`/api/v1/stats/exports/${job.id}/`);
      showExportJob(job);
    }
  } catch (error) {
    showExportJob({ status: "failed", error: error.message || t("error") });
  } finally {
    for (const button of buttons) button.disabled = false;
  }
}

for (const button of root.querySelectorAll("[data-export-type]")) {
  button.addEventListener("click", () => {
    exportMenu.open = false;
    exportMenu.querySelector("summary").focus();
    exportQueue(button.dataset.exportType);
  });
}

// --- start ---------------------------------------------------------------------------------

async function start() {
  try {
    await loadReference();
  } catch (error) {
    // Filters without their options still let the queue load.
  }
  readAddress();
  loadCounts();
  // New calls and passing deadlines change the counts while the page is open.
  setInterval(loadCounts, 60000);
  if (state.tab) selectTab(state.tab);
  else message(t("no_cases"));
}

start();
