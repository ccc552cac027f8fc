// Browser-side presigned multipart upload: parts go straight to S3, PARALLEL at a time, each
// retried with exponential backoff; what is needed to resume after a reload is kept in
// localStorage (the file itself cannot be: the user selects it again, and its name, size and
// modification time must match).
import { ApiError, del, get, post } from "./api.js";

export const PARALLEL = 4;
const RETRIES = 5;
const SIGN_BATCH = 20; // presigned URLs live minutes: sign a few at a time, as workers need them
const STORE_KEY = "kadr.uploads";

function loadAll() {
  try {
    return JSON.parse(localStorage.getItem(STORE_KEY) || "{}") || {};
  } catch {
    return {};
  }
}

function saveAll(all) {
  localStorage.setItem(STORE_KEY, JSON.stringify(all));
}

export function pendingUploads(owner) {
  return Object.values(loadAll()).filter((u) => u.owner === owner);
}

export function remember(record) {
  const all = loadAll();
  all[record.id] = record;
  saveAll(all);
}

export function forget(fileId) {
  const all = loadAll();
  delete all[fileId];
  saveAll(all);
}

export function matches(record, file) {
  return file && record.name === file.name && record.size === file.size && record.lastModified === file.lastModified;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const backoff = (attempt) => Math.min(8000, 400 * 2 ** attempt) * (0.5 + Math.random());

function randomKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// Create the file record and its multipart upload; remembered at once for resuming.
export async function create(file, { kind, targetAudience, owner }) {
  const body = {
    filename: file.name,
    size: file.size,
    content_type: file.type || "application/octet-stream",
    kind,
  };
  if (targetAudience) body.target_audience = targetAudience;
  const created = await post("/files", body, { headers: { "Idempotency-Key": randomKey() } });
  remember({
    id: created.id, owner, name: file.name, size: file.size, lastModified: file.lastModified, kind,
    partSize: created.upload.part_size, partCount: created.upload.part_count, startedAt: Date.now(),
  });
  return created;
}

// Upload every part S3 does not hold yet, then complete. onProgress(sentBytes, totalBytes).
export async function run(record, file, { onProgress = () => {}, signal } = {}) {
  if (!matches(record, file)) {
    throw new ApiError(0, "wrong_file", `Choose the same file to resume: ${record.name} (${record.size} bytes).`);
  }
  const stored = await get(`/files/${record.id}/parts`);
  const etags = new Map(stored.parts.map((p) => [p.part_number, p.etag]));
  const sizeOf = (n) => Math.min(record.partSize, record.size - (n - 1) * record.partSize);
  let sent = 0;
  for (const n of etags.keys()) sent += sizeOf(n);
  const inFlight = new Map();
  const report = () => onProgress(sent + [...inFlight.values()].reduce((a, b) => a + b, 0), record.size);
  report();

  const todo = [];
  for (let n = 1; n <= record.partCount; n += 1) if (!etags.has(n)) todo.push(n);
  const signed = new Map();

  async function urlFor(n) {
    const cached = signed.get(n);
    if (cached && Date.parse(cached.expires_at) - Date.now() > 30000) return cached;
    const batch = [n, ...todo.filter((m) => m !== n && !signed.has(m)).slice(0, SIGN_BATCH - 1)];
    const answer = await post(`/files/${record.id}/parts`, { part_numbers: batch });
    for (const part of answer.parts) signed.set(part.part_number, part);
    return signed.get(n);
  }

  function put(part, blob, n) {
    // XMLHttpRequest, not fetch: it reports upload progress.
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("PUT", part.url);
      for (const [k, v] of Object.entries(part.headers || {})) xhr.setRequestHeader(k, v);
      xhr.upload.onprogress = (e) => { inFlight.set(n, e.loaded); report(); };
      xhr.onload = () => {
        if (xhr.status >= 200 && xhr.status < 300) {
          const etag = xhr.getResponseHeader("ETag");
          if (!etag) reject(new ApiError(0, "no_etag", "Storage accepted a part but did not expose its ETag (the bucket's CORS must expose ETag)."));
          else resolve(etag);
        } else {
          reject(new ApiError(xhr.status, "storage", `Storage refused part ${n}: HTTP ${xhr.status}`));
        }
      };
      xhr.onerror = () => reject(new ApiError(0, "network", `Part ${n} could not reach storage (network error).`));
      xhr.onabort = () => reject(new DOMException("aborted", "AbortError"));
      if (signal) signal.addEventListener("abort", () => xhr.abort(), { once: true });
      xhr.send(blob);
    });
  }

  async function one(n) {
    const blob = file.slice((n - 1) * record.partSize, (n - 1) * record.partSize + sizeOf(n));
    for (let attempt = 0; ; attempt += 1) {
      if (signal && signal.aborted) throw new DOMException("aborted", "AbortError");
      try {
        const part = await urlFor(n);
        const etag = await put(part, blob, n);
        inFlight.delete(n);
        etags.set(n, etag);
        sent += blob.size;
        report();
        return;
      } catch (err) {
        inFlight.delete(n);
        if (err.name === "AbortError" || attempt + 1 >= RETRIES) throw err;
        // 4xx from the API (e.g. the upload closed) will not get better by retrying.
        if (err.status >= 400 && err.status < 500 && err.code !== "storage") throw err;
        if (err.status === 403) signed.delete(n); // an expired URL: sign it again
        await sleep(backoff(attempt));
      }
    }
  }

  const queue = [...todo];
  let failed = null; // the first part that gives up stops the other workers too
  const workers = Array.from({ length: Math.min(PARALLEL, queue.length) }, async () => {
    while (queue.length && !failed) {
      try {
        await one(queue.shift());
      } catch (err) {
        failed = failed || err;
        throw err;
      }
    }
  });
  await Promise.all(workers);
  const parts = [...etags.entries()].sort((a, b) => a[0] - b[0]).map(([part_number, etag]) => ({ part_number, etag }));
  const done = await post(`/files/${record.id}/complete`, { parts });
  forget(record.id);
  return done;
}

export async function abort(fileId) {
  try {
    await del(`/files/${fileId}/upload`);
  } finally {
    forget(fileId);
  }
}
