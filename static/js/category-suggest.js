// 智能派单 on the forms: the categories a complaint's words suggest (cases.router), asked once
// the typing pauses, and how each suggestion is explained (its reason).
//
// Only the first SENT_CHARS characters are sent: the matter is in the opening words, and a
// query of Chinese text (nine bytes a character once encoded) stays under the 4 KB request line
// that gunicorn and most proxies accept. The text is used and dropped by the server.

import { api, t } from "./api.js";
import { el, fmt, newestOnly } from "./ui.js";

export const SENT_CHARS = 300;
const MIN_CHARS = 4; // fewer characters say nothing a category list does not
const DELAY_MS = 500;

// watchSuggestions({inputs, region, onAnswer}): ask after each pause in typing into `inputs`;
// `region()` gives the community's id when known (staff then get its 权责清单 unit);
// `onAnswer(data | null)` gets the newest answer only (null: nothing to suggest yet).
export function watchSuggestions({ inputs, region = () => null, onAnswer }) {
  async function ask(current) {
    const text = [...inputs.map((input) => input.value.trim()).filter(Boolean).join(" ")];
    if (text.length < MIN_CHARS) {
      onAnswer(null);
      return;
    }
    const params = { text: text.slice(0, SENT_CHARS).join("") };
    const community = region();
    if (community) params.region = community;
    let data = null;
    try {
      data = await api("/api/v1/categories/suggest/", { params });
    } catch (error) {
      data = null; // a hint only: the form works without it
    }
    if (current()) onAnswer(data);
  }

  const asking = newestOnly(ask, DELAY_MS);
  for (const input of inputs) input.addEventListener("input", asking.later);
  return {
    later: asking.later,
    reset() {
      asking.drop();
      onAnswer(null);
    },
  };
}

// The suggestions worth a line: the best always, the others when the rule named them or the
// model gives them at least MIN_SHOWN (a 0 % guess is noise), at most `limit`.
const MIN_SHOWN = 0.05;
export function worthShowing(rows, limit = 3) {
  return rows
    .filter((row, i) => i === 0 || row.probability === null || row.probability >= MIN_SHOWN)
    .slice(0, limit);
}

// "供暖 › 供暖不热"
export function categoryPath(category) {
  return category.parent_name ? `${category.parent_name} › ${category.name}` : category.name;
}

// Why a category is suggested: the model's confidence or the rule, and (staff) the 权责清单's
// unit for the place and the units that answered such cases to the complainant's satisfaction.
export function reasons(suggestion) {
  const parts = [suggestion.probability === null
    ? t("suggest_rule")
    : fmt("suggest_probability", { p: Math.round(suggestion.probability * 100) })];
  if (suggestion.rule_unit) parts.push(fmt("suggest_rule_unit", { unit: suggestion.rule_unit.name }));
  if (suggestion.learned_units?.length) {
    const units = suggestion.learned_units
      .map((unit) => fmt("suggest_learned_unit", { name: unit.name, n: unit.cases }))
      .join(t("sep", "、"));
    parts.push(fmt("suggest_learned", { units }));
  }
  return parts.join(" · ");
}

// The line above the suggestions when the model is there but unsure (the rule comes first).
export function unsureNote(data) {
  return data.model_version !== null && !data.confident
    ? el("p", { class: "small xn-muted mb-1", text: fmt("suggest_unsure", { p: Math.round(data.threshold * 100) }) })
    : null;
}
