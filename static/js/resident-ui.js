// Small helpers shared by the residents' pages: build elements safely, fill in text templates,
// show a case status. Every user-facing word comes from the page's translated texts (t()).
import { t } from "./api.js";

// h("p", {class: "x", hidden: true}, "text", child) → an element; strings become text nodes,
// so nothing from the API is ever parsed as HTML.
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// fill("已选 {n} / {max} 张", {n: 2, max: 9}) → "已选 2 / 9 张"
export function fill(template, values = {}) {
  return String(template).replace(/\{(\w+)\}/g, (match, name) =>
    name in values ? String(values[name]) : match);
}

// tf(key, values): a translated text with its placeholders filled.
export function tf(key, values, fallback = "") {
  return fill(t(key, fallback), values);
}

export function statusBadge(status, display) {
  return h("span", { class: `xn-status xn-status-${status}` }, display || status);
}

export function formatDate(iso) {
  if (!iso) return "";
  const lang = document.documentElement.lang || "zh-hans";
  return new Intl.DateTimeFormat(lang === "en" ? "en-GB" : "zh-CN", {
    timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
  }).format(new Date(iso));
}

// Put a button into a busy state (disabled, label changed) and back.
export function busy(button, isBusy, label) {
  button.disabled = isBusy;
  button.setAttribute("aria-busy", isBusy ? "true" : "false");
  if (label) button.textContent = label;
}

// The tracking page can be opened with the code and the phone's last four digits remembered
// for this tab only (sessionStorage, never the URL), e.g. right after submitting.
const TRACK_KEY = "xn-track";
export function rememberTracking(code, last4) {
  try {
    sessionStorage.setItem(TRACK_KEY, JSON.stringify({ code, last4 }));
  } catch (error) {
    /* private mode: the resident types the digits instead */
  }
}
export function recalledTracking() {
  try {
    return JSON.parse(sessionStorage.getItem(TRACK_KEY) || "null");
  } catch (error) {
    return null;
  }
}
