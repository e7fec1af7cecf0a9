// 消息设置: one row per kind of staff message from GET /api/v1/notifications/preferences/; the
// inbox is always on, e-mail and SMS are the user's choice, saved at once with PUT.

import { api, clearErrors, showErrors, t } from "./api.js";
import { el, fmt } from "./ui.js";

const form = document.getElementById("preferences-form");
const body = document.querySelector("#preferences-table tbody");
const status = document.getElementById("preferences-status");

function render(rows) {
  body.replaceChildren(...rows.map((row) => el("tr", { dataset: { kind: row.kind } },
    el("th", { scope: "row" }, row.title),
    el("td", {}, el("input", { class: "form-check-input", type: "checkbox", checked: true, disabled: true, "aria-label": row.title })),
    el("td", {}, el("input", {
      class: "form-check-input", type: "checkbox", name: "email", checked: row.email,
      "aria-label": fmt("email_of", { kind: row.title }),
    })),
    el("td", {}, el("input", {
      class: "form-check-input", type: "checkbox", name: "sms", checked: row.sms,
      "aria-label": fmt("sms_of", { kind: row.title }),
    })))));
}

async function load() {
  status.textContent = t("loading");
  render(await api("/api/v1/notifications/preferences/"));
  status.textContent = "";
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(form);
  status.textContent = "";
  const rows = [...body.querySelectorAll("tr")].map((row) => ({
    kind: row.dataset.kind,
    email: row.querySelector('[name="email"]').checked,
    sms: row.querySelector('[name="sms"]').checked,
  }));
  try {
    render(await api("/api/v1/notifications/preferences/", { method: "PUT", body: rows }));
    status.textContent = t("saved");
  } catch (error) {
    showErrors(form, error);
  }
});

load().catch((error) => { status.textContent = error.message || t("error"); });
