// 我要反映: the complaint form. Everything is sent with one fetch (multipart), so a failed
// submit never reloads the page: what was typed and the chosen photos stay as they were.
// The checks here mirror the API's for a quick, clear message; the API stays the authority.
import { api, clearErrors, showErrors, t } from "./api.js";
import { el, fmt } from "./ui.js";
import { placePicker } from "./place-picker.js";
import { busy, rememberTracking } from "./resident-ui.js";
import { categoryPath, watchSuggestions, worthShowing } from "./category-suggest.js";

const form = document.getElementById("submit-form");
const submitButton = document.getElementById("submit-button");
const MAX_PHOTOS = Number(form.dataset.maxPhotos) || 9;
const MAX_MB = Number(form.dataset.maxMb) || 10;
const MAX_BYTES = MAX_MB * 1024 * 1024;
const RESIZE_OVER = 1.5 * 1024 * 1024; // photos larger than this are shrunk before upload
const LONG_SIDE = 1600; // … to at most this many pixels on the long side, as JPEG
const ACCEPTED_TYPES = ["image/jpeg", "image/png", "image/webp", "image/gif"];
const DESCRIPTION_MAX = 2000;

const collator = new Intl.Collator(document.documentElement.lang === "en" ? "en" : "zh-CN");

// --- errors that belong to one field ----------------------------------------------------------

function clearFieldError(name) {
  const slot = form.querySelector(`[data-error-for="${name}"]`);
  if (slot) {
    slot.textContent = "";
    slot.hidden = true;
  }
  for (const input of form.querySelectorAll(`[name="${name}"]`)) {
    input.classList.remove("is-invalid");
    input.removeAttribute("aria-invalid");
  }
  if (name === "category") document.getElementById("category-list").classList.remove("is-invalid");
}

function setFieldError(name, message) {
  const slot = form.querySelector(`[data-error-for="${name}"]`);
  slot.textContent = message;
  slot.hidden = false;
  for (const input of form.querySelectorAll(`[name="${name}"]`)) {
    input.classList.add("is-invalid");
    input.setAttribute("aria-invalid", "true");
  }
}

// Show errors (from the API or from the checks below) and keep every value as it is.
function reportErrors(error) {
  showErrors(form, error);
  if (error.fields && error.fields.category) {
    document.getElementById("category-list").classList.add("is-invalid");
  }
}

// Typing into a field that was marked wrong takes the mark away.
for (const type of ["input", "change"]) {
  form.addEventListener(type, (event) => {
    const name = event.target.name;
    if (name && name !== "attachments" && event.target.classList.contains("is-invalid")) {
      clearFieldError(name);
    }
  });
}

// --- category picker: a searchable list of radio buttons grouped under their parents -----------

const categoryList = document.getElementById("category-list");
const categorySearch = document.getElementById("category-search");
const categorySelected = document.getElementById("category-selected");
const categoryNone = document.getElementById("category-none");
const categories = new Map(); // id → {id, name, code, parent}

function categoryOption(category, isChild, hasChildren) {
  const id = `category-${category.id}`;
  const classes = ["xn-category-option"];
  if (isChild) classes.push("is-child");
  if (!isChild && hasChildren) classes.push("is-parent");
  return el("label", { class: classes.join(" "), for: id, dataset: { search: `${category.name} ${category.code}`.toLowerCase() } },
    el("input", { class: "form-check-input", type: "radio", name: "category", id, value: category.id }),
    el("span", {}, category.name));
}

async function loadCategories() {
  let items;
  try {
    items = await api("/api/v1/categories/");
  } catch (error) {
    categoryList.querySelector("[data-loading]").textContent = error.message;
    return;
  }
  const children = new Map();
  for (const item of items) {
    categories.set(item.id, item);
    const key = item.parent ?? 0;
    if (!children.has(key)) children.set(key, []);
    children.get(key).push(item);
  }
  const byName = (a, b) => collator.compare(a.name, b.name);
  const groups = (children.get(0) || []).sort(byName).map((root) => {
    const kids = (children.get(root.id) || []).sort(byName);
    return el("div", { class: "xn-category-group", role: "group", "aria-label": root.name },
      categoryOption(root, false, kids.length > 0),
      kids.map((kid) => categoryOption(kid, true, false)));
  });
  categoryList.querySelector("[data-loading]").remove();
  categoryList.append(...groups);
  categoryList.setAttribute("aria-busy", "false");
}

function filterCategories() {
  const query = categorySearch.value.trim().toLowerCase();
  let shown = 0;
  for (const group of categoryList.querySelectorAll(".xn-category-group")) {
    const [root, ...kids] = group.querySelectorAll(".xn-category-option");
    const rootMatches = !query || root.dataset.search.includes(query);
    let kidsShown = 0;
    for (const kid of kids) {
      kid.hidden = !(rootMatches || kid.dataset.search.includes(query));
      if (!kid.hidden) kidsShown += 1;
    }
    // A parent stays visible above its matching children, to show where they belong.
    root.hidden = !(rootMatches || kidsShown > 0);
    group.hidden = root.hidden;
    shown += (root.hidden ? 0 : 1) + kidsShown;
  }
  categoryNone.hidden = shown > 0;
  categoryNone.textContent = shown > 0 ? "" : t("no_category_match");
  return shown;
}

function visibleCategoryInputs() {
  return [...categoryList.querySelectorAll(".xn-category-option:not([hidden]) input")];
}

function showSelectedCategory() {
  const checked = categoryList.querySelector("input:checked");
  if (!checked) {
    categorySelected.hidden = true;
    return;
  }
  const category = categories.get(Number(checked.value));
  const parent = category && category.parent ? categories.get(category.parent) : null;
  const path = parent ? `${parent.name} › ${category.name}` : category.name;
  categorySelected.replaceChildren(el("span", {}, t("selected_category"), el("strong", {}, path)));
  categorySelected.hidden = false;
}

categorySearch.addEventListener("input", filterCategories);
categorySearch.addEventListener("keydown", (event) => {
  if (event.key === "Enter") {
    // Enter picks the only match (or moves into the list) instead of submitting the form.
    event.preventDefault();
    const inputs = visibleCategoryInputs();
    if (inputs.length === 1) {
      inputs[0].checked = true;
      inputs[0].dispatchEvent(new Event("change", { bubbles: true }));
    }
    if (inputs.length) (categoryList.querySelector("input:checked:not([hidden])") || inputs[0]).focus();
  } else if (event.key === "ArrowDown") {
    const inputs = visibleCategoryInputs();
    if (inputs.length) {
      event.preventDefault();
      inputs[0].focus();
    }
  }
});
categoryList.addEventListener("change", showSelectedCategory);

// --- region cascade: district → street → community ---------------------------------------------

const districtSelect = document.getElementById("id_district");
const streetSelect = document.getElementById("id_street");
const communitySelect = document.getElementById("id_region");

function fillSelect(select, items, placeholder) {
  select.replaceChildren(el("option", { value: "" }, placeholder),
    ...items.map((item) => el("option", { value: item.id }, item.name)));
  select.disabled = items.length === 0;
}

function resetSelect(select, placeholder) {
  select.replaceChildren(el("option", { value: "" }, placeholder));
  select.disabled = true;
}

async function loadRegions(select, parent) {
  resetSelect(select, t("loading"));
  try {
    const items = await api("/api/v1/regions/", { params: { parent } });
    fillSelect(select, items, t("choose"));
  } catch (error) {
    resetSelect(select, t("error"));
    reportErrors(error);
  }
}

async function loadDistricts() {
  try {
    const [city] = await api("/api/v1/regions/", { params: { root: "true" } });
    await loadRegions(districtSelect, city.id);
  } catch (error) {
    resetSelect(districtSelect, t("error"));
    reportErrors(error);
  }
}

// 网格员上报 (data-grid) lists the inspector's own communities instead: no district or street.
districtSelect?.addEventListener("change", async () => {
  resetSelect(communitySelect, t("choose_street_first"));
  if (!districtSelect.value) {
    resetSelect(streetSelect, t("choose_district_first"));
    return;
  }
  await loadRegions(streetSelect, districtSelect.value);
});

// A place picked on the map selects its district as the user would, loading its streets.
function chooseDistrict(name) {
  if (!districtSelect) return;
  const option = [...districtSelect.options].find((o) => o.value && o.text === name);
  if (!option || option.selected) return;
  districtSelect.value = option.value;
  districtSelect.dispatchEvent(new Event("change", { bubbles: true }));
}

placePicker(document.getElementById("place"), { onDistrict: chooseDistrict });

streetSelect?.addEventListener("change", async () => {
  if (!streetSelect.value) {
    resetSelect(communitySelect, t("choose_street_first"));
    return;
  }
  await loadRegions(communitySelect, streetSelect.value);
});

// --- description with a character count --------------------------------------------------------

const description = document.getElementById("id_description");
const descriptionCount = document.getElementById("description-count");

function countCharacters() {
  const n = [...description.value].length;
  descriptionCount.textContent = fmt("chars", { n, max: DESCRIPTION_MAX });
  descriptionCount.classList.toggle("text-danger", n > DESCRIPTION_MAX * 0.95);
}
description.addEventListener("input", countCharacters);

// --- photos: checked, shrunk when large, previewed, removable -----------------------------------

const photoInput = document.getElementById("id_photos");
const photoList = document.getElementById("photo-list");
const photoCount = document.getElementById("photos-count");
const photoStatus = document.getElementById("photos-status");
const photos = []; // {file, url, resized}

function decodeImage(file) {
  return new Promise((resolve) => {
    const url = URL.createObjectURL(file);
    const image = new Image();
    image.onload = () => resolve(image.naturalWidth > 0 ? { image, url } : null);
    image.onerror = () => {
      URL.revokeObjectURL(url);
      resolve(null);
    };
    image.src = url;
  });
}

// Canvas → JPEG with the long side at most LONG_SIDE px (this also drops EXIF, GPS included).
async function shrink(file, image) {
  const scale = Math.min(1, LONG_SIDE / Math.max(image.naturalWidth, image.naturalHeight));
  const width = Math.max(1, Math.round(image.naturalWidth * scale));
  const height = Math.max(1, Math.round(image.naturalHeight * scale));
  const canvas = el("canvas", { width, height });
  const context = canvas.getContext("2d");
  context.fillStyle = "#fff"; // transparent PNG areas become white, not black
  context.fillRect(0, 0, width, height);
  context.drawImage(image, 0, 0, width, height);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.85));
  if (!blob) return null;
  const name = `${file.name.replace(/\.[^.]*$/, "") || "photo"}.jpg`;
  return new File([blob], name, { type: "image/jpeg", lastModified: Date.now() });
}

// One chosen file → {file, url, resized} ready to upload, or a message saying why not.
async function preparePhoto(file) {
  if (file.size > MAX_BYTES) return { problem: fmt("photo_too_big", { name: file.name, mb: MAX_MB }) };
  const decoded = await decodeImage(file);
  if (!decoded) return { problem: fmt("photo_not_image", { name: file.name }) };
  const { image, url } = decoded;
  const allowedType = ACCEPTED_TYPES.includes(file.type);
  // Large photos are shrunk; an image the server would not accept (e.g. HEIC) becomes a JPEG.
  if ((file.size > RESIZE_OVER && file.type !== "image/gif") || !allowedType) {
    const smaller = await shrink(file, image);
    if (smaller && (smaller.size < file.size || !allowedType)) {
      URL.revokeObjectURL(url);
      return { file: smaller, url: URL.createObjectURL(smaller), resized: true };
    }
    if (!allowedType) {
      URL.revokeObjectURL(url);
      return { problem: fmt("photo_not_image", { name: file.name }) };
    }
  }
  return { file, url, resized: false };
}

function renderPhotos() {
  photoList.replaceChildren(...photos.map((photo, index) =>
    el("li", {},
      el("img", { src: photo.url, alt: photo.file.name }),
      el("span", { class: "xn-photo-name" }, photo.file.name),
      el("button", {
        type: "button",
        class: "btn xn-photo-remove",
        "aria-label": fmt("photo_remove", { name: photo.file.name }),
        dataset: { index },
      }, el("span", { "aria-hidden": "true" }, "×")))));
  photoCount.textContent = fmt("photos_count", { n: photos.length, max: MAX_PHOTOS });
}

async function addPhotos(files) {
  const problems = [];
  const room = MAX_PHOTOS - photos.length;
  if (files.length > room) {
    problems.push(fmt("too_many_photos", { max: MAX_PHOTOS, n: files.length - Math.max(room, 0) }));
    files = files.slice(0, Math.max(room, 0));
  }
  photoStatus.textContent = files.length ? t("photo_processing") : "";
  let added = 0;
  for (const file of files) {
    const prepared = await preparePhoto(file);
    if (prepared.problem) {
      problems.push(prepared.problem);
    } else {
      photos.push(prepared);
      added += 1;
    }
  }
  renderPhotos();
  photoStatus.textContent = added ? fmt("photo_added", { n: added }) : "";
  if (problems.length) setFieldError("attachments", problems.join(" "));
  else clearFieldError("attachments");
}

photoInput.addEventListener("change", async () => {
  const files = [...photoInput.files];
  photoInput.value = ""; // the list below holds the photos; the same file can be chosen again
  if (files.length) await addPhotos(files);
});

photoList.addEventListener("click", (event) => {
  const button = event.target.closest(".xn-photo-remove");
  if (!button) return;
  const index = Number(button.dataset.index);
  const [removed] = photos.splice(index, 1);
  URL.revokeObjectURL(removed.url);
  renderPhotos();
  clearFieldError("attachments");
  photoStatus.textContent = fmt("photo_removed", { name: removed.file.name });
  // Keep the keyboard where it was: the next photo's remove button, or the add button.
  const buttons = photoList.querySelectorAll(".xn-photo-remove");
  (buttons[Math.min(index, buttons.length - 1)] || photoInput).focus();
});

// --- submit ------------------------------------------------------------------------------------

function localErrors() {
  const fields = {};
  const required = t("required");
  if (!categoryList.querySelector("input:checked")) fields.category = [t("choose_category")];
  if (!description.value.trim()) fields.description = [required];
  if (!communitySelect.value) fields.region = [t("choose_region")];
  if (!form.elements.complainant_name.value.trim()) fields.complainant_name = [required];
  if (!form.elements.complainant_phone.value.trim()) fields.complainant_phone = [required];
  if (!form.elements.agree.checked) fields.agree = [t("agree_required")];
  return fields;
}

let submitting = false;
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (submitting) return;
  const fields = localErrors();
  if (Object.keys(fields).length) {
    reportErrors({ message: t("check_form"), fields });
    return;
  }
  clearErrors(form);
  const data = new FormData(form);
  data.delete("attachments");
  data.delete("agree");
  for (const photo of photos) data.append("attachments", photo.file, photo.file.name);

  submitting = true;
  busy(submitButton, true, t("submitting"));
  try {
    const result = await api("/api/v1/cases/", { method: "POST", body: data });
    const digits = form.elements.complainant_phone.value.replace(/\D/g, "");
    rememberTracking(result.tracking_code, digits.slice(-4));
    const done = new URL(form.dataset.doneUrl, window.location.origin);
    done.searchParams.set("code", result.tracking_code);
    window.location.assign(done);
  } catch (error) {
    if (error.status === 429) error.message = t("throttled");
    reportErrors(error);
    submitting = false;
    busy(submitButton, false, t("submit"));
  }
});

// --- 同类诉求: how many open cases of this category the community has, 400 ms after a choice ---

const similarHint = document.getElementById("similar-hint");
let similarTimer = null;
let similarAsked = 0; // answers to older questions are dropped

async function showSimilar() {
  const question = ++similarAsked;
  const category = form.querySelector('input[name="category"]:checked')?.value;
  const region = communitySelect.value;
  if (!category || !region) {
    similarHint.replaceChildren();
    return;
  }
  let data;
  try {
    data = await api("/api/v1/cases/similar/", { params: { category, region } });
  } catch (error) {
    return; // a hint only: the form works without it
  }
  if (question !== similarAsked) return;
  similarHint.replaceChildren(...(data.count
    ? [el("p", { class: "alert alert-info small mt-2 mb-0", id: "similar-hint-text" },
      fmt("similar_hint", { n: data.count, category: data.category, street: data.street }))]
    : []));
}

function askSimilar() {
  clearTimeout(similarTimer);
  similarTimer = setTimeout(showSimilar, 400);
}

categoryList.addEventListener("change", askSimilar);
communitySelect.addEventListener("change", askSimilar);

// --- 智能派单: the categories the title and description suggest, to pick with one tap ----------

const suggestBox = document.getElementById("category-suggestions");

function pickSuggested(category) {
  const input = document.getElementById(`category-${category.id}`);
  if (!input) return;
  categorySearch.value = "";
  filterCategories();
  input.checked = true;
  input.dispatchEvent(new Event("change", { bubbles: true })); // the selected line, 同类诉求
  clearFieldError("category");
  markSuggested();
}

function markSuggested() {
  const checked = categoryList.querySelector("input:checked")?.value;
  for (const button of suggestBox.querySelectorAll("button")) {
    button.setAttribute("aria-pressed", String(button.dataset.categoryId === checked));
  }
}

function showSuggestions(data) {
  // Only what the list offers (the categories this form may file under), the three best.
  const rows = worthShowing((data?.suggestions || []).filter((row) => categories.has(row.category.id)));
  if (!rows.length) {
    suggestBox.replaceChildren();
    return;
  }
  suggestBox.replaceChildren(
    el("p", { class: "small mb-1", id: "category-suggestions-title", text: t("suggest_title") }),
    el("div", { class: "d-flex flex-wrap gap-2", role: "group", "aria-labelledby": "category-suggestions-title" },
      rows.map((row) => el("button", {
        type: "button",
        class: "btn btn-sm btn-outline-primary",
        "aria-pressed": "false",
        "aria-label": fmt("suggest_pick", { name: categoryPath(row.category) }),
        dataset: { categoryId: row.category.id },
        onclick: () => pickSuggested(row.category),
      }, categoryPath(row.category)))),
  );
  markSuggested();
}

categoryList.addEventListener("change", markSuggested);
watchSuggestions({ inputs: [form.elements.title, description], onAnswer: showSuggestions });

countCharacters();
renderPhotos();
loadCategories();
if (districtSelect) loadDistricts();
