// A file's status and refer-key URL, live: over the WebSocket channel when the server has one
// (config.ws), else by polling REST. Messages carry one sequence per file; a message at or below
// the last sequence seen is a duplicate and dropped. After (re)connecting, the state is read
// again over REST, so nothing missed while away is lost.
import { config, get, token } from "./api.js";

export const POLL_MS = 3000;
const PING_MS = 5 * 60 * 1000; // API Gateway drops a connection idle for 10 minutes

// watch(fileId, {onFile(file), onRefer(refer), onMode(text)}) -> stop()
export function watch(fileId, handlers) {
  const { onFile = () => {}, onRefer = () => {}, onMode = () => {} } = handlers;
  let stopped = false;
  let lastSequence = -1;
  let socket = null;
  let pollTimer = null;
  let pingTimer = null;
  let failures = 0;

  function acceptFile(file) {
    if (file.sequence !== undefined && file.sequence < lastSequence) return;
    lastSequence = Math.max(lastSequence, file.sequence ?? lastSequence);
    onFile(file);
  }

  async function resync() {
    const file = await get(`/files/${fileId}`);
    acceptFile(file);
    if (file.refer && file.refer.state !== "none") {
      try {
        onRefer(await get(`/files/${fileId}/refer`));
      } catch {
        /* the key view may be refused for a moment; the next event or poll brings it */
      }
    } else {
      onRefer(null);
    }
    return file;
  }

  async function poll() {
    if (stopped) return;
    let file = null;
    try {
      file = await resync();
      onMode("polling", `Updates every ${POLL_MS / 1000} s (no live channel).`);
    } catch (err) {
      onMode("error", `Could not refresh: ${err.message}`);
    }
    // Slower once nothing can change any more but the key's rotation.
    const settled = file && ["db_ready", "error"].includes(file.status) && file.refer && file.refer.state !== "active";
    if (!stopped) pollTimer = setTimeout(poll, settled ? POLL_MS * 5 : POLL_MS);
  }

  function fallBack() {
    if (socket) socket.onclose = null;
    socket = null;
    if (!pollTimer) poll();
  }

  function onMessage(event) {
    let msg;
    try {
      msg = JSON.parse(event.data);
    } catch {
      return;
    }
    if (msg.file_id && msg.file_id !== fileId) return;
    if (msg.type === "pong" || msg.type === "unsubscribed") return;
    if (msg.type === "error") {
      // e.g. too many subscriptions on this connection: this view polls instead.
      onMode("polling", `Live channel refused: ${msg.message || msg.code}. Polling instead.`);
      if (socket) socket.close();
      fallBack();
      return;
    }
    if (typeof msg.sequence === "number") {
      if (msg.sequence <= lastSequence) return; // at-least-once delivery: a duplicate
      if (lastSequence >= 0 && msg.sequence > lastSequence + 1) {
        lastSequence = msg.sequence;
        resync().catch(() => {}); // a gap: read the whole state once
        return;
      }
      lastSequence = msg.sequence;
    }
    if (msg.type === "status" || (msg.type === "subscribed" && msg.status)) {
      const file = { id: fileId, status: msg.status, status_at: msg.at, sequence: msg.sequence, partial: true };
      if (msg.error) file.error = msg.error;
      onFile(file);
    } else if (msg.type === "refer") {
      const state = { frozen: "frozen", expired: "expired" }[msg.event] || "active";
      onRefer({ url: msg.url || null, expires_at: msg.expires_at, state, live: true });
    }
  }

  function connect(wsUrl) {
    if (stopped) return;
    const target = new URL(wsUrl);
    target.searchParams.set("token", token() || "");
    try {
      socket = new WebSocket(target.href);
    } catch {
      fallBack();
      return;
    }
    let opened = false;
    socket.onopen = () => {
      opened = true;
      failures = 0;
      socket.send(JSON.stringify({ action: "subscribe", file_id: fileId }));
      onMode("live", "Live: updates arrive as they happen.");
      resync().catch(() => {});
      clearInterval(pingTimer);
      pingTimer = setInterval(() => socket && socket.readyState === 1 && socket.send(JSON.stringify({ action: "ping" })), PING_MS);
    };
    socket.onmessage = onMessage;
    socket.onclose = () => {
      clearInterval(pingTimer);
      if (stopped) return;
      failures += 1;
      if (!opened && failures >= 2) {
        fallBack(); // never got through: this server's channel is not usable from here
        return;
      }
      onMode("reconnecting", "Live channel lost; reconnecting…");
      setTimeout(() => connect(wsUrl), Math.min(10000, 500 * 2 ** failures));
    };
  }

  config().then((cfg) => {
    if (stopped) return;
    if (cfg && cfg.ws && "WebSocket" in window) connect(cfg.ws);
    else poll();
  });

  return function stop() {
    stopped = true;
    clearTimeout(pollTimer);
    clearInterval(pingTimer);
    if (socket) {
      socket.onclose = null;
      socket.close();
    }
  };
}
