// A file's rating report (findings by scene, what exceeds the target), its comments and the xlsx.
// Routes that this server does not have yet (404/405) show "not available yet", not an error.
import { get, missingRoute, post, request } from "./api.js";
import { empty, failure, field, h, loading, replace, select, toast, when } from "./dom.js";

const SEVERITIES = [["", "Keep the finding's severity"], ["none", "none"], ["mild", "mild"], ["moderate", "moderate"], ["severe", "severe"]];

export function renderReport(section, file) {
  const title = h("h2", { id: "report-title" }, "Rating report");
  if (file.status !== "db_ready") {
    const why = {
      pending: "The file is still uploading.",
      processing: "The file is being analysed. The report appears here as soon as its rating is written (status db_ready).",
      ready: "The analysis is stored; its findings are being written. The report appears here in a moment.",
      error: "The file could not be analysed, so it has no report.",
    }[file.status] || "The report is not ready.";
    replace(section, title, h("p", { class: "state empty", id: "report-waiting" }, why));
    return;
  }
  replace(section, title, loading("Loading the report…"));
  get(`/files/${file.id}/report`).then((report) => {
    meanings = report.qualifiers && typeof report.qualifiers === "object" ? report.qualifiers : {};
    replace(section, title, reportBody(report, file), commentsBlock(file, report, () => renderReport(section, file)));
  }).catch((err) => {
    if (missingRoute(err)) {
      replace(section, title, h("p", { class: "state empty", id: "report-unavailable" }, "Rating reports are not available on this server yet."));
    } else if (err.status === 409) {
      replace(section, title, h("p", { class: "state empty" }, `The report is not ready yet: ${err.message}`));
    } else {
      replace(section, title, failure("The report could not be loaded.", err, () => renderReport(section, file)));
    }
  });
}

// What each qualifier means, from the report being shown (qualifier names stay as the API gives them).
let meanings = {};

function qualifierList(names) {
  const meaning = (q) => (Object.prototype.hasOwnProperty.call(meanings, q) && typeof meanings[q] === "string" ? meanings[q] : "");
  const items = names.map((q) => (meaning(q) ? h("abbr", { title: meaning(q) }, q) : h("span", {}, q)));
  return h("p", { class: "hint" }, "Qualifiers: ", ...items.flatMap((el, i) => (i ? [", ", el] : [el])));
}

function findingItem(f) {
  return h("li", { class: `finding sev-${f.severity}` },
    h("p", {}, h("strong", {}, f.category_name || f.category), " · ", h("span", { class: `badge sev-${f.severity}` }, f.severity),
      f.age ? ` · ${f.age}` : "", f.line ? ` · line ${f.line}` : ""),
    f.excerpt ? h("blockquote", {}, f.excerpt) : null,
    f.qualifiers && f.qualifiers.length ? qualifierList(f.qualifiers) : null,
    f.advice ? h("p", { class: "hint" }, `Advice: ${f.advice}`) : null,
    f.basis ? h("p", { class: "hint" }, `Basis: ${f.basis}`) : null);
}

async function downloadXlsx(file, button) {
  button.disabled = true;
  try {
    const response = await request("GET", `/files/${file.id}/report?format=xlsx`, {
      raw: true, accept: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" });
    const blob = await response.blob();
    const link = h("a", { href: URL.createObjectURL(blob), download: `${file.filename.replace(/\.[^.]+$/, "")}-report.xlsx` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  } catch (err) {
    toast(missingRoute(err) ? "The Excel report is not available on this server yet." : `No download: ${err.message}`);
  } finally {
    button.disabled = false;
  }
}

function sameScene(f, s) {
  if (s.scene !== null && s.scene !== undefined) return f.scene === s.scene;
  return (f.scene === null || f.scene === undefined) && (f.scene_label || "") === (s.scene_label || "");
}

function reportBody(report, file) {
  const exceeds = report.exceeds_target;
  const summary = h("div", { class: "card rating" },
    h("p", { class: "big" }, "Rating: ", h("strong", { id: "rating" }, report.rating || "not rated")),
    report.ai_rating ? h("p", {}, `AI service's rating: ${report.ai_rating}`) : null,
    h("p", {}, `Target audience: ${report.target_audience || "none set"}`),
    report.target_audience ? h("p", { class: exceeds ? "exceeds" : "fits", id: "exceeds" },
      exceeds ? `Exceeds the target ${report.target_audience}.` : `Fits the target ${report.target_audience}.`) : null,
    report.labelling && report.labelling.length ? h("p", {}, `Labelling required: ${report.labelling.join("; ")}`) : null,
    report.truncated ? h("p", { class: "hint" }, "The list is shortened; the Excel report holds every finding.") : null,
    h("button", { type: "button", onclick: (e) => downloadXlsx(file, e.target) }, "Download the report (.xlsx)"));
  const parts = [summary];
  if (report.exceedances && report.exceedances.length) {
    parts.push(h("section", { class: "card", "aria-labelledby": "exceed-title" },
      h("h3", { id: "exceed-title" }, `What exceeds ${report.target_audience}`),
      h("ul", { class: "plain" }, report.exceedances.map(findingItem))));
  }
  const scenes = report.scenes || [];
  const byId = new Map((report.findings || []).map((f) => [f.id, f]));
  parts.push(h("section", { class: "card", "aria-labelledby": "scenes-title" },
    h("h3", { id: "scenes-title" }, "Findings by scene"),
    scenes.length ? scenes.map((s) => {
      // A scene names its findings (ids or objects), or counts them: then they are the report's
      // findings placed in that scene.
      const found = Array.isArray(s.findings)
        ? s.findings.map((x) => (typeof x === "string" ? byId.get(x) : x)).filter(Boolean)
        : (report.findings || []).filter((f) => sameScene(f, s));
      const total = typeof s.findings === "number" ? s.findings : found.length;
      return h("details", { class: "scene" },
        h("summary", {}, `Scene ${s.scene_label || s.scene || "?"}${s.heading ? `: ${s.heading}` : ""} · ${s.rating || "—"} · ${total} finding${total === 1 ? "" : "s"}`,
          s.exceeds_target ? h("span", { class: "exceeds" }, " · exceeds the target") : null),
        found.length ? h("ul", { class: "plain" }, found.map(findingItem)) : null,
        found.length < total ? h("p", { class: "hint" }, `${total - found.length} more in the Excel report.`) : null,
        total ? null : h("p", { class: "hint" }, "No findings."));
    }) : empty("No findings: nothing in the file is restricted by age.")));
  if (report.categories && report.categories.length) {
    parts.push(h("section", { class: "card", "aria-labelledby": "cat-title" }, h("h3", { id: "cat-title" }, "By category"),
      h("div", { class: "table-wrap" }, h("table", {},
        h("thead", {}, h("tr", {}, ["Category", "Severity", "Age", "Findings"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, report.categories.map((c) => h("tr", {},
          h("td", { "data-label": "Category" }, c.name || c.category), h("td", { "data-label": "Severity" }, c.severity),
          h("td", { "data-label": "Age" }, c.age || "—"),
          h("td", { "data-label": "Findings" }, String(Array.isArray(c.findings) ? c.findings.length : c.findings ?? "")))))))));
  }
  return parts;
}

function commentsBlock(file, report, refresh) {
  const list = h("div", { class: "comments" });
  const findings = report.findings || [];
  const [textField, text] = field("Comment", h("textarea", { rows: 3, maxlength: 4000, required: true }));
  const [findingField, finding] = field("About a finding (optional)", select(
    [["", "The whole file"], ...findings.map((f) => [f.id, `${f.category_name || f.category} · scene ${f.scene_label || f.scene || "?"} · ${f.severity}`])], ""));
  const [severityField, severity] = field("Severity (optional)", select(SEVERITIES, ""),
    "Overrides the finding's severity in the merged recommendation.");
  const msg = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "card" }, h("h3", {}, "Add a comment"), textField, findingField, severityField,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Add comment")), msg);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!text.value.trim()) {
      replace(msg, failure("Write a comment first.", { message: "The comment is empty." }));
      text.focus();
      return;
    }
    const body = { text: text.value.trim() };
    if (finding.value) {
      body.finding_id = finding.value;
      const f = findings.find((x) => x.id === finding.value);
      if (f) {
        body.category = f.category;
        const scene = f.scene_label || (f.scene !== null && f.scene !== undefined ? String(f.scene) : "");
        if (scene) body.scene = scene; // the scene's label, a string
      }
    }
    if (severity.value) body.severity = severity.value;
    try {
      await post(`/files/${file.id}/comments`, body);
      toast("Comment added.");
      if (body.severity && body.finding_id) {
        refresh(); // a person's severity can change the rating: read the report again
        return;
      }
      text.value = "";
      finding.value = "";
      severity.value = "";
      replace(msg, "Comment added.");
      loadComments(list, file);
    } catch (err) {
      replace(msg, missingRoute(err) ? "Comments are not available on this server yet." : failure("The comment was not added.", err));
    }
  });
  loadComments(list, file);
  return h("section", { class: "card", "aria-labelledby": "comments-title" }, h("h3", { id: "comments-title" }, "Comments"), list, form);
}

// `next` may be a link or a bare cursor.
function nextPath(file, next) {
  return /^(https?:|\/)/.test(next) ? next : `/files/${file.id}/comments?cursor=${encodeURIComponent(next)}`;
}

async function loadComments(list, file, path = `/files/${file.id}/comments`, append = false) {
  if (!append) replace(list, loading("Loading comments…"));
  try {
    const page = await get(path);
    const items = page.comments || page.results || []; // either list key: {comments} or {count, results}
    if (!append) replace(list);
    if (!items.length && !append) {
      list.append(empty("No comments yet."));
      return;
    }
    const ul = list.querySelector("ul") || list.appendChild(h("ul", { class: "plain" }));
    for (const c of items) {
      ul.append(h("li", { class: "comment" },
        h("p", { class: "hint" }, c.source === "ai" ? "AI" : "Person", c.author ? ` · ${c.author}` : "",
          c.sub && c.sub !== c.author ? ` (${c.sub})` : "", ` · ${when(c.created_at)}`,
          c.severity ? ` · severity ${c.severity}` : "", c.category ? ` · ${c.category}` : "", c.scene ? ` · scene ${c.scene}` : ""),
        h("p", {}, c.text)));
    }
    const old = list.querySelector(".more");
    if (old) old.remove();
    if (page.next) {
      list.append(h("div", { class: "more" }, h("button", { type: "button", onclick: () => loadComments(list, file, nextPath(file, page.next), true) }, "More comments")));
    }
  } catch (err) {
    replace(list, missingRoute(err) ? empty("Comments are not available on this server yet.") : failure("Comments could not be loaded.", err, () => loadComments(list, file)));
  }
}
