// Small DOM helpers: elements from data (never HTML strings), the three states every view has,
// and formatting. Text always goes in as text nodes, so nothing from the API is parsed as HTML.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "value") el.value = value;
    else if (key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let uid = 0;
export function id(prefix = "f") {
  uid += 1;
  return `${prefix}-${uid}`;
}

// A labelled form control: returns [wrapper, control].
export function field(label, control, hint) {
  control.id = control.id || id();
  const parts = [h("label", { for: control.id }, label), control];
  if (hint) {
    const hintId = id("hint");
    control.setAttribute("aria-describedby", hintId);
    parts.push(h("small", { id: hintId, class: "hint" }, hint));
  }
  return [h("div", { class: "field" }, parts), control];
}

export function select(options, value) {
  return h("select", {}, options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)));
}

export function loading(text = "Loading…") {
  return h("p", { class: "state loading", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), text);
}

export function empty(text, ...more) {
  return h("div", { class: "state empty" }, h("p", {}, text), more);
}

// An error a person can act on: what failed, the API's own message, and a way to try again.
export function failure(what, err, retry) {
  const box = h("div", { class: "state error", role: "alert" },
    h("p", {}, h("strong", {}, what)),
    h("p", { class: "message" }, describe(err)));
  const details = Array.isArray(err && err.details) ? err.details.filter((d) => d && d.msg).slice(0, 5) : [];
  if (details.length) {
    box.append(h("ul", { class: "details" }, details.map((d) => h("li", {},
      Array.isArray(d.loc) && d.loc.length ? `${d.loc.filter((x) => typeof x === "string").join(".") || "body"}: ` : "", d.msg))));
  }
  if (retry) box.append(h("button", { type: "button", onclick: retry }, "Try again"));
  return box;
}

export function describe(err) {
  if (!err) return "Unknown error.";
  if (err.status === 0) return err.message;
  if (err.status) return `${err.message} (HTTP ${err.status}${err.code ? `, ${err.code}` : ""})`;
  return err.message || String(err);
}

export function toast(text) {
  const el = document.getElementById("toast");
  el.textContent = text;
  el.classList.add("show");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => el.classList.remove("show"), 4000);
}

export function bytes(n) {
  if (n === null || n === undefined) return "";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = Number(n);
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i += 1; }
  return `${i ? v.toFixed(1) : v} ${units[i]}`;
}

export function when(stamp) {
  if (!stamp) return "";
  const d = new Date(stamp);
  return Number.isNaN(d.getTime()) ? stamp : d.toLocaleString();
}

export const STATUS_TEXT = {
  pending: "-------- (uploading)",
  processing: "processing",
  ready: "ready (analysis stored)",
  db_ready: "db_ready (rated)",
  error: "error",
};

export function statusBadge(status) {
  return h("span", { class: `badge status-${status}`, "data-status": status }, STATUS_TEXT[status] || status);
}

// Focus the view's heading after navigation, so keyboard and screen-reader users land on it.
export function focusHeading(root) {
  const heading = root.querySelector("h1, h2");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: false });
  }
}
