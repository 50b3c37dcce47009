// A Socket.IO 4 room-broadcast server with Socket.IO's default settings: clients emit `join` (the
// server answers `joined`) and `message` ({room_id, message}); the server emits `message` with the
// same fields as chat's message event to everyone in the room, sender included.
//
//   node bench/servers/socketio.mjs [port=0] [host=127.0.0.1]
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const port = Number(process.argv[2] ?? 0);
const host = process.argv[3] ?? '127.0.0.1';
const http = createServer();
const io = new Server(http);
let seq = 0;

io.on('connection', (socket) => {
  socket.on('join', (room) => {
    socket.join(String(room));
    socket.emit('joined', String(room));
  });
  socket.on('message', (m) => {
    if (!m || typeof m.room_id !== 'string') return;
    seq++;
    io.to(m.room_id).emit('message', {
      room_id: m.room_id,
      seq,
      id: `m${seq}`,
      ts: Date.now(),
      user_name: socket.id,
      message: String(m.message),
    });
  });
});
http.listen(port, host, () => {
  process.stdout.write(`socket.io listening on ws://${host}:${http.address().port}/socket.io/\n`);
});
const stop = () => io.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
