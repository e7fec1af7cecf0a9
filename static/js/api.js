// xining-issues: the one way the pages talk to the REST API.
// Every call sends the CSRF token and the session cookie, and every error comes back in the
// API's shape {code, message, fields}, so a page can show the message and mark the fields.

export function cookie(name) {
  const match = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
  return match ? decodeURIComponent(match[1]) : "";
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body.message || String(status));
    this.status = status;
    this.code = body.code || "error";
    this.fields = body.fields || {};
  }
}

// GET (params: object of query parameters) or POST (body: object → JSON, FormData as is).
export async function api(path, { method = "GET", params, body } = {}) {
  const url = new URL(path, window.location.origin);
  if (params) {
    for (const [key, value] of Object.entries(params)) {
      if (value === undefined || value === null || value === "") continue;
      for (const item of Array.isArray(value) ? value : [value]) url.searchParams.append(key, item);
    }
  }
  const headers = { Accept: "application/json", "X-CSRFToken": cookie("csrftoken") };
  let payload;
  if (body instanceof FormData) {
    payload = body;
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, { method, headers, body: payload, credentials: "same-origin" });
  } catch (error) {
    throw new ApiError(0, { code: "network", message: t("network", "网络连接失败，请稍后重试。") });
  }
  const text = await response.text();
  let data = {};
  try {
    data = text ? JSON.parse(text) : {};
  } catch (error) {
    data = { message: response.statusText };
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

// Show an ApiError on a form: the message in the form's alert box, each field's messages
// beside the field (an element with data-error-for="<field>"), fields marked invalid.
export function showErrors(form, error) {
  clearErrors(form);
  const alert = form.querySelector("[data-form-alert]");
  if (alert) {
    alert.textContent = error.message;
    alert.hidden = false;
  }
  for (const [field, messages] of Object.entries(error.fields || {})) {
    const slot = form.querySelector(`[data-error-for="${field}"]`);
    if (slot) {
      slot.textContent = messages.join(" ");
      slot.hidden = false;
    }
    for (const input of form.querySelectorAll(`[name="${field}"]`)) {
      input.classList.add("is-invalid");
      input.setAttribute("aria-invalid", "true");
    }
  }
  const first = form.querySelector(".is-invalid") || alert;
  if (first && first.focus) first.focus();
}

export function clearErrors(form) {
  for (const slot of form.querySelectorAll("[data-error-for]")) {
    slot.textContent = "";
    slot.hidden = true;
  }
  for (const input of form.querySelectorAll(".is-invalid")) {
    input.classList.remove("is-invalid");
    input.removeAttribute("aria-invalid");
  }
  const alert = form.querySelector("[data-form-alert]");
  if (alert) alert.hidden = true;
}

// Text for the pages' scripts is translated on the server: the page view's ``texts`` dict is
// rendered with json_script as #xn-text, so no user-facing string is hard-coded in JS.
let texts = null;
export function t(key, fallback = "") {
  if (texts === null) {
    const node = document.getElementById("xn-text");
    texts = node ? JSON.parse(node.textContent) : {};
  }
  return texts[key] || fallback || key;
}

export function formatTime(iso) {
  if (!iso) return "";
  const lang = document.documentElement.lang || "zh-hans";
  return new Intl.DateTimeFormat(lang === "en" ? "en-GB" : "zh-CN", {
    timeZone: "Asia/Shanghai",
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
  }).format(new Date(iso));
}
