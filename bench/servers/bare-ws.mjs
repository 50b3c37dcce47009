// A bare `ws` room-broadcast server: the floor a Node chat server can reach. It speaks the subset of
// the chat protocol the loader uses (hello, join, message), serialises each broadcast once, frames
// it once with ws's Sender.frame, and writes each socket once per event-loop turn. No validation,
// no persistence, no limits.
//
//   node bench/servers/bare-ws.mjs [port=0] [host=127.0.0.1]
import { createServer } from 'node:http';
import { Sender, WebSocketServer } from 'ws';

const port = Number(process.argv[2] ?? 0);
const host = process.argv[3] ?? '127.0.0.1';
const TEXT = { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false };
const frame = (text) => {
  const parts = Sender.frame(Buffer.from(text), TEXT);
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
};

/** room id -> Set of connections */
const rooms = new Map();
const dirty = new Set();
let flushQueued = false;
let seq = 0;

function flush() {
  flushQueued = false;
  for (const c of dirty) {
    const q = c.queue;
    c.queue = [];
    if (c.socket.destroyed) continue;
    if (q.length === 1) c.socket.write(q[0]);
    else {
      c.socket.cork();
      for (const f of q) c.socket.write(f);
      c.socket.uncork();
    }
  }
  dirty.clear();
}

function send(c, buf) {
  c.queue.push(buf);
  dirty.add(c);
  if (!flushQueued) {
    flushQueued = true;
    setImmediate(flush);
  }
}

const http = createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({
  noServer: true,
  clientTracking: false,
  perMessageDeflate: false,
  maxPayload: 64 * 1024,
});
http.on('upgrade', (req, socket, head) => {
  wss.handleUpgrade(req, socket, head, (ws) => {
    const c = { ws, socket, queue: [], nick: '?', room: undefined };
    ws.on('message', (data) => {
      let m;
      try {
        m = JSON.parse(data.toString());
      } catch {
        return;
      }
      const p = m.payload ?? {};
      if (m.type === 'hello') c.nick = String(p.user_name);
      else if (m.type === 'join') {
        c.room = String(p.room_id);
        let set = rooms.get(c.room);
        if (!set) rooms.set(c.room, (set = new Set()));
        set.add(c);
        send(c, frame(JSON.stringify({ type: 'joined', payload: { room_id: c.room, members: set.size } })));
      } else if (m.type === 'message') {
        const set = rooms.get(String(p.room_id));
        if (!set) return;
        seq++;
        const f = frame(
          JSON.stringify({
            type: 'message',
            payload: {
              room_id: p.room_id,
              seq,
              id: `m${seq}`,
              ts: Date.now(),
              user_name: c.nick,
              message: String(p.message),
            },
          }),
        );
        for (const member of set) send(member, f);
      }
    });
    ws.on('error', () => {});
    ws.on('close', () => {
      rooms.get(c.room)?.delete(c);
      dirty.delete(c);
    });
  });
});
http.listen(port, host, () => {
  process.stdout.write(`bare-ws listening on ws://${host}:${http.address().port}/ws\n`);
});
const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
