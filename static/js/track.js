// 查询进度: find a case by its tracking code and the phone's last four digits, show its status,
// deadline and timeline in plain words, and let the complainant rate the answer.
import { api, clearErrors, formatTime, showErrors, t } from "./api.js";
import { el, fmt } from "./ui.js";
import { busy, recalledTracking, rememberTracking, statusBadge } from "./resident-ui.js";

const form = document.getElementById("track-form");
const codeInput = document.getElementById("id_code");
const last4Input = document.getElementById("id_phone_last4");
const trackButton = document.getElementById("track-button");
const result = document.getElementById("result");
const resultTitle = document.getElementById("result-title");
const resultNotice = document.getElementById("result-notice");
const facts = document.getElementById("result-facts");
const timeline = document.getElementById("timeline");
const evaluateSection = document.getElementById("evaluate-section");
const evaluateForm = document.getElementById("evaluate-form");
const evaluateButton = document.getElementById("evaluate-button");

// The code and digits of the case on screen (the evaluation is sent with them).
let current = null;

function fact(label, ...value) {
  return [el("dt", {}, label), el("dd", {}, ...value)];
}

function eventLine(event) {
  return el("li", {},
    el("strong", {}, t(`event_${event.type}`, event.type_display)),
    el("time", { datetime: event.created_at }, formatTime(event.created_at)),
    event.text ? el("p", {}, event.text) : null);
}

function render(data) {
  resultTitle.textContent = fmt("result_heading", { code: data.tracking_code });
  const place = [data.district, data.street].filter(Boolean).join(" ");
  facts.replaceChildren(el("dl", { class: "xn-facts" },
    fact(t("status"), statusBadge(data.status, data.status_display)),
    fact(t("category"), data.category),
    data.title ? fact(t("title"), data.title) : [],
    fact(t("place"), place),
    fact(t("submitted_at"), formatTime(data.created_at)),
    fact(t("resolve_by"), data.resolve_by ? formatTime(data.resolve_by) : t("resolve_by_pending")),
    data.reply_text ? fact(t("reply"), el("span", { class: "xn-reply" }, data.reply_text)) : [],
    data.rating ? fact(t("your_rating"), t(`rating_${data.rating}`, data.rating)) : [],
  ));
  const main = data.merged_into;
  if (main) {
    // 合并: the main case's public progress and answer are this complainant's answer too.
    facts.append(el("p", { class: "alert alert-info", role: "status", id: "merged-notice" },
      fmt("merged_notice", { code: main.tracking_code })),
    el("dl", { class: "xn-facts" },
      fact(t("merged_status"), statusBadge(main.status, main.status_display)),
      main.reply_text ? fact(t("reply"), el("span", { class: "xn-reply" }, main.reply_text)) : [],
    ));
  }
  // Newest first: what happened last is what the resident came to see (a merged case's own
  // steps, then the main case's).
  const events = [...(data.timeline || []), ...(main ? main.timeline.filter((e) => e.type !== "submit") : [])]
    .sort((a, b) => a.created_at.localeCompare(b.created_at)).reverse();
  timeline.replaceChildren(...(events.length
    ? events.map(eventLine)
    : [el("li", {}, t("no_timeline"))]));
  evaluateSection.hidden = !data.can_evaluate;
  result.hidden = false;
}

// A 429 is either the per-address rate or the code locked after too many wrong digits; the API's
// own message says which, and for how long. Only a 429 without it (not in the API's shape, from
// a proxy say) gets the page's general words.
function throttled(error) {
  if (error.status === 429 && error.code !== "throttled") error.message = t("throttled");
}

async function track() {
  clearErrors(form);
  const code = codeInput.value.trim().toUpperCase();
  const last4 = last4Input.value.trim();
  const fields = {};
  if (!code) fields.code = [t("code_required")];
  if (!/^\d{4}$/.test(last4)) fields.phone_last4 = [t("last4_invalid")];
  if (Object.keys(fields).length) {
    showErrors(form, { message: t("check_form"), fields });
    return;
  }
  busy(trackButton, true, t("searching"));
  try {
    const data = await api("/api/v1/track/", { params: { code, phone_last4: last4 } });
    current = { code: data.tracking_code, last4 };
    rememberTracking(data.tracking_code, last4);
    const url = new URL(window.location.href);
    url.searchParams.set("code", data.tracking_code);
    window.history.replaceState(null, "", url);
    resultNotice.hidden = true;
    render(data);
    resultTitle.focus();
  } catch (error) {
    // One message for a wrong code or wrong digits: the API does not say which half was wrong.
    if (error.status === 404) error.message = t("not_found");
    throttled(error);
    result.hidden = true;
    current = null;
    showErrors(form, error);
  } finally {
    busy(trackButton, false, t("search"));
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  track();
});

evaluateForm.addEventListener("change", (event) => {
  if (event.target.name === "rating") clearErrors(evaluateForm);
});

evaluateForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!current) return;
  clearErrors(evaluateForm);
  const rating = evaluateForm.elements.rating.value;
  if (!rating) {
    showErrors(evaluateForm, { message: t("rating_required"), fields: { rating: [t("rating_required")] } });
    return;
  }
  busy(evaluateButton, true, t("evaluating"));
  try {
    const data = await api("/api/v1/track/evaluate/", {
      method: "POST",
      body: { code: current.code, phone_last4: current.last4, rating, comment: evaluateForm.elements.comment.value },
    });
    evaluateForm.reset();
    render(data);
    resultNotice.textContent = fmt("thanks", { status: data.status_display });
    resultNotice.hidden = false;
    resultTitle.focus();
  } catch (error) {
    throttled(error);
    showErrors(evaluateForm, error);
  } finally {
    busy(evaluateButton, false, t("evaluate"));
  }
});

// Opened from the confirmation page or 我的诉求 in this tab: the digits are remembered, so the
// result shows at once. Otherwise the code from ?code= is filled in and the digits are asked for.
const remembered = recalledTracking();
if (codeInput.value && remembered && remembered.code === codeInput.value.trim().toUpperCase() && remembered.last4) {
  last4Input.value = remembered.last4;
  track();
}
