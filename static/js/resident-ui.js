// Small helpers shared by the residents' pages: fill in text templates, show a case status.
// Every user-facing word comes from the page's translated texts (t()).
import { t } from "./api.js";
import { el } from "./ui.js";

export function statusBadge(status, display) {
  return el("span", { class: `xn-status xn-status-${status}` }, display || status);
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
