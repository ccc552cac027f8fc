// The API client: same origin as the page (the API root is the page's <base>), bearer token kept
// in sessionStorage (gone when the tab closes), errors as ApiError carrying the API's message.

export const ROOT = new URL(".", document.baseURI).href.replace(/\/$/, "");
const TOKEN_KEY = "kadr.token";

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

// The token's claims, read without verifying (the API verifies): who to show, which views.
export function claims(raw = token()) {
  if (!raw) return null;
  const parts = raw.trim().split(".");
  if (parts.length !== 3) return null;
  try {
    const json = atob(parts[1].replace(/-/g, "+").replace(/_/g, "/"));
    const data = JSON.parse(json);
    return typeof data.role === "string" && typeof data.sub === "string" ? data : null;
  } catch {
    return null;
  }
}

export function signIn(raw) {
  sessionStorage.setItem(TOKEN_KEY, raw.trim());
}

export function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
}

const listeners = new Set();
export function onUnauthorized(fn) {
  listeners.add(fn);
}

export function url(path) {
  return /^https?:/.test(path) ? path : ROOT + path;
}

async function errorOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    /* not JSON */
  }
  const e = body && body.error;
  if (e && e.message) return new ApiError(response.status, e.code, e.message, e.details);
  return new ApiError(response.status, null, `${response.status} ${response.statusText || "error"}`);
}

// fetch() with the token; JSON in and out. Returns the parsed body (null for 204), or the raw
// Response when opts.raw is set. Throws ApiError: status 0 when the API cannot be reached.
export async function request(method, path, opts = {}) {
  const headers = { Accept: opts.accept || "application/json", ...(opts.headers || {}) };
  const t = token();
  // The bearer token goes to this API only, whatever absolute URL (a "next" link) is passed in.
  const own = new URL(url(path), ROOT).origin === new URL(ROOT).origin;
  if (t && !opts.anonymous && own) headers.Authorization = `Bearer ${t}`;
  let body;
  if (opts.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(opts.body);
  }
  let response;
  try {
    response = await fetch(url(path), { method, headers, body, signal: opts.signal, cache: "no-store" });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "network", `Cannot reach the API at ${ROOT}: check your connection and that the server runs.`);
  }
  if (!response.ok) {
    const err = await errorOf(response);
    if (response.status === 401 && t && !opts.anonymous) listeners.forEach((fn) => fn(err));
    throw err;
  }
  if (opts.raw) return response;
  if (response.status === 204) return null;
  const type = response.headers.get("Content-Type") || "";
  return type.includes("json") ? response.json() : response.text();
}

export const get = (path, opts) => request("GET", path, opts);
export const post = (path, body, opts = {}) => request("POST", path, { ...opts, body });
export const patch = (path, body, opts = {}) => request("PATCH", path, { ...opts, body });
export const put = (path, body, opts = {}) => request("PUT", path, { ...opts, body });
export const del = (path, opts) => request("DELETE", path, opts);

// A route the server does not have yet answers 404 (or 405): views show "not available yet".
export function missingRoute(err) {
  return err instanceof ApiError && (err.status === 405 || (err.status === 404 && !/no such file/i.test(err.message)));
}

let configPromise = null;
export function config() {
  configPromise = configPromise || get("/console/config.json", { anonymous: true }).catch(() => ({ ws: null, tokens: null }));
  return configPromise;
}

export function can(role, what) {
  const roles = {
    files: ["uploader", "admin"],
    pages: ["reader", "uploader", "editor", "analyzer", "admin"],
    edit: ["editor", "admin"],
  };
  return (roles[what] || []).includes(role);
}
