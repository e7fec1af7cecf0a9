// The pages' one way to build DOM (el) and one way to format a message (fmt). Data from the API
// only ever becomes text (text nodes or textContent), never markup: nothing here parses HTML.

import { t } from "./api.js";

// fmt("selected", {n: 2}) → the page's translated text "已选 %(n)s 件" filled in: "已选 2 件".
// One placeholder syntax, %(name)s: Python's gettext and Django's JS interpolate() use it, so a
// text reads the same in the view that defines it, in the catalogue and here. A placeholder with
// no value is left as it is, so a missing value shows rather than vanishing.
export function fmt(key, values = {}, fallback = "") {
  return t(key, fallback).replace(/%\((\w+)\)s/g, (match, name) => (name in values ? String(values[name]) : match));
}

// el("p", {class: "x", hidden: true, dataset: {id: 1}, onclick: fn}, "text", child) → an element.
//   class → className; text → textContent; dataset → data-* attributes; on<event> with a
//   function → a listener; true → an empty attribute; false, null and undefined are left out.
//   Children may be nodes, strings or numbers (as text), nested arrays, or null/false (skipped).
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// A row of a table: the first ``header`` cells are row headers (th scope=row), the rest td.
export function row(cells, { header = 1 } = {}) {
  return el("tr", {}, cells.map((cell, i) => (i < header ? el("th", { scope: "row" }, cell) : el("td", {}, cell))));
}

// newestOnly(work, delay) → {later, now, drop}: the one way a page asks the server while the
// user types. later() runs `work(current)` `delay` ms after the last call (typing paused), now()
// at once, drop() forgets what is pending; `current()` says whether that run is still the
// newest, so an answer that arrives after a newer question is left unshown.
export function newestOnly(work, delay) {
  let timer = null;
  let asked = 0;
  const run = () => {
    const question = ++asked;
    return work(() => question === asked);
  };
  return {
    later() {
      clearTimeout(timer);
      timer = setTimeout(run, delay);
    },
    now() {
      clearTimeout(timer);
      return run();
    },
    drop() {
      clearTimeout(timer);
      asked += 1;
    },
  };
}
