// 日报/周报: the print button of a report, and on the list the committee's "立即生成" form
// (POST /api/v1/stats/reports/), which then opens the report it wrote.

import { api, clearErrors, showErrors, t } from "./api.js";
import { formBody } from "./workbench-common.js";

for (const button of document.querySelectorAll("[data-print]")) {
  button.addEventListener("click", () => window.print());
}

const form = document.getElementById("report-generate");
if (form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      const report = await api("/api/v1/stats/reports/", { method: "POST", body: formBody(form) });
      document.getElementById("report-generated").textContent = t("generated");
      window.location.assign(`/dashboard/reports/${report.id}/`);
    } catch (error) {
      showErrors(form, error);
      button.disabled = false;
    }
  });
}
