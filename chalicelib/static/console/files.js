// Files: the upload form (with resumable uploads), the list, and one file's live view.
import { claims, get, missingRoute, patch, post } from "./api.js";
import { bytes, empty, failure, field, focusHeading, h, loading, replace, select, statusBadge, toast, when } from "./dom.js";
import { watch } from "./live.js";
import { renderReport } from "./report.js";
import * as uploads from "./upload.js";

export const AUDIENCES = [["", "No target audience"], ["0+", "0+"], ["6+", "6+"], ["12+", "12+"], ["16+", "16+"], ["18+", "18+"]];
const KINDS = [["screenplay", "Screenplay"], ["video", "Video"], ["audio", "Audio"], ["subtitles", "Subtitles"]];

function kindOf(file) {
  const name = file.name.toLowerCase();
  if (/\.(mp4|mov|mkv|webm|avi)$/.test(name)) return "video";
  if (/\.(mp3|wav|ogg|m4a|flac)$/.test(name)) return "audio";
  if (/\.(srt|vtt)$/.test(name)) return "subtitles";
  return "screenplay";
}

// ---------------------------------------------------------------- upload

function progressBlock(label) {
  const bar = h("progress", { max: 100, value: 0, "aria-label": label });
  const text = h("span", { class: "progress-text", "aria-live": "polite" }, "0 %");
  return { el: h("div", { class: "progress" }, bar, text), bar, text };
}

function showProgress(p, sent, total) {
  const pct = total ? Math.floor((sent / total) * 100) : 100;
  p.bar.value = pct;
  p.text.textContent = `${pct} % · ${bytes(sent)} of ${bytes(total)}`;
}

export function uploadView(root, navigate) {
  const owner = claims().sub;
  const [fileField, input] = field("File", h("input", { type: "file", name: "file", required: true }),
    "Screenplays as .txt, .docx, .pdf or .fdx; videos, audio and subtitles too.");
  const [kindField, kind] = field("Kind", select(KINDS, "screenplay"));
  const [audienceField, audience] = field("Target audience", select(AUDIENCES, ""),
    "The rating report says what exceeds it. You can change it later.");
  const button = h("button", { type: "submit", class: "primary", id: "upload-button" }, "Upload");
  const status = h("div", { class: "upload-status", "aria-live": "polite" });
  input.addEventListener("change", () => { if (input.files[0]) kind.value = kindOf(input.files[0]); });

  const form = h("form", { class: "card", "aria-labelledby": "upload-title" },
    h("h2", { id: "upload-title" }, "Upload a file"), fileField, kindField, audienceField,
    h("div", { class: "actions" }, button), status);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = input.files[0];
    if (!file) {
      replace(status, failure("Choose a file first.", { message: "No file is selected." }));
      input.focus();
      return;
    }
    button.disabled = true;
    const p = progressBlock(`Uploading ${file.name}`);
    replace(status, h("p", {}, `Starting the upload of ${file.name}…`), p.el);
    try {
      const created = await uploads.create(file, { kind: kind.value, targetAudience: audience.value || null, owner });
      const record = uploads.pendingUploads(owner).find((r) => r.id === created.id);
      replace(status, h("p", {}, `Uploading ${file.name} (${bytes(file.size)}, ${record.partCount} part${record.partCount > 1 ? "s" : ""})… `,
        h("a", { href: `#/files/${created.id}` }, "open its page")), p.el);
      const done = await uploads.run(record, file, { onProgress: (s, t) => showProgress(p, s, t) });
      showProgress(p, file.size, file.size);
      toast(`${file.name} uploaded.`);
      if (location.hash === "#/upload") navigate(`#/files/${done.id}`); // not if the user went elsewhere
    } catch (err) {
      replace(status, failure(`The upload of ${file.name} stopped.`, err),
        h("p", {}, "It can be resumed below: choose the same file again."));
      renderResumable(resumeBox, owner, navigate);
    } finally {
      button.disabled = false;
    }
  });

  const resumeBox = h("section", { class: "resumable", "aria-labelledby": "resume-title" });
  replace(root, h("h1", {}, "Upload"), form, resumeBox);
  renderResumable(resumeBox, owner, navigate);
  focusHeading(root);
}

// Uploads this browser started and did not finish: resume with the same file, or discard.
function renderResumable(box, owner, navigate) {
  const records = uploads.pendingUploads(owner);
  if (!records.length) {
    replace(box);
    return;
  }
  replace(box, h("h2", { id: "resume-title" }, "Unfinished uploads"),
    h("p", { class: "hint" }, "Kept by this browser. Choose the same file again to continue where it stopped."),
    h("ul", { class: "plain" }, records.map((record) => {
      const pick = h("input", { type: "file", "aria-label": `Choose ${record.name} again to resume` });
      const msg = h("div", { "aria-live": "polite" });
      const resume = h("button", { type: "button", class: "primary", "aria-label": `Resume ${record.name}` }, "Resume");
      const discard = h("button", { type: "button", "aria-label": `Discard ${record.name}` }, "Discard");
      resume.addEventListener("click", async () => {
        const file = pick.files[0];
        if (!uploads.matches(record, file)) {
          replace(msg, failure("That is not the same file.", { message: `Choose ${record.name} (${bytes(record.size)}).` }));
          pick.focus();
          return;
        }
        resume.disabled = true;
        const p = progressBlock(`Resuming ${record.name}`);
        replace(msg, p.el);
        try {
          const done = await uploads.run(record, file, { onProgress: (s, t) => showProgress(p, s, t) });
          toast(`${record.name} uploaded.`);
          navigate(`#/files/${done.id}`);
        } catch (err) {
          if (err.code === "upload_closed" || err.code === "upload_expired") {
            uploads.forget(record.id);
            replace(msg, failure("This upload cannot continue.", err),
              h("a", { href: `#/files/${record.id}` }, `See ${record.name}`));
          } else {
            replace(msg, failure("Resuming failed.", err));
          }
        } finally {
          resume.disabled = false;
        }
      });
      discard.addEventListener("click", async () => {
        try {
          await uploads.abort(record.id);
        } catch {
          /* already closed on the server: forgetting it here is all that is left */
        }
        renderResumable(box, owner, navigate);
      });
      return h("li", { class: "card" }, h("p", {}, h("strong", {}, record.name), ` · ${bytes(record.size)} · started ${when(new Date(record.startedAt).toISOString())}`),
        h("div", { class: "row" }, pick, resume, discard), msg);
    })));
}

// ---------------------------------------------------------------- list

export function filesView(root) {
  const list = h("div", { class: "files" });
  replace(root, h("div", { class: "title-row" }, h("h1", {}, "Your files"), h("a", { class: "button primary", href: "#/upload" }, "Upload a file")), list);
  focusHeading(root);
  load(list, "/files?limit=20", true);
}

async function load(list, path, first) {
  const more = list.querySelector(".more");
  if (more) more.remove();
  const spinner = loading("Loading your files…");
  list.append(spinner);
  try {
    const page = await get(path);
    spinner.remove();
    if (first && !page.results.length) {
      list.append(empty("You have no files yet.", h("a", { href: "#/upload" }, "Upload your first file")));
      return;
    }
    let table = list.querySelector("table");
    if (!table) {
      table = h("table", {}, h("caption", { class: "sr-only" }, `Your files (${page.count})`),
        h("thead", {}, h("tr", {}, ["Name", "Status", "Kind", "Size", "Target", "Created"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody"));
      list.append(h("div", { class: "table-wrap" }, table));
    }
    const body = table.querySelector("tbody");
    for (const f of page.results) {
      body.append(h("tr", {},
        h("td", { "data-label": "Name" }, h("a", { href: `#/files/${f.id}` }, f.filename)),
        h("td", { "data-label": "Status" }, statusBadge(f.status)),
        h("td", { "data-label": "Kind" }, f.kind),
        h("td", { "data-label": "Size" }, bytes(f.size)),
        h("td", { "data-label": "Target" }, f.target_audience || "—"),
        h("td", { "data-label": "Created" }, when(f.created_at))));
    }
    if (page.next) {
      list.append(h("div", { class: "more" }, h("button", { type: "button", onclick: () => load(list, page.next, false) }, "Load more")));
    }
  } catch (err) {
    spinner.remove();
    list.append(failure("Your files could not be loaded.", err, () => { replace(list); load(list, path, first); }));
  }
}

// ---------------------------------------------------------------- one file

export function fileView(root, fileId) {
  replace(root, loading("Loading the file…"));
  let stop = () => {};
  let current = null;
  const statusEl = h("span", { id: "file-status" });
  const modeEl = h("p", { class: "hint", id: "live-mode", role: "status" });
  const meta = h("dl", { class: "meta" });
  const referEl = h("div", { id: "refer" });
  const reportEl = h("section", { id: "report", "aria-labelledby": "report-title" });
  const audience = select(AUDIENCES, "");
  const audienceMsg = h("span", { "aria-live": "polite" });
  let reportStatus = null;

  async function saveAudience(event) {
    event.preventDefault();
    try {
      const updated = await patch(`/files/${fileId}`, { target_audience: audience.value || null });
      replace(audienceMsg, "Saved.");
      if (updated && updated.id) show(updated);
      reportStatus = null;
      refreshReport(current);
    } catch (err) {
      replace(audienceMsg, missingRoute(err) ? "Changing the target audience is not available on this server yet." : `Not saved: ${err.message}`);
    }
  }
  const [audienceField] = field("Target audience", audience);
  const audienceForm = h("form", { class: "row inline", onsubmit: saveAudience }, audienceField,
    h("button", { type: "submit" }, "Save target"), audienceMsg);

  function show(file) {
    if (file.partial && current) file = { ...current, ...file, partial: false };
    current = file;
    replace(statusEl, statusBadge(file.status));
    if (document.activeElement !== audience) audience.value = file.target_audience || "";
    const rows = [["File", file.filename], ["Kind", file.kind], ["Size", bytes(file.size)],
      ["Status since", when(file.status_at)], ["Uploaded", when(file.created_at)]];
    if (file.error) rows.push(["Error", file.error]);
    replace(meta, rows.filter(([, v]) => v).map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
    refreshReport(file);
  }

  function showRefer(refer) {
    if (!refer || !refer.url) {
      const state = (refer && refer.state) || (current && current.refer ? current.refer.state : "none");
      replace(referEl, h("p", { class: "hint" }, state === "expired"
        ? "The analyzers' download key has expired."
        : "No download key yet: one is issued once the file is stored."), reissueButton());
      return;
    }
    replace(referEl,
      h("p", {}, "Analyzers download this file with the refer-key URL below (it rotates every 90 s until a download starts)."),
      h("div", { class: "row" }, h("input", { type: "text", readOnly: true, value: refer.url, id: "refer-url", "aria-label": "Refer-key download URL", class: "mono grow" }),
        h("button", { type: "button", onclick: () => navigator.clipboard && navigator.clipboard.writeText(refer.url).then(() => toast("Copied.")) }, "Copy")),
      h("p", { class: "hint" }, `Valid until ${when(refer.expires_at)}`, refer.state && refer.state !== "active" ? ` · ${refer.state}` : ""),
      reissueButton());
  }

  function reissueButton() {
    if (!current || current.status === "pending") return null;
    return h("button", { type: "button", onclick: async (e) => {
      e.target.disabled = true;
      try {
        showRefer(await post(`/files/${fileId}/refer`, {}));
        toast("A new key was issued; the old one stopped working.");
      } catch (err) {
        toast(`No new key: ${err.message}`);
      } finally {
        e.target.disabled = false;
      }
    } }, "Issue a new key");
  }

  function refreshReport(file) {
    const key = `${file.status}/${file.target_audience}`;
    if (key === reportStatus) return;
    reportStatus = key;
    renderReport(reportEl, file);
  }

  get(`/files/${fileId}`).then((file) => {
    replace(root,
      h("p", {}, h("a", { href: "#/files" }, "← All files")),
      h("h1", {}, file.filename),
      h("div", { class: "card" },
        h("p", { class: "status-line" }, "Status: ", statusEl), modeEl, meta, audienceForm),
      h("section", { class: "card", "aria-labelledby": "refer-title" }, h("h2", { id: "refer-title" }, "Download key for analyzers"), referEl),
      reportEl);
    show(file);
    showRefer(null);
    focusHeading(root);
    stop = watch(fileId, {
      onFile: show,
      onRefer: showRefer,
      onMode: (mode, text) => { modeEl.dataset.mode = mode; modeEl.textContent = text; },
    });
  }).catch((err) => {
    replace(root, h("p", {}, h("a", { href: "#/files" }, "← All files")),
      failure(err.status === 404 ? "No such file (or it is not yours)." : "The file could not be loaded.", err, () => fileView(root, fileId)));
  });
  return () => stop();
}
