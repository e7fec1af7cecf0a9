// 月通报: the print button (the page's print CSS hides the navigation and fits A4), and for the
// committee the draft's editor: save (PATCH) and publish (POST …/publish/), then show the page
// as the server renders it now.

import { api, clearErrors, showErrors, t } from "./api.js";

for (const button of document.querySelectorAll("[data-print]")) {
  button.addEventListener("click", () => window.print());
}

const form = document.getElementById("bulletin-form");
if (form) {
  const path = `/api/v1/bulletins/${form.dataset.bulletin}/`;
  const status = document.getElementById("bulletin-status");
  const buttons = form.querySelectorAll("button");

  async function save(publish) {
    clearErrors(form);
    status.textContent = "";
    buttons.forEach((b) => { b.disabled = true; });
    try {
      const body = { title: form.elements.title.value, body: form.elements.body.value };
      await api(path, { method: "PATCH", body });
      if (publish) await api(`${path}publish/`, { method: "POST", body: {} });
      sessionStorage.setItem("xn-bulletin-done", t(publish ? "published" : "saved"));
      window.location.reload();
    } catch (error) {
      showErrors(form, error);
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    save(false);
  });
  form.querySelector("[data-publish]").addEventListener("click", () => save(true));
}

// What the last save did, said once after the reload.
const done = sessionStorage.getItem("xn-bulletin-done");
if (done) {
  sessionStorage.removeItem("xn-bulletin-done");
  const note = document.getElementById("bulletin-status") || document.getElementById("bulletin-done");
  if (note) note.textContent = done;
}
