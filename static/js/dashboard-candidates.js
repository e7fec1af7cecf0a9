// 未诉先办: clusters of category × street that grow, with counts, growth, repeat complainants,
// low satisfaction and the evidence (sample cases, weekly trend).

import { api, clearErrors, showErrors, t } from "./api.js";
import { el, fmt } from "./ui.js";
import { chart, exportHref, num, pct } from "./dashboard-common.js";
import { fieldError, showMoreErrors, unitPicker } from "./workbench-common.js";

const form = document.getElementById("cand-form");
const table = document.getElementById("cand-table");
const summary = document.getElementById("cand-summary");
const adopted = document.getElementById("cand-adopted");
let shown = { weeks: 4, period: {}, results: [] }; // the candidates on the page now

function render(data) {
  shown = data;
  document.getElementById("cand-export").href = exportHref("candidates", { weeks: data.weeks });
  const rows = data.results;
  summary.textContent = fmt("summary", {
    weeks: data.weeks, from: data.period.from, to: data.period.to, n: rows.length,
  });
  const body = table.tBodies[0];
  if (!rows.length) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: 11, class: "xn-muted" }, t("no_data"))));
  } else {
    body.replaceChildren(...rows.map((r, i) => el("tr", {},
      el("th", { scope: "row" }, r.category.name),
      el("td", {}, r.street.name),
      el("td", {}, num(r.count)),
      el("td", {}, num(r.previous)),
      el("td", {}, r.growth === null ? t("new_growth") : pct(r.growth)),
      el("td", {}, num(r.repeat_complainants)),
      el("td", {}, pct(r.satisfaction_rate)),
      el("td", {}, num(r.score)),
      el("td", { class: "xn-figure" }, r.weekly.map((w) => w.count ?? w).join(" → ")),
      // The sample cases' codes, one per line.
      el("td", {}, r.sample_cases.map((c, n) => [
        n ? el("br") : null,
        el("a", { class: "xn-code", href: `/workbench/cases/${c.id}/`, title: c.title }, c.tracking_code),
      ])),
      el("td", {}, el("button", {
        type: "button", class: "btn btn-sm btn-outline-primary text-nowrap", dataset: { adopt: i },
        "aria-label": fmt("adopt_label", { name: `${r.category.name}·${r.street.name}` }),
      }, t("adopt"))))));
  }
  const top = rows.slice(0, 5);
  const weeks = top.length ? top[0].weekly.map((w, i) => w.start || fmt("week_n", { n: i + 1 })) : [];
  const name = (r) => `${r.category.name}·${r.street.name}`;
  chart(
    document.getElementById("chart-candidates"),
    {
      grid: { left: 40, right: 16, top: 48, bottom: 28 },
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", data: top.map(name) },
      xAxis: { type: "category", data: weeks },
      yAxis: { type: "value", minInterval: 1 },
      series: top.map((r) => ({ name: name(r), type: "line", data: r.weekly.map((w) => w.count ?? w) })),
    },
    fmt("weekly_chart", {
      n: top.length,
      summary: top.length ? top.map((r) => `${name(r)} ${r.weekly.map((w) => w.count ?? w).join("/")}`).join("；") : t("no_data"),
    }),
  );
}

let latest = 0; // the newest load: an older answer that arrives after it is dropped

async function load() {
  const mine = ++latest;
  clearErrors(form);
  try {
    const data = await api("/api/v1/topics/candidates/", { params: { weeks: form.elements.weeks.value } });
    if (mine === latest) render(data);
  } catch (error) {
    if (mine === latest) showErrors(form, error);
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  load();
});

// --- "adopt as topic": a candidate topic linked to the cluster's cases ----------------------

const dialogNode = document.getElementById("adopt-dialog");
const dialog = new bootstrap.Modal(dialogNode);
const adoptForm = document.getElementById("adopt-form");
const lead = unitPicker(adoptForm.elements.lead_unit, document.getElementById("adopt-lead-options"));
let chosen = null; // { candidate, weeks, trigger }

function nextMonth() {
  const today = new Date();
  const next = new Date(today.getFullYear(), today.getMonth() + 1, 1);
  return `${next.getFullYear()}-${String(next.getMonth() + 1).padStart(2, "0")}`;
}

function openAdopt(candidate, trigger) {
  chosen = { candidate, weeks: shown.weeks, trigger };
  adopted.hidden = true;
  const names = { category: candidate.category.name, street: candidate.street.name };
  adoptForm.reset();
  lead.clear();
  clearErrors(adoptForm);
  document.getElementById("adopt-cluster").textContent = fmt("adopt_cluster", {
    ...names, weeks: shown.weeks, count: num(candidate.count),
  });
  adoptForm.elements.title.value = fmt("adopt_title", names);
  adoptForm.elements.month.value = nextMonth();
  adoptForm.elements.problem.value = fmt("adopt_problem", {
    ...names,
    weeks: shown.weeks,
    from: shown.period.from,
    to: shown.period.to,
    count: num(candidate.count),
    previous: num(candidate.previous),
    repeats: num(candidate.repeat_complainants),
    rate: pct(candidate.satisfaction_rate),
  });
  dialog.show();
}

table.addEventListener("click", (event) => {
  const button = event.target.closest("[data-adopt]");
  if (button) openAdopt(shown.results[Number(button.dataset.adopt)], button);
});
dialogNode.addEventListener("shown.bs.modal", () => adoptForm.elements.title.focus());
dialogNode.addEventListener("hidden.bs.modal", () => {
  if (!adopted.hidden) adopted.focus();
  else if (chosen?.trigger && document.contains(chosen.trigger)) chosen.trigger.focus();
});

adoptForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(adoptForm);
  const { elements } = adoptForm;
  const unit = await lead.settle();
  if (!unit) {
    showErrors(adoptForm, fieldError("lead_unit", t("unit_not_found")));
    return;
  }
  if (!/^\d{4}-\d{2}$/.test(elements.month.value.trim())) {
    showErrors(adoptForm, fieldError("month", t("month_required")));
    return;
  }
  const submit = adoptForm.querySelector("[data-submit]");
  submit.disabled = true;
  try {
    const topic = await api("/api/v1/topics/candidates/adopt/", {
      method: "POST",
      body: {
        title: elements.title.value,
        month: `${elements.month.value.trim()}-01`,
        theme: elements.theme.value,
        lead_unit: unit.id,
        problem: elements.problem.value,
        category: chosen.candidate.category.id,
        street: chosen.candidate.street.id,
        weeks: chosen.weeks,
      },
    });
    adopted.replaceChildren(
      fmt("adopted", { title: topic.title, n: num(topic.cases.length) }), " ",
      el("a", { href: `/dashboard/topics/${topic.id}/` }, t("adopted_link")),
    );
    adopted.hidden = false;
    dialog.hide();
  } catch (error) {
    showErrors(adoptForm, error);
    showMoreErrors(adoptForm, error);
  } finally {
    submit.disabled = false;
  }
});
form.elements.weeks.addEventListener("change", load);
load();
