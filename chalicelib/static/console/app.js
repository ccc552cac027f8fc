// The console: sign-in, navigation by role, and a hash router (#/files, #/files/{id}, #/upload,
// #/bulk, #/bulk/{id}, #/pages, #/pages/{id}), so the API serves one page and deep links still work.
import { can, claims, config, onUnauthorized, signIn, signOut, token } from "./api.js";
import { failure, field, focusHeading, h, replace } from "./dom.js";
import { bulkListView, bulkView } from "./bulk.js";
import { fileView, filesView, uploadView } from "./files.js";
import { pageView, pagesView } from "./pages.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const who = document.getElementById("who");
let cleanup = () => {};
let signInReason = null;

function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function signInView(reason) {
  const [tokenField, input] = field("Bearer token", h("textarea", { rows: 3, autocomplete: "off", spellcheck: false, class: "mono", required: true }),
    "Paste the token you were given. It is kept in this tab only (sessionStorage) and sent to this API alone.");
  const msg = h("div", { "aria-live": "assertive" });
  const form = h("form", { class: "card signin" }, tokenField,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Sign in")), msg);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const raw = input.value.trim();
    const c = claims(raw);
    if (!c) {
      replace(msg, failure("That is not a Kadr token.", { message: "A token has three dot-separated parts and names a role." }));
      input.focus();
      return;
    }
    if (c.exp && c.exp * 1000 < Date.now()) {
      replace(msg, failure("That token has expired.", { message: `It expired on ${new Date(c.exp * 1000).toLocaleString()}. Ask for a new one.` }));
      input.focus();
      return;
    }
    signIn(raw);
    navigate(home(c.role));
  });
  const local = h("div", { class: "local-tokens" });
  replace(main, h("h1", {}, "Sign in"), reason ? failure("You were signed out.", { message: reason }) : null, form, local);
  focusHeading(main);
  config().then((cfg) => {
    if (!cfg || !cfg.tokens) return;
    replace(local, h("section", { class: "card", "aria-labelledby": "local-title" },
      h("h2", { id: "local-title" }, "Local stack"),
      h("p", { class: "hint" }, "This server is the local development stack: sign in with one of its tokens."),
      h("div", { class: "row wrap" }, Object.entries(cfg.tokens).map(([role, t]) => h("button", {
        type: "button", "data-role": role, onclick: () => { signIn(t); navigate(home(role)); },
      }, `Sign in as ${role}`)))));
  });
}

function home(role) {
  return can(role, "files") ? "#/files" : "#/pages";
}

function drawChrome(c) {
  if (!c) {
    replace(nav);
    replace(who);
    return;
  }
  const links = [];
  if (can(c.role, "files")) links.push(["#/files", "Files"], ["#/upload", "Upload"], ["#/bulk", "Bulk uploads"]);
  if (can(c.role, "pages")) links.push(["#/pages", "Pages"]);
  const here = location.hash.split("/").slice(0, 2).join("/");
  replace(nav, h("ul", {}, links.map(([href, text]) => h("li", {}, h("a", { href, "aria-current": href === here ? "page" : null }, text)))));
  replace(who, h("span", { class: "role" }, `${c.sub} · ${c.role}`),
    h("button", { type: "button", id: "sign-out", onclick: () => { signOut(); navigate("#/"); } }, "Sign out"));
}

function forbidden(what) {
  replace(main, h("h1", {}, "Not for this role"), failure(`Your role cannot use ${what}.`, { message: "Sign in with another token to use it." }));
  focusHeading(main);
}

const ID = /^[0-9a-f]{32}$/;

function route() {
  const hash = location.hash || "#/";
  if (!hash.startsWith("#/")) return; // an in-page anchor such as the skip link
  cleanup();
  cleanup = () => {};
  const c = token() ? claims() : null;
  drawChrome(c);
  if (!c) {
    signInView(signInReason);
    signInReason = null;
    return;
  }
  const [, section, id] = hash.split("/");
  if (section === "" || section === undefined) return navigate(home(c.role));
  // Ids are the server's (chalicelib/ids.py): anything else ("..%2Fpages%2F…") never reaches an API path.
  if (id && !ID.test(id)) return notFound(hash);
  if (section === "files" || section === "upload") {
    if (!can(c.role, "files")) return forbidden("files (uploaders do)");
    if (section === "upload") return uploadView(main, navigate);
    if (id) {
      cleanup = fileView(main, id) || cleanup;
      return undefined;
    }
    return filesView(main);
  }
  if (section === "bulk") {
    if (!can(c.role, "files")) return forbidden("bulk uploads (uploaders do)");
    if (id) {
      cleanup = bulkView(main, id) || cleanup;
      return undefined;
    }
    return bulkListView(main);
  }
  if (section === "pages") return id ? pageView(main, id) : pagesView(main);
  return notFound(hash);
}

function notFound(hash) {
  replace(main, h("h1", {}, "Not found"), failure("There is no such view.", { message: `Nothing lives at ${hash}.` }));
  focusHeading(main);
  return undefined;
}

onUnauthorized((err) => {
  signOut();
  signInReason = `The API refused your token: ${err.message}. Sign in again.`;
  navigate("#/");
});

document.getElementById("skip").addEventListener("click", (event) => {
  event.preventDefault();
  main.focus();
});
window.addEventListener("hashchange", route);
route();
