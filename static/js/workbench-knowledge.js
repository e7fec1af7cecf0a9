// 知识库维护: the articles of the user's units (GET /api/v1/knowledge/mine/), in pages, and one
// form that writes a new article (POST) or changes the one being edited (PATCH). Every change is
// a version the server keeps; the list is drawn again from the server's answer.

import { api, clearErrors, showErrors, t } from "./api.js";
import { el, fmt } from "./ui.js";

const form = document.getElementById("kb-form");
const body = document.querySelector("#kb-table tbody");
const more = document.getElementById("kb-more");
const saved = document.getElementById("kb-saved");
const heading = document.getElementById("kb-form-heading");
let next = 1;
let articles = new Map(); // id → the article as last read

const today = () => new Date().toISOString().slice(0, 10);
const selected = (select) => [...select.selectedOptions].map((o) => Number(o.value));

function row(a) {
  const range = a.valid_until
    ? fmt("valid_range_until", { from: a.valid_from, until: a.valid_until })
    : fmt("valid_range", { from: a.valid_from });
  const late = a.in_force && a.review_by < today();
  return el("tr", { dataset: { article: a.id } },
    el("th", { scope: "row" }, a.question,
      el("div", { class: "small xn-muted fw-normal" }, `${a.owner_unit.name} · ${fmt("versions", { n: a.versions })}`)),
    el("td", { class: "small" }, range),
    el("td", { class: late ? "small fw-semibold text-danger" : "small" }, a.review_by),
    el("td", { class: "small" },
      el("span", { class: a.in_force ? "badge text-bg-success" : "badge text-bg-secondary" }, t(a.in_force ? "in_force" : "not_in_force")),
      " ",
      el("span", { class: "badge text-bg-light border" }, t(a.is_public ? "public" : "internal"))),
    el("td", {}, el("button", {
      class: "btn btn-sm btn-outline-primary text-nowrap", type: "button", dataset: { edit: a.id },
      "aria-label": fmt("edit_of", { question: a.question }),
    }, t("edit"))));
}

async function load(reset = false) {
  if (reset) {
    next = 1;
    articles = new Map();
  }
  const page = await api("/api/v1/knowledge/mine/", { params: { page: next } });
  for (const a of page.results) articles.set(a.id, a);
  const rows = [...articles.values()].map(row);
  body.replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: 5, class: "xn-muted" }, t("no_articles")))]));
  next = page.next ? next + 1 : null;
  more.hidden = !next;
}

function fill(a) {
  clearErrors(form);
  form.reset();
  form.elements.id.value = a ? a.id : "";
  heading.textContent = t(a ? "editing" : "new_article");
  if (!a) {
    form.elements.valid_from.value = today();
    return;
  }
  for (const name of ["question", "answer", "basis", "document_url", "valid_from", "review_by"]) {
    form.elements[name].value = a[name] || "";
  }
  form.elements.valid_until.value = a.valid_until || "";
  form.elements.owner_unit.value = String(a.owner_unit.id);
  form.elements.is_public.checked = a.is_public;
  const ids = (list) => new Set(list.map((x) => String(x.id)));
  for (const [name, chosen] of [["categories", ids(a.categories)], ["regions", ids(a.regions)]]) {
    for (const option of form.elements[name].options) option.selected = chosen.has(option.value);
  }
  form.elements.question.focus();
}

function values() {
  const f = form.elements;
  return {
    question: f.question.value.trim(),
    answer: f.answer.value.trim(),
    basis: f.basis.value.trim(),
    document_url: f.document_url.value.trim(),
    valid_from: f.valid_from.value || null,
    valid_until: f.valid_until.value || null,
    review_by: f.review_by.value || null,
    owner_unit: Number(f.owner_unit.value),
    is_public: f.is_public.checked,
    categories: selected(f.categories),
    regions: selected(f.regions),
  };
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(form);
  saved.hidden = true;
  const id = form.elements.id.value;
  const button = document.getElementById("kb-submit");
  button.disabled = true;
  let answer;
  try {
    answer = await api(id ? `/api/v1/knowledge/${id}/` : "/api/v1/knowledge/", {
      method: id ? "PATCH" : "POST", body: values(),
    });
  } catch (error) {
    showErrors(form, error);
    return;
  } finally {
    button.disabled = false;
  }
  // The list and the form are drawn again first: the notice says the page is ready again.
  await load(true);
  fill(answer);
  saved.textContent = id
    ? fmt("saved", { question: answer.question, n: answer.versions })
    : fmt("saved_new", { question: answer.question });
  saved.hidden = false;
  saved.focus();
});

body.addEventListener("click", (event) => {
  const button = event.target.closest("[data-edit]");
  if (button) fill(articles.get(Number(button.dataset.edit)));
});
document.getElementById("kb-new").addEventListener("click", () => fill(null));
more.addEventListener("click", () => load().catch((error) => { more.textContent = error.message; }));

fill(null);
load(true).catch((error) => {
  body.replaceChildren(el("tr", {}, el("td", { colspan: 5, class: "xn-failed" }, error.message)));
});
