/**
 * What the loader says over a WebSocket, per server kind. `chat` is our protocol (and the bare-ws
 * comparison server speaks the same subset); `socketio` is Engine.IO 4 + Socket.IO 5 packets,
 * the wire format of socket.io-client 4, so one loader drives all three servers.
 */

/** What a non-delivery text frame means to the client that received it. */
export type Control =
  | { kind: 'joined' }
  | { kind: 'error'; code: string }
  | { kind: 'reply'; frames: string[] }
  | { kind: 'other' };

export interface Dialect {
  readonly name: 'chat' | 'socketio';
  /** The upgrade path, given the path of the URL the user passed. */
  path(urlPath: string): string;
  /** Frames sent as soon as the WebSocket is open. */
  opened(nick: string, roomId: string): string[];
  /** A text frame whose payload starts with these bytes is a chat message delivery. */
  readonly deliveryPrefix: Buffer;
  /** Interprets any other text frame. */
  control(text: string, roomId: string): Control;
  /** The frame a publisher sends to post `text` in `roomId`. */
  publish(roomId: string, text: string): string;
}

function errorCode(text: string): string {
  try {
    const frame = JSON.parse(text) as { payload?: { code?: unknown } };
    return typeof frame.payload?.code === 'string' ? frame.payload.code : 'error';
  } catch {
    return 'bad_frame';
  }
}

/** Our protocol: `hello` + `join`, then `message` events. */
export const chatDialect: Dialect = {
  name: 'chat',
  path: (urlPath) => urlPath || '/ws',
  opened: (nick, roomId) => [
    JSON.stringify({ type: 'hello', payload: { user_name: nick } }),
    JSON.stringify({ type: 'join', payload: { room_id: roomId } }),
  ],
  deliveryPrefix: Buffer.from('{"type":"message"'),
  control(text) {
    if (text.startsWith('{"type":"joined"')) return { kind: 'joined' };
    if (text.startsWith('{"type":"error"')) return { kind: 'error', code: errorCode(text) };
    return { kind: 'other' };
  },
  publish: (roomId, text) => JSON.stringify({ type: 'message', payload: { room_id: roomId, message: text } }),
};

/**
 * Socket.IO over a bare WebSocket (`transport=websocket`, as socket.io-client with
 * `transports: ['websocket']`): `0` open -> send `40` (connect to `/`) -> `40{sid}` -> emit
 * `join` -> the server emits `joined`. Engine.IO pings (`2`) are answered with `3`.
 */
export const socketioDialect: Dialect = {
  name: 'socketio',
  path: () => '/socket.io/?EIO=4&transport=websocket',
  opened: () => [],
  deliveryPrefix: Buffer.from('42["message"'),
  control(text, roomId) {
    if (text === '2') return { kind: 'reply', frames: ['3'] };
    if (text.startsWith('0{')) return { kind: 'reply', frames: ['40'] };
    if (text.startsWith('40')) return { kind: 'reply', frames: [`42${JSON.stringify(['join', roomId])}`] };
    if (text.startsWith('42["joined"')) return { kind: 'joined' };
    if (text.startsWith('44')) return { kind: 'error', code: 'connect_error' };
    if (text === '1') return { kind: 'error', code: 'engine_close' };
    return { kind: 'other' };
  },
  publish: (roomId, text) => `42${JSON.stringify(['message', { room_id: roomId, message: text }])}`,
};

/** The dialect named `name`. */
export function dialectNamed(name: string): Dialect {
  if (name === 'chat') return chatDialect;
  if (name === 'socketio') return socketioDialect;
  throw new Error(`unknown protocol "${name}" (chat or socketio)`);
}
