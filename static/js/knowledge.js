// 知识库 at intake: the articles that answer a complaint's words (GET /api/v1/knowledge/search/),
// listed as buttons; choosing one hands its answer and id to the form (cases.knowledge).

import { api, t } from "./api.js";
import { el, fmt } from "./ui.js";
import { SENT_CHARS } from "./category-suggest.js";

// The articles for `text` (and the case's category and community when known), best first;
// [] when there is nothing to ask or the search failed (a help only: the form works without).
export async function findArticles(text, { category = null, region = null } = {}) {
  const q = [...text.trim()].slice(0, SENT_CHARS).join("");
  if ([...q].length < 2) return [];
  const params = { q };
  if (category) params.category = category;
  if (region) params.region = region;
  try {
    return await api("/api/v1/knowledge/search/", { params });
  } catch (error) {
    return [];
  }
}

// Fill `box` with one button per article; `onPick(article)` when one is chosen.
export function listArticles(box, hits, onPick, { shortcut = false } = {}) {
  box.replaceChildren();
  hits.slice(0, 3).forEach((hit, i) => {
    const { article } = hit;
    const button = el("button", {
      type: "button",
      class: "list-group-item list-group-item-action xn-article",
      "aria-pressed": "false",
      ...(shortcut && i === 0 ? { "aria-keyshortcuts": "Alt+K" } : {}),
      ...(shortcut ? { tabindex: "-1" } : {}),
      dataset: { articleId: article.id },
      onclick: () => pick(box, button, article, onPick),
    },
    el("span", { class: "fw-semibold", text: article.question }),
    el("span", { class: "d-block small xn-muted", text: fmt("article_from", { unit: article.owner_unit.name }) }));
    box.append(button);
  });
  if (!hits.length) box.append(el("p", { class: "small mb-0", text: t("article_none") }));
}

export function pick(box, button, article, onPick) {
  for (const other of box.querySelectorAll(".xn-article")) {
    other.classList.toggle("xn-picked", other === button);
    other.setAttribute("aria-pressed", String(other === button));
  }
  onPick(article);
}

// Alt+K: the first article listed in `box`.
export function pickFirst(box, hits, onPick) {
  const button = box.querySelector(".xn-article");
  if (button && hits.length) pick(box, button, hits[0].article, onPick);
}
