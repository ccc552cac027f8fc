"""Live status over a WebSocket: connections and subscriptions (``channel``), who may watch what
(``topics``), messages from the files table's stream (``stream``, ``messages``) and the one way to
send (``push.publish``), which other capabilities (bulk uploads) use for their own messages."""
