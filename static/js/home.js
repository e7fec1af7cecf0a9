// Home: the recently answered cases (public, without personal data), or an empty state.
import { api, t } from "./api.js";
import { el, fmt } from "./ui.js";
import { formatDate } from "./resident-ui.js";

const box = document.getElementById("recent");

function card(item) {
  const place = [item.district, item.street].filter(Boolean).join(" ");
  return el("li", {},
    el("h3", {}, item.title || item.category),
    el("p", { class: "small xn-muted" },
      // The heading is the title, or the category when there is none: don't say it twice.
      [item.title ? item.category : "", place].filter(Boolean).join(" · "),
      item.replied_at ? ` · ${fmt("replied_on", { date: formatDate(item.replied_at) })}` : ""),
    item.reply_text ? el("p", {}, el("strong", {}, t("reply")), item.reply_text) : null,
    item.rating ? el("p", { class: "small mb-0" }, el("span", { class: "xn-status xn-status-evaluated" },
      t(`rating_${item.rating}`, item.rating))) : null,
  );
}

async function load() {
  try {
    const items = await api("/api/v1/public/recent/");
    box.replaceChildren(items.length
      ? el("ul", { class: "xn-recent" }, items.map(card))
      : el("p", { class: "xn-empty mb-0" }, t("recent_empty")));
  } catch (error) {
    box.replaceChildren(el("p", { class: "xn-empty mb-0" }, t("recent_error")));
  } finally {
    box.setAttribute("aria-busy", "false");
  }
}

load();
