// 未诉先办: clusters of category × street that grow, with counts, growth, repeat complainants,
// low satisfaction and the evidence (sample cases, weekly trend).

import { api, clearErrors, escapeHtml, showErrors, t } from "./api.js";
import { chart, fill, num, pct } from "./dashboard-common.js";

const form = document.getElementById("cand-form");
const table = document.getElementById("cand-table");
const summary = document.getElementById("cand-summary");

function render(data) {
  const rows = data.results;
  summary.textContent = fill(t("summary"), {
    weeks: data.weeks, from: data.period.from, to: data.period.to, n: rows.length,
  });
  const body = table.tBodies[0];
  if (!rows.length) {
    body.innerHTML = `<tr><td colspan="10" class="xn-muted">${escapeHtml(t("no_data"))}</td></tr>`;
  } else {
    body.innerHTML = rows.map((r) => `<tr>
      <th scope="row">${escapeHtml(r.category.name)}</th>
      <td>${escapeHtml(r.street.name)}</td>
      <td>${escapeHtml(num(r.count))}</td>
      <td>${escapeHtml(num(r.previous))}</td>
      <td>${escapeHtml(r.growth === null ? t("new_growth") : pct(r.growth))}</td>
      <td>${escapeHtml(num(r.repeat_complainants))}</td>
      <td>${escapeHtml(pct(r.satisfaction_rate))}</td>
      <td>${escapeHtml(num(r.score))}</td>
      <td class="xn-figure">${escapeHtml(r.weekly.map((w) => w.count ?? w).join(" → "))}</td>
      <td>${r.sample_cases.map((c) => `<a class="xn-code" href="/workbench/cases/${c.id}/" title="${escapeHtml(c.title)}">${escapeHtml(c.tracking_code)}</a>`).join("<br>")}</td>
    </tr>`).join("");
  }
  const top = rows.slice(0, 5);
  const weeks = top.length ? top[0].weekly.map((w, i) => w.start || fill(t("week_n"), { n: i + 1 })) : [];
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
    fill(t("weekly_chart"), {
      n: top.length,
      summary: top.length ? top.map((r) => `${name(r)} ${r.weekly.map((w) => w.count ?? w).join("/")}`).join("；") : t("no_data"),
    }),
  );
}

async function load() {
  clearErrors(form);
  try {
    render(await api("/api/v1/topics/candidates/", { params: { weeks: form.elements.weeks.value } }));
  } catch (error) {
    showErrors(form, error);
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  load();
});
form.elements.weeks.addEventListener("change", load);
load();
