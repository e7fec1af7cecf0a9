// 电话登记: an operator logs a phone call with the keyboard only.
// Category and community are picked by typing a few characters (input + datalist); Enter moves
// to the next field, Ctrl+Enter submits; after a call the form is cleared for the next one.

import { api, clearErrors, formatTime, showErrors, t } from "./api.js";
import { el, fmt, newestOnly } from "./ui.js";
import { placePicker } from "./place-picker.js";
import { showMoreErrors } from "./workbench-common.js";
import { categoryPath, reasons, unsureNote, watchSuggestions, worthShowing } from "./category-suggest.js";
import { findArticles, listArticles, pickFirst } from "./knowledge.js";

const form = document.getElementById("quick-form");
const done = document.getElementById("quick-done");
const recent = document.getElementById("quick-recent");
const submit = document.getElementById("quick-submit");

const pickers = {
  category: { input: form.elements.category, options: [], chosen: null },
  region: { input: form.elements.region, options: [], chosen: null },
};

const squash = (text) => text.replace(/[\s›]+/g, "");

// The option the typed text means: the exact label, the exact last name (供暖不热, 康西社区),
// or the only option containing it. Returns {option} or {problem: "unknown" | "ambiguous"}.
function resolve(picker) {
  const typed = squash(picker.input.value);
  if (!typed) return { option: null };
  const exact = picker.options.filter((o) => squash(o.label) === typed || o.name === typed);
  if (exact.length === 1) return { option: exact[0] };
  const containing = exact.length ? exact : picker.options.filter((o) => squash(o.label).includes(typed));
  if (containing.length === 1) return { option: containing[0] };
  return { problem: containing.length ? "ambiguous" : "unknown" };
}

function settle(name) {
  const picker = pickers[name];
  const result = resolve(picker);
  const chosen = document.getElementById(`quick-${name}-chosen`);
  picker.chosen = result.option || null;
  if (result.option) {
    picker.input.value = result.option.label;
    chosen.textContent = fmt("chosen", { name: result.option.label });
  } else {
    chosen.textContent = "";
  }
  return result;
}

async function loadOptions() {
  const [categories, regions] = await Promise.all([
    api("/api/v1/categories/"),
    api("/api/v1/regions/"),
  ]);
  const categoryNames = new Map(categories.map((c) => [c.id, c.name]));
  pickers.category.options = categories.map((c) => ({
    id: c.id,
    name: c.name,
    label: c.parent ? `${categoryNames.get(c.parent)} › ${c.name}` : c.name,
  }));
  // Full community names, "城东区 大众街街道 康西社区", from the one unpaginated region list.
  const byId = new Map(regions.map((r) => [r.id, r]));
  const fullName = (region) => {
    const names = [];
    for (let node = region; node && node.parent; node = byId.get(node.parent)) names.unshift(node.name);
    return names.join(" ");
  };
  pickers.region.options = regions
    .filter((r) => r.level === 4)
    .map((r) => ({ id: r.id, name: r.name, label: fullName(r) }));
  for (const name of Object.keys(pickers)) listOptions(name);
}

function listOptions(name, prefix = "") {
  const list = document.getElementById(`quick-${name}-options`);
  const shown = pickers[name].options.filter((o) => o.label.startsWith(prefix));
  list.replaceChildren(...shown.map((o) => el("option", { value: o.label })));
}

// A district picked on the map narrows the community list to it (the typed text still decides).
const place = placePicker(document.getElementById("quick-place"), {
  onDistrict(district) {
    listOptions("region", district ? `${district} ` : "");
    document.getElementById("quick-region-chosen").textContent = district
      ? fmt("place_district_filter", { district })
      : "";
  },
});

// Say at once when the typed text picks nothing, without taking the focus away.
function hint(name) {
  const result = settle(name);
  const slot = form.querySelector(`[data-error-for="${name}"]`);
  const input = pickers[name].input;
  const problem = result.problem ? t(`${name}_${result.problem}`) : "";
  slot.textContent = problem;
  slot.hidden = !problem;
  input.classList.toggle("is-invalid", Boolean(problem));
  if (problem) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

for (const name of Object.keys(pickers)) {
  pickers[name].input.addEventListener("change", () => hint(name));
  pickers[name].input.addEventListener("blur", () => hint(name));
}

function fields() {
  // The fields an operator types into: not the place picker's buttons and hidden inputs.
  return [...form.elements].filter((f) => !f.disabled && !["submit", "button", "hidden"].includes(f.type) && f.tagName !== "FIELDSET");
}

form.addEventListener("keydown", (event) => {
  if (event.key !== "Enter" || event.isComposing) return;
  if (event.ctrlKey || event.metaKey) {
    event.preventDefault();
    form.requestSubmit();
  } else if (event.target.tagName === "INPUT" && event.target.type !== "checkbox") {
    // Enter in a one-line field goes to the next field rather than sending half a call.
    event.preventDefault();
    const list = fields();
    list[list.indexOf(event.target) + 1]?.focus();
  }
});

function localProblems() {
  const problems = {};
  for (const name of Object.keys(pickers)) {
    const result = settle(name);
    if (result.problem) problems[name] = [t(`${name}_${result.problem}`)];
  }
  return problems;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(form);
  const problems = localProblems();
  if (Object.keys(problems).length) {
    const error = { message: t("error"), fields: problems };
    error.message = Object.values(problems).flat().join(" ");
    showErrors(form, error);
    return;
  }
  const body = {
    channel: form.elements.channel.value,
    category: pickers.category.chosen?.id ?? null,
    region: pickers.region.chosen?.id ?? null,
    address: form.elements.address.value.trim(),
    description: form.elements.description.value.trim(),
    complainant_name: form.elements.complainant_name.value.trim(),
    complainant_phone: form.elements.complainant_phone.value.trim(),
    hide_identity: form.elements.hide_identity.checked,
    lat: form.elements.lat.disabled ? null : form.elements.lat.value,
    lng: form.elements.lng.disabled ? null : form.elements.lng.value,
  };
  submit.disabled = true;
  let created;
  try {
    created = await api("/api/v1/cases/", { method: "POST", body });
  } catch (error) {
    showErrors(form, error);
    showMoreErrors(form, error);
    submit.disabled = false;
    return;
  }
  // 即时办结: answered on the call (from a 知识库 article or in the operator's words).
  const code = created.tracking_code;
  let said = fmt("created", { code });
  const reply = form.elements.reply.value.trim();
  if (form.elements.resolve_now.checked && reply) {
    const answer = { reply };
    if (form.elements.article.value) answer.article = Number(form.elements.article.value);
    try {
      await api(`/api/v1/cases/${created.id}/resolve-at-intake/`, { method: "POST", body: answer });
      said = fmt("resolved", { code });
    } catch (error) {
      said = fmt("resolve_failed", { code, message: error.message || "" });
    }
  }
  submit.disabled = false;
  const link = el("a", { href: `/workbench/cases/${created.id}/`, class: "xn-code", text: code });
  done.replaceChildren(
    el("strong", { id: "quick-code", text: said }), " ",
    el("a", { href: link.href, text: fmt("open_case", { code }) }),
  );
  done.hidden = false;
  document.getElementById("quick-recent-empty").hidden = true;
  recent.prepend(el("li", {}, link, ` ${pickers.category.chosen.label} · ${pickers.region.chosen.label}`));
  const channel = form.elements.channel.value; // a counter keeps taking 来访 after each one
  form.reset();
  form.elements.channel.value = channel;
  place.clear();
  listOptions("region");
  for (const name of Object.keys(pickers)) settle(name);
  pickers.category.input.focus();
});

// --- 可能重复: open cases like the call being typed, asked 400 ms after the typing pauses ------

const similarStatus = document.getElementById("quick-similar-status");
const similarList = document.getElementById("quick-similar-list");

function similarParams() {
  const params = {
    category: resolve(pickers.category).option?.id,
    region: resolve(pickers.region).option?.id,
    phone: form.elements.complainant_phone.value.trim(),
    text: form.elements.description.value.trim(),
  };
  const asked = (params.category && params.region) || params.phone || params.text.length >= 6;
  return asked ? params : null;
}

async function showSimilar(current) {
  const params = similarParams();
  if (!params) {
    similarStatus.textContent = t("similar_idle");
    similarList.replaceChildren();
    return;
  }
  let data;
  try {
    data = await api("/api/v1/cases/similar/", { params });
  } catch (error) {
    if (current()) similarStatus.textContent = t("similar_error");
    return;
  }
  if (!current()) return;
  similarStatus.textContent = data.cases.length ? fmt("similar_found", { n: data.cases.length }) : t("similar_none");
  similarList.replaceChildren(...data.cases.map((row) => el("li", {},
    el("a", { href: `/workbench/cases/${row.id}/`, target: "_blank", rel: "noopener", class: "xn-code", text: row.tracking_code }),
    ` ${row.category?.name || ""} · ${row.status_display} · ${formatTime(row.created_at)}`,
  )));
}

const similar = newestOnly(showSimilar, 400);
const askSimilar = similar.later;

for (const name of ["category", "region", "complainant_phone", "description"]) {
  form.elements[name].addEventListener("input", askSimilar);
  form.elements[name].addEventListener("change", askSimilar);
}
form.addEventListener("reset", () => setTimeout(similar.now, 0));

// --- 智能派单: the categories the call's words suggest; Alt+1…3 or a click takes one -----------

const suggestBox = document.getElementById("quick-suggestions");
let suggested = [];

function pickSuggested(index) {
  const row = suggested[index];
  const option = row && pickers.category.options.find((o) => o.id === row.category.id);
  if (!option) return;
  pickers.category.input.value = option.label;
  hint("category");
  askSimilar();
  markSuggested();
}

function markSuggested() {
  const chosen = pickers.category.chosen?.id;
  suggestBox.querySelectorAll("button").forEach((button, i) => {
    button.setAttribute("aria-pressed", String(suggested[i]?.category.id === chosen));
  });
}

function showSuggestions(data) {
  // Only categories an operator may file under (the list's), the three best.
  const known = new Set(pickers.category.options.map((o) => o.id));
  suggested = worthShowing((data?.suggestions || []).filter((row) => known.has(row.category.id)));
  if (!suggested.length) {
    suggestBox.replaceChildren();
    return;
  }
  const note = unsureNote(data);
  suggestBox.replaceChildren(
    el("p", { class: "small mb-1" },
      el("span", { id: "quick-suggestions-title", text: t("suggest_title") }), " ",
      el("span", { class: "xn-kbd", text: t("suggest_keys") })),
    ...(note ? [note] : []),
    el("div", { class: "list-group", role: "group", "aria-labelledby": "quick-suggestions-title" },
      suggested.map((row, i) => el("button", {
        type: "button",
        class: "list-group-item list-group-item-action py-1",
        "aria-pressed": "false",
        "aria-keyshortcuts": `Alt+${i + 1}`,
        tabindex: "-1", // Tab goes on to the caller's name; Alt+1…3 is the keyboard's way
        onclick: () => pickSuggested(i),
      },
      el("span", { class: "fw-semibold", text: `${i + 1}. ${categoryPath(row.category)}` }),
      el("span", { class: "d-block small xn-muted", text: reasons(row) })))),
  );
  markSuggested();
}

const suggestions = watchSuggestions({
  inputs: [form.elements.description],
  region: () => resolve(pickers.region).option?.id ?? null,
  onAnswer: showSuggestions,
});
pickers.category.input.addEventListener("change", markSuggested);
pickers.region.input.addEventListener("change", suggestions.later); // its 权责清单 unit
form.addEventListener("reset", () => suggestions.reset());
// --- 知识库: articles that answer the call; Alt+K or a click takes one and answers at once ------

const knowledgeBox = document.getElementById("quick-knowledge");
const answer = document.getElementById("quick-answer");
let articles = [];

function useArticle(article) {
  answer.hidden = false;
  form.elements.resolve_now.checked = true;
  form.elements.reply.value = article.answer;
  form.elements.article.value = String(article.id);
}

async function showArticles(current) {
  const found = await findArticles(form.elements.description.value, {
    category: resolve(pickers.category).option?.id,
    region: resolve(pickers.region).option?.id,
  });
  if (!current()) return;
  articles = found;
  listArticles(knowledgeBox, articles, useArticle, { shortcut: true });
}

const articleSearch = newestOnly(showArticles, 500);
form.elements.description.addEventListener("input", articleSearch.later);
form.addEventListener("reset", () => {
  articleSearch.drop();
  articles = [];
  knowledgeBox.replaceChildren();
  answer.hidden = true;
  form.elements.article.value = "";
});

form.addEventListener("keydown", (event) => {
  if (event.altKey && !event.ctrlKey && !event.metaKey && event.code === "KeyK") {
    event.preventDefault();
    pickFirst(knowledgeBox, articles, useArticle);
    return;
  }
  const index = ["Digit1", "Digit2", "Digit3"].indexOf(event.code); // Option+1 on a Mac is ¡
  if (!event.altKey || event.ctrlKey || event.metaKey || index < 0 || !suggested[index]) return;
  event.preventDefault();
  pickSuggested(index);
});

loadOptions().catch((error) => showErrors(form, error));
