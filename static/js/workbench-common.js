// xining-issues workbench: helpers the queue, case and quick-entry pages share.
// Every user-facing string comes from the page's texts (#xn-text) through t().

import { api, t } from "./api.js";
import { el, fmt } from "./ui.js";

// The label of a model choice, e.g. label("channel", "phone") → "12345热线".
export function label(prefix, value) {
  if (value === null || value === undefined || value === "") return "";
  const key = `${prefix}.${value}`;
  const text = t(key);
  return text === key ? String(value) : text;
}

// --- deadlines ---------------------------------------------------------------------------------

const HOUR = 3600 * 1000;

// Which deadline runs now, and since when: accept_by while waiting for intake, resolve_by while
// a unit holds the case. Returns null when no clock runs. A queue row has no dispatched_at, so
// there only the 24-hour rule colours the resolve deadline (it warns early, never late).
export function runningDeadline(item) {
  if (item.status === "submitted" && item.accept_by) {
    return { kind: "accept", due: item.accept_by, start: item.created_at };
  }
  if ((item.status === "dispatched" || item.status === "handling") && item.resolve_by) {
    return { kind: "resolve", due: item.resolve_by, start: item.dispatched_at };
  }
  return null;
}

// green: more than 24 h or more than 25 % of the time left; yellow: less; red: past it.
export function deadlineState(due, start, now = Date.now()) {
  const end = new Date(due).getTime();
  const left = end - now;
  if (left <= 0) return "late";
  const total = start ? end - new Date(start).getTime() : 0;
  if (left > 24 * HOUR || (total > 0 && left / total > 0.25)) return "ok";
  return "soon";
}

export function deadlineText(due, now = Date.now()) {
  let diff = new Date(due).getTime() - now;
  const late = diff <= 0;
  diff = Math.abs(diff);
  const d = Math.floor(diff / (24 * HOUR));
  const h = Math.floor((diff % (24 * HOUR)) / HOUR);
  const m = Math.floor((diff % HOUR) / 60000);
  if (late) return d > 0 ? fmt("due_over_days", { d, h }) : fmt("due_over_hours", { h, m });
  if (d > 0) return fmt("due_left_days", { d, h });
  if (h > 0) return fmt("due_left_hours", { h, m });
  return fmt("due_left_minutes", { m });
}

const STATE_CLASS = { ok: "text-bg-success", soon: "text-bg-warning", late: "text-bg-danger" };

// A badge with the time left in words and its colour; the colour is never the only signal.
export function deadlineBadge(due, start) {
  const state = deadlineState(due, start);
  return el("span", {
    class: `badge xn-due ${STATE_CLASS[state]}`,
    dataset: { due, state },
    title: t(`due_${state}`),
    text: deadlineText(due),
  });
}

const SUPERVISION_CLASS = {
  on_time: "text-bg-light border",
  warning: "text-bg-warning",
  overdue: "text-bg-danger",
  supervised: "text-bg-danger",
};

export function supervisionBadge(level) {
  return el("span", {
    class: `badge ${SUPERVISION_CLASS[level] || "text-bg-secondary"}`,
    dataset: { supervision: level },
    text: label("supervision", level),
  });
}

// --- a unit picker: a text input with a datalist filled from /api/v1/units/?name= --------------
// (or from ``url``, any list of units in the same shape: the dispatch dialog's
// /api/v1/cases/<id>/dispatch-units/ offers only the units the dispatcher may send the case to).

function unitLabel(unit) {
  return unit.region_name ? fmt("unit_label", { name: unit.name, region: unit.region_name }) : unit.name;
}

// Returns {get(), settle(), set(unit), clear()}; ``get`` is the chosen {id, name} or null, and
// undefined when the typed text matches no unit; ``settle`` searches first (typed fast, sent
// before the search answered).
export function unitPicker(input, datalist, { onChange, url = "/api/v1/units/" } = {}) {
  const byLabel = new Map();
  let chosen = null;
  let timer = null;
  let found = { name: null, units: [] }; // the last search: what was typed, what matched

  // The exact label or name; else the one unit a search for exactly this text found.
  function match() {
    const text = input.value.trim();
    if (!text) {
      chosen = null;
    } else if (byLabel.has(text)) {
      chosen = byLabel.get(text);
    } else {
      const sameName = [...byLabel.values()].filter((unit) => unit.name === text);
      if (sameName.length === 1) chosen = sameName[0];
      else if (found.name === text && found.units.length === 1) chosen = found.units[0];
      else chosen = undefined;
    }
    if (onChange) onChange(chosen);
  }

  async function search() {
    const name = input.value.trim();
    try {
      const data = await api(url, { params: { name, page_size: 20 } });
      const units = data.results || data;
      found = { name, units };
      datalist.replaceChildren();
      for (const unit of units) {
        const text = unitLabel(unit);
        byLabel.set(text, unit);
        datalist.append(el("option", { value: text }));
      }
      match();
    } catch (error) {
      // The picker still works with what it already knows; the form will say what is missing.
    }
  }

  input.addEventListener("input", () => {
    match();
    clearTimeout(timer);
    timer = setTimeout(search, 200);
  });
  input.addEventListener("change", match);

  return {
    get: () => chosen,
    async settle() {
      if (chosen === undefined) {
        clearTimeout(timer);
        await search();
      }
      return chosen;
    },
    set(unit) {
      const text = unit.region_name ? unitLabel(unit) : unit.name;
      byLabel.set(text, unit);
      input.value = text;
      chosen = unit;
      if (onChange) onChange(chosen);
    },
    clear() {
      input.value = "";
      chosen = null;
    },
  };
}

// --- forms -------------------------------------------------------------------------------------

// A form's values as a multipart body, without the file inputs nobody filled: a browser sends
// an empty file for them, which the API rightly refuses as "not a file".
export function formData(form) {
  const data = new FormData();
  for (const [name, value] of new FormData(form)) {
    if (value instanceof File && value.size === 0 && value.name === "") continue;
    data.append(name, value);
  }
  return data;
}

// A form's values as a JSON body: checkboxes as booleans, empty fields left out (the API says
// which are required), datetime-local as Beijing time, data-skip fields left to the page.
export function formBody(form) {
  const body = {};
  for (const field of form.elements) {
    if (!field.name || field.disabled || field.dataset.skip !== undefined) continue;
    if (field.type === "file" || field.type === "submit" || field.type === "button") continue;
    if (field.type === "checkbox") {
      body[field.name] = field.checked;
    } else if (field.type === "radio") {
      if (field.checked) body[field.name] = field.value === "true" ? true
        : field.value === "false" ? false : field.value;
    } else if (field.value.trim() !== "") {
      body[field.name] = field.type === "datetime-local" ? `${field.value}:00+08:00` : field.value;
    }
  }
  return body;
}

// Show messages of fields the form has no place for in the form's alert, so none is lost.
export function showMoreErrors(form, error) {
  const alert = form.querySelector("[data-form-alert]");
  const extra = [];
  for (const [field, messages] of Object.entries(error.fields || {})) {
    if (!form.querySelector(`[data-error-for="${field}"]`)) extra.push(...messages);
    for (const input of form.querySelectorAll(`[data-invalid-for="${field}"]`)) {
      input.classList.add("is-invalid");
      input.setAttribute("aria-invalid", "true");
    }
  }
  if (alert && extra.length) alert.textContent = `${alert.textContent} ${extra.join(" ")}`;
  const first = form.querySelector(".is-invalid");
  if (first && first.type !== "hidden" && first.focus) first.focus();
}

// A local error on one field, in the API's shape so showErrors() can show it.
export function fieldError(field, message) {
  return { message, fields: { [field]: [message] } };
}
