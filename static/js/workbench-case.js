// The case page: every field as the API returns it (masked per role), photos, the timeline, the
// running deadline, and one button per allowed action, each opening its dialog.

import { api, clearErrors, formatTime, showErrors, t } from "./api.js";
import { el, fmt } from "./ui.js";
import {
  deadlineBadge, fieldError, formBody, label, runningDeadline, showMoreErrors,
  supervisionBadge, unitPicker,
} from "./workbench-common.js";
import { categoryPath, reasons, unsureNote, worthShowing } from "./category-suggest.js";
import { findArticles, listArticles } from "./knowledge.js";

const root = document.getElementById("case-root");
const caseId = root.dataset.caseId;
const base = `/api/v1/cases/${caseId}/`;
const flashBox = document.getElementById("case-flash");
const errorBox = document.getElementById("case-error");

let current = null;
let events = [];
let categories = null;

// --- loading and rendering -----------------------------------------------------------------

async function load() {
  try {
    [current, events] = await Promise.all([api(base), api(`${base}events/`)]);
  } catch (error) {
    errorBox.textContent = error.status === 404 ? t("not_found") : error.message || t("error");
    errorBox.hidden = false;
    document.getElementById("case-loading").hidden = true;
    return;
  }
  errorBox.hidden = true;
  render();
}

function valueAt(object, path) {
  return path.split(".").reduce((value, key) => (value == null ? value : value[key]), object);
}

function isEmpty(value) {
  return value === null || value === undefined || value === "" || value === false || value === 0
    || (Array.isArray(value) && value.length === 0);
}

function show(node, value) {
  if (node.dataset.time !== undefined) return value ? formatTime(value) : "—";
  if (node.dataset.choice) return value ? label(node.dataset.choice, value) : "—";
  if (node.dataset.flag) return value ? t(node.dataset.flag) : t("no");
  if (node.dataset.names !== undefined) {
    return Array.isArray(value) && value.length ? value.map((u) => u.name).join(t("sep")) : t("none");
  }
  return isEmpty(value) && value !== 0 ? "—" : String(value);
}

function render() {
  document.getElementById("case-loading").hidden = true;
  document.getElementById("case-body").hidden = false;
  document.title = `${current.tracking_code} · ${document.title.split(" · ").slice(-1)[0]}`;
  for (const node of root.querySelectorAll("[data-field]")) {
    const value = valueAt(current, node.dataset.field);
    node.textContent = show(node, value);
    const row = node.closest("[data-row]");
    if (row) row.hidden = isEmpty(value);
  }
  const title = root.querySelector('[data-field="title"]');
  title.hidden = !current.title;
  renderDeadline();
  const supervision = document.getElementById("case-supervision");
  supervision.replaceChildren(t("supervision_prefix"), supervisionBadge(current.supervision_level));
  renderPhotos(document.getElementById("case-photos"), current.attachments, true);
  renderActions();
  renderTimeline();
}

function renderDeadline() {
  const box = document.getElementById("case-deadline");
  const running = runningDeadline(current);
  box.hidden = !running;
  if (!running) {
    box.replaceChildren();
    return;
  }
  const item = (kind, due, start) => el("span", { class: "me-3 text-nowrap" },
    t(`deadline.${kind}`), t("colon"), deadlineBadge(due, start));
  const parts = [item(running.kind, running.due, running.start)];
  if (current.status !== "submitted" && current.contact_by && !current.contacted_at) {
    parts.push(item("contact", current.contact_by, current.dispatched_at));
  }
  box.replaceChildren(...parts);
}

function renderPhotos(list, attachments, sayEmpty) {
  list.replaceChildren();
  for (const file of attachments || []) {
    const link = el("a", { href: file.url, title: fmt("open_file", { name: file.original_name }) });
    if (file.content_type.startsWith("image/")) {
      link.append(el("img", { src: file.url, alt: file.original_name, loading: "lazy" }));
    } else {
      link.classList.add("xn-file");
      link.textContent = file.original_name;
    }
    list.append(el("li", {}, link));
  }
  if (!list.children.length && sayEmpty) list.append(el("li", { class: "small", text: t("no_photos") }));
}

function renderActions() {
  const box = document.getElementById("case-actions");
  box.replaceChildren();
  for (const dialog of document.querySelectorAll("[data-action]")) {
    const name = dialog.dataset.action;
    if (!current.allowed_actions.includes(name)) continue;
    box.append(el("button", {
      type: "button",
      class: `btn btn-${dialog.dataset.style}`,
      "aria-haspopup": "dialog",
      dataset: { openAction: name },
      text: dialog.dataset.label,
      onclick: (event) => openDialog(name, event.currentTarget),
    }));
  }
  if (!box.children.length) box.append(el("p", { class: "mb-0", text: t("no_actions") }));
}

// --- the timeline --------------------------------------------------------------------------

const DETAIL_KEYS = [
  "channel", "category", "duty_level", "dispatch_region", "is_complex", "duplicate_of", "into", "lead_unit", "co_units",
  "resolve_by", "unit", "escalated_to", "method", "outcome", "rating", "reason", "text", "reply",
  "comment", "until", "due_at", "from", "to", "unreasonable", "not_evaluated", "public",
  "on_time", "note",
];
const FLAGS = new Set(["is_complex", "public", "unreasonable", "not_evaluated"]);
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

function detailValue(event, key, value) {
  if (value === null || value === undefined || value === "") return null;
  if (FLAGS.has(key)) return value ? t("yes") : null;
  if (key === "on_time") return value ? t("on_time") : t("late");
  if (key === "approved") return value ? t("approved") : t("refused");
  if (Array.isArray(value)) return value.length ? value.join(t("sep")) : null;
  if (key === "channel") return label("channel", value);
  if (key === "duty_level") return label("duty_level", value);
  if (key === "method") return label("contact", value);
  if (key === "outcome") return label("outcome", value);
  if (key === "rating") return label("rating", value);
  if (key === "reason" && event.type === "reject") return label("reject_reason", value);
  if (key === "unit" && value === event.unit?.name) return null;
  if (typeof value === "string" && ISO.test(value)) return formatTime(value);
  return String(value);
}

function eventDetails(event) {
  const payload = event.payload || {};
  let pairs;
  if (event.type === "decide_extension") {
    pairs = [["p.approved", detailValue(event, "approved", payload.approved)],
      ["p.until", payload.approved ? detailValue(event, "until", payload.to) : null],
      ["p.note", detailValue(event, "note", payload.note)]];
  } else {
    // 退回审批 leads with its answer; its other details read as a 退回's.
    const keys = event.type === "decide_return" ? ["approved", ...DETAIL_KEYS] : DETAIL_KEYS;
    pairs = keys.filter((key) => key in payload)
      .map((key) => [`p.${key}`, detailValue(event, key, payload[key])]);
  }
  const dl = el("dl", { class: "xn-event-details" });
  for (const [key, value] of pairs) {
    if (value === null) continue;
    dl.append(el("div", {}, el("dt", { text: `${t(key)}${t("colon")}` }), el("dd", { text: value })));
  }
  return dl.children.length ? dl : null;
}

function renderTimeline() {
  const list = document.getElementById("case-timeline");
  list.replaceChildren();
  for (const event of events) {
    const title = el("div", { class: "xn-event-title", text: event.type_display });
    if (event.to_status && event.to_status !== event.from_status) {
      title.append(" ", el("span", { class: "badge text-bg-light border", text: `→ ${label("status", event.to_status)}` }));
    }
    const who = [formatTime(event.created_at), event.actor, event.unit?.name].filter(Boolean);
    const photos = el("ul", { class: "xn-photos mt-1" });
    renderPhotos(photos, event.attachments, false);
    list.append(el("li", { dataset: { eventType: event.type } },
      title,
      el("div", { class: "xn-event-meta", text: who.join(" · ") }),
      eventDetails(event),
      photos.children.length ? photos : null,
    ));
  }
  if (!events.length) list.append(el("li", { text: t("no_events") }));
}

// --- dialogs -------------------------------------------------------------------------------

const dialogs = new Map();

function flash(text) {
  flashBox.textContent = text;
  flashBox.hidden = false;
}

async function loadCategories() {
  if (!categories) categories = await api("/api/v1/categories/");
  return categories;
}

async function fillCategories(select) {
  const list = await loadCategories();
  const first = select.dataset.categories === "keep"
    ? fmt("keep_category", { name: current.category.name })
    : t("choose_category");
  const names = new Map(list.map((c) => [c.id, c.name]));
  const kept = select.value;
  select.replaceChildren(el("option", { value: "", text: first }));
  for (const category of list) {
    const name = category.parent ? `${names.get(category.parent)} › ${category.name}` : category.name;
    select.append(el("option", { value: category.id, text: name }));
  }
  select.value = kept;
}

// What each dialog prepares when it opens (defaults, data it needs) and how it builds its body.
const prepare = {
  accept(form, fresh) {
    if (fresh) form.elements.urgency.value = current.urgency;
    return fillCategories(form.elements.category).then(() => loadCategoryGuesses(form));
  },
  recategorise(form) {
    return fillCategories(form.elements.category);
  },
  dispatch(form) {
    return loadSuggestions(form);
  },
  reply(form) {
    return loadTemplates(form);
  },
  // 知识库: the articles that answer the case's words; one chosen fills the reply.
  async resolve_at_intake(form) {
    const box = document.getElementById("resolve-knowledge");
    form.elements.article.value = "";
    box.replaceChildren(el("p", { class: "small mb-0", text: t("loading") }));
    const hits = await findArticles(`${current.title || ""} ${current.description || ""}`, {
      category: current.category?.id, region: current.region?.id,
    });
    listArticles(box, hits, (article) => {
      form.elements.reply.value = article.answer;
      form.elements.article.value = String(article.id);
    });
  },
  decide_extension() {
    const request = [...events].reverse().find((e) => e.type === "request_extension");
    document.getElementById("decide-pending").textContent = request
      ? fmt("pending_extension", { until: formatTime(request.payload.until), reason: request.payload.reason })
      : t("no_pending_extension");
  },
  decide_return(form) {
    // The unit's request as the case detail gives it to staff (pending_return).
    const request = current.pending_return || {};
    for (const node of form.querySelectorAll("[data-pending-return]")) {
      const value = request[node.dataset.pendingReturn];
      node.textContent = node.dataset.pendingReturn === "created_at" && value ? formatTime(value) : value || "—";
    }
  },
  reassign() {
    document.getElementById("reassign-current").textContent = current.lead_unit?.name || "—";
    const co = current.co_units.map((unit) => unit.name);
    document.getElementById("reassign-co").textContent = co.length ? co.join(t("sep")) : t("none");
  },
  close(form) {
    form.querySelector("[data-review-only]").hidden = current.status !== "review";
  },
  merge(form) {
    return loadMergeTargets(form.elements.into);
  },
};

const build = {
  async dispatch() {
    const lead = await dispatch.lead.settle();
    if (lead === undefined) throw fieldError("lead_unit", t("unit_not_found"));
    const body = { co_units: dispatch.co.map((unit) => unit.id) };
    if (lead) body.lead_unit = lead.id;
    const note = document.getElementById("dispatch-note").value.trim();
    if (note) body.note = note;
    return body;
  },
  // 改派 moves the lead unit; the co-units stay as they are.
  async reassign() {
    const lead = await reassignLead.settle();
    if (lead === undefined) throw fieldError("lead_unit", t("unit_not_found"));
    const body = { co_units: current.co_units.map((unit) => unit.id).filter((id) => id !== lead?.id) };
    if (lead) body.lead_unit = lead.id;
    const note = document.getElementById("reassign-note").value.trim();
    if (note) body.note = note;
    return body;
  },
  reply(form) {
    const data = new FormData();
    for (const name of ["outcome", "text"]) {
      const value = form.elements[name].value.trim();
      if (value) data.append(name, value);
    }
    for (const file of form.elements.evidence.files) data.append("evidence", file);
    return data;
  },
};

function openDialog(name, trigger) {
  const dialog = dialogs.get(name);
  const { form } = dialog;
  dialog.trigger = trigger;
  dialog.done = false;
  const { fresh } = dialog;
  if (fresh) {
    form.reset();
    if (name === "dispatch") resetDispatch();
    if (name === "reassign") reassignLead.clear();
    dialog.fresh = false;
  }
  clearErrors(form);
  Promise.resolve(prepare[name]?.(form, fresh)).catch((error) => showErrors(form, error));
  dialog.modal.show();
}

function firstField(form) {
  return [...form.querySelectorAll(".modal-body input, .modal-body select, .modal-body textarea")]
    .find((field) => !field.disabled && field.type !== "hidden" && field.offsetParent !== null)
    || form.querySelector("[data-submit]");
}

for (const node of document.querySelectorAll("[data-action]")) {
  const name = node.dataset.action;
  const form = node.querySelector("form");
  const dialog = {
    node, form, name, fresh: true, done: false, trigger: null, typing: null,
    modal: new bootstrap.Modal(node),
    path: node.dataset.path,
    label: node.dataset.label,
  };
  dialogs.set(name, dialog);
  // Focus the first field once the dialog has faded in, unless the user has already moved into
  // a field: on a slow machine the fade ends after they typed on, and Bootstrap's focus trap
  // focuses the dialog itself just before "shown", so document.activeElement cannot tell. We
  // remember the field they were in instead; sending the focus back to the first field made
  // their next Enter submit the form rather than add a co-unit.
  node.addEventListener("show.bs.modal", () => {
    dialog.typing = null;
  });
  form.addEventListener("focusin", (event) => {
    if (event.target.matches("input, select, textarea")) dialog.typing = event.target;
  });
  node.addEventListener("shown.bs.modal", () => {
    const field = dialog.typing && form.contains(dialog.typing) ? dialog.typing : firstField(form);
    field?.focus();
  });
  node.addEventListener("hidden.bs.modal", () => {
    if (dialog.done) {
      flashBox.focus();
    } else if (dialog.trigger && document.contains(dialog.trigger)) {
      dialog.trigger.focus();
    } else {
      document.querySelector("[data-open-action]")?.focus();
    }
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    let body;
    try {
      body = build[name] ? await build[name](form) : formBody(form);
    } catch (problem) {
      showErrors(form, problem);
      showMoreErrors(form, problem);
      return;
    }
    const submit = form.querySelector("[data-submit]");
    submit.disabled = true;
    try {
      await api(`${base}${dialog.path}/`, { method: "POST", body });
    } catch (error) {
      showErrors(form, error);
      showMoreErrors(form, error);
      submit.disabled = false;
      // Someone else acted first: show the case as it is now behind the dialog.
      if (error.status === 409) load();
      return;
    }
    submit.disabled = false;
    dialog.done = true;
    dialog.fresh = true;
    flash(fmt("action_done", { action: dialog.label }));
    await load();
    dialog.modal.hide();
  });
}

// --- the dispatch dialog: suggestions, duplicates, unit pickers --------------------------------

// Both pickers offer only the units this dispatcher may send the case to (派单范围): their own
// area's and those the 权责清单 names; the server refuses any other.
const dispatch = {
  lead: unitPicker(
    document.getElementById("dispatch-lead"),
    document.getElementById("dispatch-lead-options"),
    { url: `${base}dispatch-units/` },
  ),
  coPicker: unitPicker(
    document.getElementById("dispatch-co"),
    document.getElementById("dispatch-co-options"),
    { url: `${base}dispatch-units/` },
  ),
  co: [],
};

// 改派 offers the same units as 派单.
const reassignLead = unitPicker(
  document.getElementById("reassign-lead"),
  document.getElementById("reassign-lead-options"),
  { url: `${base}dispatch-units/` },
);

function resetDispatch() {
  dispatch.lead.clear();
  dispatch.coPicker.clear();
  dispatch.co = [];
  renderCoUnits();
}

function renderCoUnits() {
  const list = document.getElementById("dispatch-co-list");
  list.replaceChildren();
  for (const unit of dispatch.co) {
    list.append(el("li", { dataset: { unitId: unit.id } }, unit.name, el("button", {
      type: "button",
      "aria-label": fmt("co_remove", { name: unit.name }),
      text: "×",
      onclick: () => {
        dispatch.co = dispatch.co.filter((u) => u.id !== unit.id);
        renderCoUnits();
        document.getElementById("dispatch-co").focus();
      },
    })));
  }
  if (!dispatch.co.length) list.append(el("li", { class: "xn-muted border-0 bg-transparent ps-0", text: t("co_none") }));
}

async function addCoUnit() {
  const form = dialogs.get("dispatch").form;
  const unit = await dispatch.coPicker.settle();
  if (unit === undefined) {
    const problem = fieldError("co_units", t("unit_not_found"));
    showErrors(form, problem);
    return;
  }
  if (!unit) return;
  if (!dispatch.co.some((u) => u.id === unit.id)) dispatch.co.push(unit);
  dispatch.coPicker.clear();
  renderCoUnits();
  // The picker's own "choose from the list" is answered now; an error the server gave stays.
  const alert = form.querySelector("[data-form-alert]");
  if (alert && !alert.hidden && alert.textContent === t("unit_not_found")) clearErrors(form);
}

document.getElementById("dispatch-co-add").addEventListener("click", addCoUnit);
document.getElementById("dispatch-co").addEventListener("keydown", (event) => {
  if (event.key === "Enter") {
    event.preventDefault();
    addCoUnit();
  }
});

function useLearned(unit, button) {
  dispatch.lead.set({ id: unit.id, name: unit.name });
  pressOnly(button);
}

function pressOnly(button) {
  for (const other of document.querySelectorAll(".xn-suggestion")) {
    other.classList.toggle("xn-picked", other === button);
    other.setAttribute("aria-pressed", String(other === button));
  }
}

// --- the accept dialog: the categories the case's words suggest, each with its reasons -------

// The case's suggestions (both dialogs read them); null, with the reason in `box`, if none came.
async function fetchSuggestions(box) {
  box.replaceChildren(el("p", { class: "small mb-0", text: t("loading") }));
  try {
    return await api(`${base}suggestions/`);
  } catch (error) {
    box.replaceChildren(el("p", { class: "small mb-0", text: error.message }));
    return null;
  }
}

async function loadCategoryGuesses(form) {
  const box = document.getElementById("accept-suggestions");
  const hidden = form.elements.suggested_category;
  hidden.value = "";
  const data = await fetchSuggestions(box);
  if (!data) return;
  const select = form.elements.category;
  const offered = new Set([...select.options].map((option) => option.value));
  const rows = worthShowing(data.categories.suggestions.filter((row) => offered.has(String(row.category.id))));
  box.replaceChildren();
  const note = unsureNote(data.categories);
  if (note) box.append(note);
  const taken = select.value || String(current.category.id); // "" keeps the case's category
  for (const row of rows) {
    const button = el("button", {
      type: "button",
      class: `list-group-item list-group-item-action xn-category-guess${taken === String(row.category.id) ? " xn-picked" : ""}`,
      "aria-pressed": String(taken === String(row.category.id)),
      dataset: { categoryId: row.category.id },
    },
    el("span", { class: "fw-semibold", text: categoryPath(row.category) }),
    row.category.id === current.category.id ? el("span", { class: "ms-2 small", text: t("suggest_current") }) : null,
    el("span", { class: "d-block small xn-muted", text: reasons(row) }));
    button.addEventListener("click", () => {
      select.value = String(row.category.id);
      select.dispatchEvent(new Event("change", { bubbles: true }));
    });
    box.append(button);
  }
  if (!rows.length) box.append(el("p", { class: "small mb-0", text: t("suggest_none") }));
  hidden.value = rows.length ? String(rows[0].category.id) : "";
}

// The category select and the suggestions agree on which one is taken.
document.getElementById("accept-category")?.addEventListener("change", (event) => {
  const value = event.target.value || String(current.category.id);
  for (const button of document.querySelectorAll(".xn-category-guess")) {
    button.classList.toggle("xn-picked", button.dataset.categoryId === value);
    button.setAttribute("aria-pressed", String(button.dataset.categoryId === value));
  }
});

function useSuggestion(suggestion, button) {
  dispatch.lead.set(suggestion.unit);
  dispatch.co = suggestion.co_units.map((unit) => ({ ...unit }));
  renderCoUnits();
  pressOnly(button);
}

async function loadSuggestions() {
  const box = document.getElementById("dispatch-suggestions");
  const duplicates = document.getElementById("dispatch-duplicates");
  const learned = document.getElementById("dispatch-learned");
  duplicates.replaceChildren();
  learned.replaceChildren();
  const data = await fetchSuggestions(box);
  if (!data) return;
  // 智能派单: the units that answered cases of this category nearby to the complainant's
  // satisfaction; a click makes one the lead unit (the co-units stay as chosen).
  for (const unit of data.learned_units) {
    const button = el("button", {
      type: "button",
      class: "list-group-item list-group-item-action xn-suggestion",
      "aria-pressed": "false",
      dataset: { unitId: unit.id },
    },
    el("span", { class: "fw-semibold", text: unit.name }),
    el("span", { class: "d-block small xn-muted", text: fmt("learned_reason", { n: unit.cases, share: Math.round(unit.share * 100) }) }));
    button.addEventListener("click", () => useLearned(unit, button));
    learned.append(button);
  }
  if (!data.learned_units.length) learned.append(el("p", { class: "small mb-0", text: t("learned_none") }));
  box.replaceChildren();
  for (const suggestion of data.lead_units) {
    const co = suggestion.co_units.map((unit) => unit.name).join(t("sep"));
    const button = el("button", {
      type: "button",
      class: "list-group-item list-group-item-action xn-suggestion",
      "aria-pressed": "false",
      dataset: { unitId: suggestion.unit.id },
    },
    el("span", { class: "fw-semibold", text: suggestion.unit.name }),
    co ? el("span", { class: "ms-2 small", text: fmt("suggestion_co", { units: co }) }) : null,
    el("span", { class: "d-block small xn-muted", text: suggestion.reason }));
    button.addEventListener("click", () => useSuggestion(suggestion, button));
    box.append(button);
  }
  if (!data.lead_units.length) box.append(el("p", { class: "small mb-0", text: t("no_suggestions") }));
  for (const item of data.possible_duplicates) {
    duplicates.append(el("li", {},
      el("a", { href: `/workbench/cases/${item.id}/`, target: "_blank", rel: "noopener", class: "xn-code", text: item.tracking_code }),
      ` ${item.title || item.category?.name || ""} · ${item.status_display} · ${formatTime(item.created_at)}`,
    ));
  }
  if (!data.possible_duplicates.length) duplicates.append(el("li", { text: t("no_duplicates") }));
}

// --- the merge dialog: the possible duplicates not yet replied are the main cases offered ------

const MERGE_TARGETS = new Set(["submitted", "accepted", "dispatched", "handling"]);

async function loadMergeTargets(select) {
  const kept = select.value;
  const data = await api(`${base}suggestions/`);
  const targets = data.possible_duplicates.filter((item) => MERGE_TARGETS.has(item.status));
  select.replaceChildren(el("option", { value: "", text: targets.length ? t("merge_choose") : t("merge_none") }));
  for (const item of targets) {
    const what = item.title || item.category?.name || "";
    select.append(el("option", {
      value: item.id,
      text: `${item.tracking_code} ${what} · ${item.status_display} · ${formatTime(item.created_at)}`,
    }));
  }
  select.value = kept;
}

// --- the reply dialog: canned replies fill the text ------------------------------------------

let replyTemplates = [];

async function loadTemplates(form) {
  const select = form.elements.template;
  replyTemplates = await api("/api/v1/reply-templates/", { params: { category: current.category.id } });
  select.replaceChildren(el("option", {
    value: "", text: replyTemplates.length ? t("choose_template") : t("no_templates"),
  }));
  for (const item of replyTemplates) select.append(el("option", { value: item.id, text: item.title }));
}

document.getElementById("reply-template").addEventListener("change", (event) => {
  const chosen = replyTemplates.find((item) => String(item.id) === event.target.value);
  if (chosen) document.getElementById("reply-text").value = chosen.text;
});

// --- start ---------------------------------------------------------------------------------

load();
setInterval(() => { if (current) renderDeadline(); }, 30000);
