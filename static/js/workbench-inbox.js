// 消息: the signed-in user's inbox from GET /api/v1/notifications/ (督办 reminders, escalations,
// new dispatches, daily digests). Opening a message marks it read; "全部标为已读" marks them all.

import { api, formatTime, t } from "./api.js";
import { el, fmt } from "./ui.js";

const list = document.getElementById("inbox-list");
const empty = document.getElementById("inbox-empty");
const unread = document.getElementById("inbox-unread");

const isRead = (item) => Boolean(item.read_at || item.is_read);

function link(item) {
  if (item.url) return item.url;
  const caseId = item.case && typeof item.case === "object" ? item.case.id : item.case;
  return caseId ? `/workbench/cases/${caseId}/` : null;
}

export function renderNotifications(items) {
  list.replaceChildren();
  for (const item of items) {
    const text = item.body ? `${item.title}：${item.body}` : item.text || item.title || "";
    const href = link(item);
    list.append(el("li", {
      class: `list-group-item${isRead(item) ? "" : " fw-semibold"}`,
      dataset: { notificationId: item.id, read: String(isRead(item)) },
    },
    el("div", { class: "d-flex justify-content-between gap-2" },
      href ? el("a", { href, text }) : el("span", { text }),
      el("span", { class: "small text-nowrap fw-normal", text: formatTime(item.created_at) }))));
  }
  list.hidden = items.length === 0;
  empty.hidden = items.length > 0;
  const count = items.filter((item) => !isRead(item)).length;
  unread.textContent = count ? fmt("unread", { n: count }) : "";
  unread.hidden = count === 0;
  for (const badge of document.querySelectorAll("[data-unread-badge]")) {
    badge.textContent = count ? String(count) : "";
    badge.hidden = count === 0;
  }
  return count;
}

async function load() {
  try {
    const page = await api("/api/v1/notifications/", { params: { page_size: 100 } });
    renderNotifications(page.results);
  } catch (error) {
    empty.querySelector("p").textContent = error.message || t("error");
  }
}

list.addEventListener("click", async (event) => {
  const anchor = event.target.closest("a");
  const row = event.target.closest("[data-notification-id]");
  if (!anchor || !row || row.dataset.read === "true") return;
  event.preventDefault();
  try {
    await api(`/api/v1/notifications/${row.dataset.notificationId}/read/`, { method: "POST" });
  } finally {
    window.location.href = anchor.href;
  }
});

document.getElementById("inbox-read-all")?.addEventListener("click", async () => {
  await api("/api/v1/notifications/read-all/", { method: "POST" });
  await load();
});

load();
