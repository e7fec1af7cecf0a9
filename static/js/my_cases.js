// 我的诉求: the signed-in resident's cases, newest first, 25 at a time ("load more" follows the
// API's cursor). Each links to the tracking page, with the phone digits remembered for the tab.
import { api, t } from "./api.js";
import { el, fmt } from "./ui.js";
import { busy, formatDate, rememberTracking, statusBadge } from "./resident-ui.js";

const box = document.getElementById("my-cases");
const more = document.getElementById("load-more");
const count = document.getElementById("my-cases-count");
const trackUrl = box.dataset.trackUrl;
let next = null;
let list = null;
let shown = 0;

function row(item) {
  const url = new URL(trackUrl, window.location.origin);
  url.searchParams.set("code", item.tracking_code);
  const place = [item.district && item.district.name, item.street && item.street.name, item.region && item.region.name]
    .filter(Boolean).join(" ");
  // Visible "查看进度", heard as "查看进度 XN-…" (the visible words stay first in the name).
  const link = el("a", { class: "btn btn-sm btn-outline-primary", href: url.pathname + url.search },
    t("track"), el("span", { class: "visually-hidden" }, ` ${item.tracking_code}`));
  // The resident's own phone comes back whole on their own cases; keep its last digits in this
  // tab so the tracking page opens straight on the result.
  link.addEventListener("click", () => {
    const digits = String(item.complainant_phone || "").replace(/\D/g, "");
    if (digits.length >= 4) rememberTracking(item.tracking_code, digits.slice(-4));
  });
  return el("li", {},
    el("div", { class: "d-flex flex-wrap justify-content-between align-items-center gap-2" },
      el("span", { class: "xn-case-code" }, item.tracking_code),
      statusBadge(item.status, item.status_display)),
    el("h2", {}, item.title || (item.category && item.category.name) || ""),
    el("p", { class: "small xn-muted mb-1" },
      // The heading is the title, or the category when there is none: don't say it twice.
      [item.title && item.category ? item.category.name : "", place].filter(Boolean).join(" · ")),
    el("div", { class: "small d-flex flex-wrap justify-content-between align-items-center gap-2" },
      el("span", { class: "xn-muted" }, fmt("submitted_on", { date: formatDate(item.created_at) })),
      link));
}

async function load(url) {
  box.setAttribute("aria-busy", "true");
  busy(more, true, t("loading_more"));
  try {
    const page = await api(url || "/api/v1/cases/");
    if (!list) {
      box.replaceChildren();
      if (!page.results.length) {
        box.append(document.getElementById("my-cases-empty").content.cloneNode(true));
      } else {
        list = el("ul", { class: "xn-cases" });
        box.append(list);
      }
    }
    if (list) list.append(...page.results.map(row));
    shown += page.results.length;
    count.textContent = shown ? fmt("count", { n: shown }) : "";
    next = page.next;
  } catch (error) {
    const message = el("p", { class: "alert alert-danger", role: "alert" }, error.message || t("error"));
    if (list) box.append(message);
    else box.replaceChildren(message);
  } finally {
    box.setAttribute("aria-busy", "false");
    busy(more, false, t("load_more"));
    more.hidden = !next;
  }
}

more.addEventListener("click", () => {
  if (next) load(next);
});

load();
