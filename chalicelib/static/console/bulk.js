// Bulk uploads: the caller's tasks, one task's progress per account, and its log, live. Lines and
// progress arrive over the WebSocket channel (subscribe with task_id); without it the view polls.
// Lines carry one sequence per task: a line at or below the last seen is a duplicate and dropped,
// and after (re)connecting the log is read again over REST from the last line seen.
import { config, get, post, request, token } from "./api.js";
import { empty, failure, field, focusHeading, h, loading, replace, select, toast, when } from "./dom.js";

const POLL_MS = 3000;
const LEVELS = [["", "Every level"], ["warning", "Warnings and errors"], ["error", "Errors only"]];

export function bulkListView(main) {
  const list = h("div", {}, loading("Loading your bulk uploads…"));
  replace(main, h("h1", {}, "Bulk uploads"),
    h("p", { class: "hint" }, "Tasks made with POST /bulk-uploads or `kadr bulk run`, newest first."), list);
  focusHeading(main);
  let next = null;
  async function more(append) {
    try {
      const page = await get(`/bulk-uploads?limit=20${next ? `&cursor=${encodeURIComponent(next)}` : ""}`);
      next = page.next ? new URL(page.next).searchParams.get("cursor") : null;
      const rows = page.results.map((task) => h("tr", {},
        h("td", {}, h("a", { href: `#/bulk/${encodeURIComponent(task.id)}` }, task.name)),
        h("td", {}, String(task.total)), h("td", {}, task.accounts.join(", ")), h("td", {}, when(task.created_at))));
      if (!append && !rows.length) {
        replace(list, empty("No bulk uploads yet.", h("p", { class: "hint" }, "Start one with `kadr bulk run DIR --account A`.")));
        return;
      }
      const table = append ? list.querySelector("tbody") : null;
      if (table) table.append(...rows);
      else replace(list, h("div", { class: "scroll" }, h("table", {}, h("caption", { class: "sr-only" }, "Bulk uploads"),
        h("thead", {}, h("tr", {}, ["Name", "Items", "Accounts", "Created"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, rows))));
      list.querySelector(".more")?.remove();
      if (next) list.append(h("button", { type: "button", class: "more", onclick: () => more(true) }, "More"));
    } catch (err) {
      replace(list, failure("Could not load your bulk uploads.", err, () => more(false)));
    }
  }
  more(false);
}

function summary(task) {
  return h("section", { class: "card", "aria-labelledby": "task-summary" },
    h("h2", { id: "task-summary" }, "Progress"),
    h("p", { class: "row wrap" }, h("span", { class: `badge bulk-${task.status}`, "data-status": task.status }, task.status),
      `${task.percent}% done · ${task.succeeded} succeeded · ${task.failed} failed · ${task.pending} pending · ${task.cancelled} cancelled`),
    h("progress", { max: 100, value: task.percent, "aria-label": "Completion" }),
    h("p", { class: "hint" }, `Started ${when(task.started_at) || "—"} · completed ${when(task.completed_at) || "—"}`));
}

function accountsTable(task, onCancel) {
  return h("section", { class: "card", "aria-labelledby": "task-accounts" },
    h("h2", { id: "task-accounts" }, "Accounts"),
    h("div", { class: "scroll" }, h("table", {},
      h("thead", {}, h("tr", {}, ["Account", "Status", "Succeeded", "Failed", "Pending", ""].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, task.accounts.map((a) => h("tr", { "data-account": a.account },
        h("td", {}, a.account), h("td", {}, h("span", { class: `badge bulk-${a.status}`, "data-status": a.status }, a.status)),
        h("td", {}, String(a.succeeded)), h("td", {}, String(a.failed)), h("td", {}, String(a.pending)),
        h("td", {}, a.pending ? h("button", { type: "button", onclick: () => onCancel(a.account) }, `Cancel pending of ${a.account}`) : "")))))));
}

async function downloadReport(task, format, button) {
  button.disabled = true;
  try {
    const accept = format === "xlsx" ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" : "text/csv";
    const response = await request("GET", `/bulk-uploads/${task.id}/report?format=${format}`, { raw: true, accept });
    const link = h("a", { href: URL.createObjectURL(await response.blob()), download: `${task.name}-report.${format}` });
    document.body.append(link);
    link.click();
    link.remove();
  } catch (err) {
    toast(`No report: ${err.message}`);
  } finally {
    button.disabled = false;
  }
}

function logLine(line) {
  return h("li", { class: `log log-${line.level}`, "data-seq": String(line.seq) },
    h("span", { class: "log-level" }, line.level.toUpperCase()), " ",
    h("time", { datetime: line.at }, when(line.at)), " ",
    h("span", { class: "log-account" }, line.account || "task"), " ", line.message);
}

export function bulkView(main, taskId) {
  let stopped = false;
  let socket = null;
  let pollTimer = null;
  let lastSeq = 0;
  let task = null;
  const head = h("div", {}, loading("Loading the task…"));
  const accountSelect = select([["*", "Every account"], ["", "Task-level lines"]], "*");
  const levelSelect = select(LEVELS, "");
  const [accountField] = field("Account", accountSelect);
  const [levelField] = field("Level", levelSelect);
  const lines = h("ol", { class: "logs", "aria-live": "polite", "aria-relevant": "additions" });
  const mode = h("p", { class: "hint", role: "status" }, "");
  replace(main, h("h1", {}, "Bulk upload"), head,
    h("section", { class: "card", "aria-labelledby": "task-logs" }, h("h2", { id: "task-logs" }, "Log"),
      h("div", { class: "row wrap" }, accountField, levelField), mode, lines));
  focusHeading(main);

  const filters = () => ({ account: accountSelect.value, level: levelSelect.value });
  function matches(line) {
    const { account, level } = filters();
    const rank = { info: 0, warning: 1, error: 2 };
    return (account === "*" || (line.account || "") === account) && rank[line.level] >= (rank[level] ?? 0);
  }
  // A change of filter reads the log again from the start: answers to reads begun before it
  // (another filter's) are dropped, and live lines wait until it is read, or they would move
  // lastSeq past the lines it is about to show.
  let generation = 0;
  let pending = null; // live lines held while the log is read again
  function show(line) {
    if (line.seq <= lastSeq) return; // a duplicate (at-least-once delivery) or already read
    lastSeq = line.seq;
    if (matches(line)) lines.append(logLine(line));
  }
  function addLine(line) {
    if (pending) pending.push(line);
    else show(line);
  }
  async function readLogs() {
    const mine = generation;
    const { account, level } = filters();
    for (;;) {
      const query = new URLSearchParams({ after: String(lastSeq), limit: "500" });
      if (account !== "*") query.set("account", account);
      if (level) query.set("level", level);
      const page = await get(`/bulk-uploads/${taskId}/logs?${query}`);
      if (mine !== generation) return;
      page.lines.forEach(show);
      if (!page.next) return;
      lastSeq = Math.max(lastSeq, Number(page.next));
    }
  }
  async function cancel(account) {
    if (!window.confirm(`Cancel every pending item of ${account}? Its open uploads are aborted.`)) return;
    try {
      const done = await post(`/bulk-uploads/${taskId}/accounts/${encodeURIComponent(account)}/cancel`, {});
      toast(`${done.cancelled.length} item(s) of ${account} cancelled.`);
      await refresh();
    } catch (err) {
      toast(`Not cancelled: ${err.message}`);
    }
  }
  function draw() {
    const known = new Set([...accountSelect.options].map((o) => o.value));
    task.accounts.forEach((a) => known.has(a.account) || accountSelect.append(h("option", { value: a.account }, a.account)));
    const csv = h("button", { type: "button", onclick: (e) => downloadReport(task, "csv", e.target) }, "Report (.csv)");
    const xlsx = h("button", { type: "button", onclick: (e) => downloadReport(task, "xlsx", e.target) }, "Report (.xlsx)");
    replace(head, h("p", {}, h("strong", {}, task.name), ` · ${task.total} items · created ${when(task.created_at)}`),
      summary(task), accountsTable(task, cancel), h("div", { class: "actions" }, csv, xlsx));
  }
  async function refresh() {
    task = await get(`/bulk-uploads/${taskId}`);
    draw();
  }
  async function poll() {
    if (stopped) return;
    try {
      await Promise.all([refresh(), readLogs()]);
      mode.textContent = `Updates every ${POLL_MS / 1000} s (no live channel).`;
    } catch (err) {
      mode.textContent = `Could not refresh: ${err.message}`;
    }
    if (!stopped) pollTimer = setTimeout(poll, POLL_MS);
  }
  function connect(wsUrl) {
    const target = new URL(wsUrl);
    target.searchParams.set("token", token() || "");
    socket = new WebSocket(target.href);
    socket.onopen = () => {
      socket.send(JSON.stringify({ action: "subscribe", task_id: taskId }));
      mode.textContent = "Live: lines arrive as they are written.";
      readLogs().catch(() => {}); // what was written before the subscription took
    };
    socket.onmessage = (event) => {
      let msg;
      try { msg = JSON.parse(event.data); } catch { return; }
      if (msg.task_id !== taskId) return;
      if (msg.type === "log") addLine(msg);
      else if (msg.type === "progress") refresh().catch(() => {});
      else if (msg.type === "error") { socket.onclose = null; socket.close(); poll(); }
    };
    socket.onclose = () => {
      if (stopped) return;
      mode.textContent = "Live channel lost; polling.";
      poll();
    };
  }
  const refilter = () => {
    generation += 1;
    const mine = generation;
    lastSeq = 0;
    pending = [];
    replace(lines);
    readLogs()
      .catch((err) => replace(lines, h("li", {}, failure("Could not read the log.", err))))
      .finally(() => {
        if (mine !== generation) return;
        const held = pending;
        pending = null;
        held.forEach(show);
      });
  };
  accountSelect.addEventListener("change", refilter);
  levelSelect.addEventListener("change", refilter);

  refresh().then(() => readLogs()).then(() => config()).then((cfg) => {
    if (stopped) return;
    if (cfg && cfg.ws && "WebSocket" in window) connect(cfg.ws);
    else poll();
  }).catch((err) => replace(head, failure("Could not load this bulk upload.", err, () => bulkView(main, taskId))));

  return function stop() {
    stopped = true;
    clearTimeout(pollTimer);
    if (socket) { socket.onclose = null; socket.close(); }
  };
}
