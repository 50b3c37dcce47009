// The browser client for chat: one ES module, no framework, no build step.
//
// Three layers, as in the terminal client:
//   1. pure helpers and the state model (exported; no DOM, no sockets; unit-tested under Node),
//   2. Client: the WebSocket connection, reconnect with backoff, requests and slash commands,
//   3. View: renders the state into the page.
//
// Everything that came from the network is put on the page with textContent only: never
// innerHTML, never an attribute that the browser would interpret as markup, URL or script.

// Slash commands: the one table the TUI and the TCP door use (src/protocol/commands.ts), imported
// as built. The path works in both places: under Node it is the file in dist/, and in the browser
// `/dist/protocol/commands.js`, which the server serves from the same build.
import { COMMANDS, helpLines, lookupCommand, parseLine } from '../dist/protocol/commands.js';

export { COMMANDS, helpLines, lookupCommand, parseLine };

const stripHash = (room) => (room.startsWith('#') ? room.slice(1) : room);

// ---------------------------------------------------------------------------------------------
// Pure helpers
// ---------------------------------------------------------------------------------------------

// Escape sequences whole, then C0 (but \n and \t), DEL, C1, bidi overrides/isolates and marks.
// The server strips these already; the page does it again so it never depends on that.
const ESCAPES =
  /\x1b\[[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[\x20-\x2f]*[\x30-\x7e]?/g;
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Text from the network, made safe to show as plain text (it is still only ever set via textContent). */
export function cleanText(value, { keepNewlines = true } = {}) {
  let text = String(value ?? '')
    .replace(ESCAPES, '')
    .replace(CONTROLS, '')
    .replace(/\r\n?/g, '\n');
  if (!keepNewlines) text = text.replace(/\n/g, ' ');
  return text;
}

/** `HH:MM` in the viewer's local time. */
export function formatTime(ts) {
  const d = new Date(ts);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/** A stable hue (0-359) per nick, so a person keeps one colour. */
export function nickHue(nick) {
  let h = 2166136261;
  for (const ch of String(nick).toLowerCase()) {
    h ^= ch.codePointAt(0);
    h = Math.imul(h, 16777619);
  }
  return (h >>> 0) % 360;
}

/** True when `text` mentions `nick` as a whole word (case-insensitive). */
export function mentions(text, nick) {
  if (!nick) return false;
  const escaped = nick.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![\\p{L}\\p{N}_])@?${escaped}(?![\\p{L}\\p{N}_])`, 'iu').test(text);
}

/** Reconnect delay for the n-th attempt (0-based): exponential, capped at 30 s, with jitter. */
export function backoffDelay(attempt, random = Math.random) {
  const base = Math.min(30_000, 500 * 2 ** Math.min(attempt, 10));
  return Math.round(base * (0.5 + random() * 0.5));
}

const sameNick = (a, b) =>
  typeof a === 'string' && typeof b === 'string' && a.toLowerCase() === b.toLowerCase();

// ---------------------------------------------------------------------------------------------
// State model. Functions below change `state` in place and never touch the DOM or a socket.
// ---------------------------------------------------------------------------------------------

/** How many lines a conversation keeps in memory. */
export const MAX_ITEMS = 1000;

export const roomKey = (roomId) => `#${roomId}`;
export const dmKey = (nick) => `@${String(nick).toLowerCase()}`;

/** A fresh client state. */
export function createState() {
  return {
    nick: null,
    defaultRoom: 'lobby',
    /** key -> conversation; rooms are '#id', direct conversations '@nick'. Insertion order = sidebar order. */
    convs: new Map(),
    current: null,
    serverRooms: null,
    /** Where the next page of the room list starts (null: no more), and the filter it was asked with. */
    serverRoomsCursor: null,
    serverRoomsFilter: '',
    lagMs: null,
    conn: { state: 'offline', retryAt: 0 },
  };
}

/** Finds or creates a conversation. */
export function ensureConv(state, kind, id) {
  const key = kind === 'room' ? roomKey(id) : dmKey(id);
  let conv = state.convs.get(key);
  if (!conv) {
    conv = {
      key,
      kind,
      id,
      name: kind === 'room' ? id : id,
      items: [],
      /** Bumped whenever items change other than by appending, so the view rebuilds. */
      epoch: 0,
      unread: 0,
      mention: false,
      lastSeq: 0,
      firstSeq: null,
      hasMore: false,
      members: new Set(),
      joined: false,
    };
    state.convs.set(key, conv);
    if (state.current === null) state.current = key;
  }
  return conv;
}

/** Appends one line to a conversation, counting it as unread when it is not the one on screen. */
export function addItem(state, conv, item, { countUnread = true } = {}) {
  conv.items.push(item);
  if (conv.items.length > MAX_ITEMS) {
    conv.items.splice(0, conv.items.length - MAX_ITEMS);
    conv.epoch++;
    const first = conv.items.find((i) => typeof i.seq === 'number');
    conv.firstSeq = first ? first.seq : conv.firstSeq;
    conv.hasMore = true;
  }
  const fromOther = (item.kind === 'message' || item.kind === 'dm') && !item.mine;
  if (countUnread && fromOther && state.current !== conv.key) {
    conv.unread++;
    if (item.mention || conv.kind === 'dm') conv.mention = true;
  }
}

/** Adds a dim system line to a conversation (or the current one). */
export function addNotice(state, conv, text, tone = 'info', { mono = false } = {}) {
  const target = conv ?? (state.current ? state.convs.get(state.current) : null);
  if (!target) return;
  addItem(
    state,
    target,
    { kind: 'notice', tone, mono, ts: Date.now(), text: cleanText(text) },
    { countUnread: false },
  );
}

function messageItem(state, m) {
  const nick = cleanText(m.user_name, { keepNewlines: false });
  const text = cleanText(m.message);
  const mine = sameNick(nick, state.nick);
  return {
    kind: 'message',
    seq: m.seq,
    id: m.id,
    ts: m.ts,
    nick,
    text,
    mine,
    mention: !mine && mentions(text, state.nick),
  };
}

/** Merges a `history` page: newer messages are appended, older ones prepended; seq dedupes. */
export function mergeHistory(state, conv, messages, { countUnread = false } = {}) {
  const sorted = [...messages].filter((m) => Number.isInteger(m.seq)).sort((a, b) => a.seq - b.seq);
  const older = conv.firstSeq === null ? [] : sorted.filter((m) => m.seq < conv.firstSeq);
  const newer = sorted.filter((m) => m.seq > conv.lastSeq);
  if (older.length > 0) {
    conv.items.unshift(...older.map((m) => messageItem(state, m)));
    conv.firstSeq = older[0].seq;
    conv.epoch++;
  }
  for (const m of newer) {
    addItem(state, conv, messageItem(state, m), { countUnread });
    conv.lastSeq = m.seq;
  }
  if (conv.firstSeq === null && newer.length > 0) conv.firstSeq = newer[0].seq;
  return { older: older.length, newer: newer.length };
}

/** Switches the conversation on screen and clears its unread count. */
export function selectConv(state, key) {
  const conv = state.convs.get(key);
  if (!conv) return;
  state.current = key;
  conv.unread = 0;
  conv.mention = false;
}

/** Removes a conversation (after /leave), moving the view to a neighbour. */
export function removeConv(state, key) {
  const keys = [...state.convs.keys()];
  const index = keys.indexOf(key);
  state.convs.delete(key);
  if (state.current === key) {
    const next = keys[index + 1] ?? keys[index - 1] ?? null;
    state.current = next && next !== key ? next : null;
    if (state.current) selectConv(state, state.current);
  }
}

/** Total unread lines, for the document title. */
export function totalUnread(state) {
  let n = 0;
  for (const conv of state.convs.values()) n += conv.unread;
  return n;
}

function flushJoinNotice(state, conv) {
  if (!conv.joinNotice) return;
  addNotice(state, conv, conv.joinNotice);
  conv.joinNotice = null;
}

function renameEverywhere(state, oldName, newName, roomId) {
  const rooms =
    roomId !== undefined ? [state.convs.get(roomKey(roomId))].filter(Boolean) : [...state.convs.values()];
  for (const conv of rooms) {
    if (conv.kind !== 'room') continue;
    const had = [...conv.members].find((m) => sameNick(m, oldName));
    // The rename reaches us once without a room (our own) and once per shared room: apply it once.
    if (!had) continue;
    conv.members.delete(had);
    conv.members.add(newName);
    addNotice(state, conv, `${oldName} is now known as ${newName}`);
  }
  const dm = state.convs.get(dmKey(oldName));
  if (dm && !sameNick(oldName, newName)) {
    state.convs.delete(dm.key);
    dm.key = dmKey(newName);
    dm.id = newName;
    dm.name = newName;
    state.convs.set(dm.key, dm);
    if (state.current === dmKey(oldName)) state.current = dm.key;
    addNotice(state, dm, `${oldName} is now known as ${newName}`);
  }
}

/**
 * Applies one server event to the state. `request` is the request this event answers (matched
 * by ref), when there is one. Connection-level reactions (rejoining, the nick prompt) are the
 * Client's business; this function only records what happened.
 */
export function applyEvent(state, event, request) {
  const p = event.payload ?? {};
  switch (event.type) {
    case 'welcome':
      state.nick = cleanText(p.user_name, { keepNewlines: false });
      if (typeof p.default_room === 'string') state.defaultRoom = p.default_room;
      return;
    case 'joined': {
      const conv = ensureConv(state, 'room', p.room_id);
      const rejoin = conv.lastSeq > 0 || conv.items.length > 0;
      conv.joined = true;
      if (Number.isInteger(p.last_seq) && p.last_seq < conv.lastSeq) {
        // The server lost this room's history (a restart without persistence): its seqs start
        // again, so forget ours or every new message would look like one already seen.
        conv.lastSeq = p.last_seq;
        conv.firstSeq = null;
        conv.hasMore = false;
        addNotice(state, conv, 'the server no longer has the earlier history of this room', 'error');
      }
      if (typeof p.room_name === 'string' && p.room_name !== '')
        conv.name = cleanText(p.room_name, { keepNewlines: false });
      conv.members = new Set((p.members ?? []).map((m) => cleanText(m, { keepNewlines: false })));
      // The server follows `joined` with `history`; the notice goes after the messages it replays.
      conv.joinNotice = rejoin ? `rejoined #${p.room_id}` : `you joined #${p.room_id}`;
      if (request?.switchTo || state.current === null) selectConv(state, conv.key);
      return;
    }
    case 'history': {
      const conv = state.convs.get(roomKey(p.room_id));
      if (!conv) return;
      const initial = conv.lastSeq === 0 && conv.firstSeq === null;
      const resumed = !initial && request?.type !== 'history';
      const { older } = mergeHistory(state, conv, p.messages ?? [], { countUnread: resumed });
      if (initial || older > 0 || request?.type === 'history') conv.hasMore = Boolean(p.has_more);
      if (p.recovered === false)
        addNotice(state, conv, 'some messages from while you were away are no longer available', 'error');
      flushJoinNotice(state, conv);
      return;
    }
    case 'message': {
      const conv = state.convs.get(roomKey(p.room_id));
      if (!conv) return; // a room just left: the message was in flight
      flushJoinNotice(state, conv);
      if (Number.isInteger(p.seq) && p.seq <= conv.lastSeq) return; // already seen (resume overlap)
      addItem(state, conv, messageItem(state, p));
      if (Number.isInteger(p.seq)) {
        conv.lastSeq = p.seq;
        if (conv.firstSeq === null) conv.firstSeq = p.seq;
      }
      return;
    }
    case 'dm': {
      const from = cleanText(p.from, { keepNewlines: false });
      const to = cleanText(p.to, { keepNewlines: false });
      const mine = sameNick(from, state.nick);
      const other = mine ? to : from;
      const conv = ensureConv(state, 'dm', other);
      if (p.id && conv.items.some((i) => i.id === p.id)) return;
      addItem(state, conv, {
        kind: 'dm',
        id: p.id,
        ts: p.ts ?? Date.now(),
        nick: from,
        text: cleanText(p.message),
        mine,
      });
      return;
    }
    case 'user_joined': {
      const conv = state.convs.get(roomKey(p.room_id));
      if (!conv) return;
      const nick = cleanText(p.user_name, { keepNewlines: false });
      conv.members.add(nick);
      if (!sameNick(nick, state.nick)) addNotice(state, conv, `${nick} joined #${p.room_id}`);
      return;
    }
    case 'user_left': {
      const conv = state.convs.get(roomKey(p.room_id));
      if (!conv) return;
      const nick = cleanText(p.user_name, { keepNewlines: false });
      for (const m of conv.members) if (sameNick(m, nick)) conv.members.delete(m);
      const why = p.reason ? ` (${cleanText(p.reason, { keepNewlines: false })})` : '';
      addNotice(state, conv, `${nick} left #${p.room_id}${why}`);
      return;
    }
    case 'nick_changed': {
      const oldName = cleanText(p.old_name, { keepNewlines: false });
      const newName = cleanText(p.user_name, { keepNewlines: false });
      const isMe = sameNick(oldName, state.nick);
      if (isMe) state.nick = newName;
      if (oldName === newName) return;
      renameEverywhere(state, oldName, newName, p.room_id);
      return;
    }
    case 'rooms': {
      // The list comes a page at a time (busiest first); "more" appends the next page.
      const page = (p.rooms ?? []).map((r) => ({
        room_id: String(r.room_id),
        room_name: cleanText(r.room_name ?? r.room_id, { keepNewlines: false }),
        members: Number(r.members) || 0,
      }));
      state.serverRooms = request?.append && state.serverRooms ? [...state.serverRooms, ...page] : page;
      state.serverRoomsCursor = typeof p.next_cursor === 'string' ? p.next_cursor : null;
      if (request?.announce) {
        const width = Math.max(...page.map((r) => r.room_id.length)) + 1;
        const more = state.serverRoomsCursor ? '\n(more: /rooms more, or /rooms <filter> to search)' : '';
        const lines = page.map((r) => {
          const name = r.room_name !== r.room_id ? `  ${r.room_name}` : '';
          return `${`#${r.room_id}`.padEnd(width)}  ${String(r.members).padStart(3)} online${name}`;
        });
        addNotice(
          state,
          null,
          lines.length ? `rooms on the server:\n${lines.join('\n')}${more}` : 'no rooms on the server',
          'info',
          {
            mono: lines.length > 0,
          },
        );
      }
      return;
    }
    case 'users': {
      const users = (p.users ?? []).map((u) => cleanText(u, { keepNewlines: false }));
      const conv = state.convs.get(roomKey(p.room_id));
      if (conv) conv.members = new Set(users);
      addNotice(
        state,
        state.convs.get(state.current) ?? conv,
        `in #${p.room_id} (${users.length}): ${users.join(', ')}`,
      );
      return;
    }
    case 'pong':
      if (typeof p.ts === 'number') state.lagMs = Math.max(0, Date.now() - p.ts);
      return;
    case 'registered':
      addNotice(state, null, `registered the nick ${cleanText(p.user_name, { keepNewlines: false })}`);
      return;
    case 'room_created':
      return;
    case 'shutdown':
      addNotice(state, null, cleanText(p.message ?? p.reason ?? 'the server is shutting down'), 'error');
      return;
    case 'error': {
      const target = request?.roomId
        ? state.convs.get(roomKey(request.roomId))
        : request?.dmTo
          ? state.convs.get(dmKey(request.dmTo))
          : null;
      addNotice(
        state,
        target ?? null,
        `error: ${cleanText(p.message ?? p.code, { keepNewlines: false })}`,
        'error',
      );
      return;
    }
    default:
      return;
  }
}

// ---------------------------------------------------------------------------------------------
// Client: connection, reconnect, requests and commands
// ---------------------------------------------------------------------------------------------

const PING_EVERY_MS = 25_000;
const PONG_TIMEOUT_MS = 10_000;
/** Errors on an automatic rejoin that mean "nothing to do". */
const QUIET_ON_REJOIN = new Set(['already_in_room']);
/** Errors on hello that send the person back to the nick prompt. */
const NICK_ERRORS = new Set(['nick_taken', 'bad_nick', 'nick_registered', 'already_identified']);

export class Client {
  constructor({ url, onChange, WebSocketImpl = globalThis.WebSocket }) {
    this.url = url;
    this.onChange = onChange;
    this.WebSocketImpl = WebSocketImpl;
    this.state = createState();
    this.prompt = { visible: true, error: null, busy: false };
    this.ws = null;
    this.attempt = 0;
    this.retryTimer = null;
    this.pingTimer = null;
    this.pongTimer = null;
    this.pending = new Map();
    this.nextRef = 1;
    this.wantedNick = null;
    this.welcomed = false;
  }

  changed() {
    this.onChange?.();
  }

  /** Called from the nick prompt; the password only for a registered nick. */
  start(nick, password) {
    this.wantedNick = nick.trim();
    // Kept in memory (never stored) so a reconnect can identify a registered nick again.
    this.password = password || undefined;
    this.prompt = { visible: true, error: null, busy: true, needPassword: this.prompt.needPassword };
    if (this.ws && this.ws.readyState === 1) this.hello();
    else if (!this.ws) this.connect();
    this.changed();
  }

  connect() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.state.conn = { state: this.attempt === 0 ? 'connecting' : 'reconnecting', retryAt: 0 };
    let ws;
    try {
      ws = new this.WebSocketImpl(this.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.state.conn = { state: 'identifying', retryAt: 0 };
      this.startHeartbeat();
      if (this.wantedNick) this.hello();
      this.changed();
    };
    ws.onmessage = (e) => {
      if (this.ws === ws) this.receive(e.data);
    };
    ws.onclose = () => {
      if (this.ws === ws) this.lost();
    };
    ws.onerror = () => {
      /* onclose follows */
    };
    this.changed();
  }

  /** The socket is gone (closed by the server, the network, or a missed pong). */
  lost() {
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try {
        ws.close();
      } catch {
        /* already closing */
      }
    }
    this.stopHeartbeat();
    this.pending.clear();
    for (const conv of this.state.convs.values()) conv.joined = false;
    if (this.wantedNick === null) {
      this.state.conn = { state: 'offline', retryAt: 0 };
      this.changed();
      return;
    }
    if (this.welcomed) addNotice(this.state, null, 'disconnected from the server; reconnecting…', 'error');
    this.welcomed = false;
    this.scheduleReconnect();
  }

  scheduleReconnect() {
    const delay = backoffDelay(this.attempt++);
    this.state.conn = { state: 'reconnecting', retryAt: Date.now() + delay };
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
    this.changed();
  }

  /** Reconnect now instead of waiting for the backoff timer. */
  retryNow() {
    if (this.state.conn.state === 'reconnecting' && !this.ws) this.connect();
  }

  startHeartbeat() {
    this.stopHeartbeat();
    this.pingTimer = setInterval(() => {
      if (!this.send('ping', { ts: Date.now() })) return;
      clearTimeout(this.pongTimer);
      this.pongTimer = setTimeout(() => this.lost(), PONG_TIMEOUT_MS);
    }, PING_EVERY_MS);
  }

  stopHeartbeat() {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
    this.pingTimer = this.pongTimer = null;
  }

  /** Sends one request; returns its ref, or null when not connected. */
  send(type, payload, meta = {}) {
    if (!this.ws || this.ws.readyState !== 1) return null;
    const ref = `w${this.nextRef++}`;
    this.pending.set(ref, { type, ...meta });
    if (this.pending.size > 500) this.pending.delete(this.pending.keys().next().value);
    this.ws.send(JSON.stringify({ type, payload, ref }));
    return ref;
  }

  hello() {
    this.send('hello', { user_name: this.wantedNick, ...(this.password ? { password: this.password } : {}) });
  }

  receive(data) {
    let event;
    try {
      event = JSON.parse(String(data));
    } catch {
      return;
    }
    if (!event || typeof event.type !== 'string') return;
    const request = event.ref !== undefined ? this.pending.get(event.ref) : undefined;
    if (request) this.pending.delete(event.ref);
    const state = this.state;

    if (event.type === 'pong') clearTimeout(this.pongTimer);
    if (event.type === 'error') {
      const code = event.payload?.code;
      if (request?.type === 'hello' || (!this.welcomed && NICK_ERRORS.has(code))) {
        const needPassword =
          code === 'nick_registered' || (code !== 'nick_taken' && this.prompt.needPassword);
        // The server's text for a registered nick speaks protocol; say it for a person unless a password was tried.
        const error =
          code === 'nick_registered' && !this.password
            ? `${this.wantedNick} is a registered nick: enter its password, or choose another nick.`
            : cleanText(event.payload?.message ?? code);
        this.prompt = { visible: true, error, busy: false, needPassword };
        this.state.conn = { state: 'identifying', retryAt: 0 };
        // Wait for a new answer: if the server closes the unidentified connection meanwhile,
        // do not reconnect and offer the refused nick again; the next submit reconnects.
        this.wantedNick = null;
        this.changed();
        return;
      }
      if (request?.rejoin && QUIET_ON_REJOIN.has(code)) return;
    }
    if (event.type === 'registered' && request?.password) this.password = request.password;
    if (event.type === 'nick_changed' && request?.type === 'nick') this.password = undefined;

    applyEvent(state, event, request);

    if (event.type === 'welcome') this.onWelcome();
    this.changed();
  }

  /** Identified: hide the prompt and (re)join the rooms, resuming each from the last seq seen. */
  onWelcome() {
    const state = this.state;
    const wasReconnect = this.attempt > 0 && state.convs.size > 0;
    this.welcomed = true;
    this.attempt = 0;
    this.wantedNick = state.nick;
    this.prompt = { visible: false, error: null, busy: false };
    this.state.conn = { state: 'connected', retryAt: 0 };
    try {
      window.localStorage?.setItem('chat.nick', state.nick);
    } catch {
      /* storage may be disabled */
    }
    const rooms = [...state.convs.values()].filter((c) => c.kind === 'room');
    if (rooms.length === 0) {
      this.send(
        'join',
        { room_id: state.defaultRoom },
        { rejoin: true, switchTo: true, roomId: state.defaultRoom },
      );
    } else {
      for (const conv of rooms) {
        const payload = { room_id: conv.id };
        if (conv.lastSeq > 0) payload.since_seq = conv.lastSeq;
        this.send('join', payload, { rejoin: true, roomId: conv.id });
      }
    }
    if (wasReconnect) addNotice(state, null, 'reconnected');
  }

  /** Handles one line from the input. Returns false when it could not be sent (keep the text). */
  submit(line) {
    const text = line.replace(/\s+$/, '');
    if (text.trim() === '') return true;
    const parsed = parseLine(text);
    const state = this.state;
    const current = state.current ? state.convs.get(state.current) : null;
    if (parsed.kind === 'error') {
      addNotice(state, current, parsed.message, 'error');
      this.changed();
      return true;
    }
    if (parsed.kind === 'text') {
      if (!current) {
        addNotice(state, null, 'join a room first: /join <room>', 'error');
        this.changed();
        return false;
      }
      const ok =
        current.kind === 'room'
          ? this.send('message', { room_id: current.id, message: parsed.text }, { roomId: current.id })
          : this.send('dm', { to: current.id, message: parsed.text }, { dmTo: current.id });
      if (!ok) this.notConnected(current);
      return Boolean(ok);
    }
    return this.command(parsed.command, current);
  }

  notConnected(conv) {
    addNotice(this.state, conv, 'not connected: the message was not sent', 'error');
    this.changed();
  }

  command(cmd, current) {
    const state = this.state;
    const roomOf = (explicit) => explicit ?? (current?.kind === 'room' ? current.id : undefined);
    let ok = true;
    switch (cmd.name) {
      case 'join':
        ok = this.joinRoom(cmd.room);
        break;
      case 'leave': {
        const room = roomOf(cmd.room);
        if (cmd.room === undefined && current?.kind === 'dm') {
          removeConv(state, current.key);
          break;
        }
        if (!room) {
          addNotice(state, current, '/leave: which room?', 'error');
          break;
        }
        ok = this.leaveRoom(room);
        break;
      }
      case 'users': {
        const room = roomOf(cmd.room);
        if (!room) addNotice(state, current, '/users: this is not a room; try /users <room>', 'error');
        else ok = Boolean(this.send('users', { room_id: room }, { roomId: room }));
        break;
      }
      case 'rooms':
        if (cmd.more && !state.serverRoomsCursor) {
          addNotice(state, current, 'no more rooms to list; /rooms [filter] starts again', 'info');
          ok = true;
        } else ok = cmd.more ? this.moreRooms({ announce: true }) : this.listRooms(cmd.filter ?? '', { announce: true });
        break;
      case 'msg': {
        const conv = ensureConv(state, 'dm', cmd.to);
        selectConv(state, conv.key);
        ok = Boolean(this.send('dm', { to: cmd.to, message: cmd.text }, { dmTo: cmd.to }));
        break;
      }
      case 'nick':
        ok = Boolean(this.send('nick', { user_name: cmd.nick }));
        break;
      case 'register':
        ok = Boolean(this.send('register', { password: cmd.password }, { password: cmd.password }));
        break;
      case 'show':
        addNotice(state, current, 'messages are shown whole here; /show is for line clients (nc, telnet)');
        break;
      case 'help':
        addNotice(state, current, helpLines(cmd.topic).join('\n'), 'info', { mono: true });
        break;
      case 'quit':
        this.quit();
        return true;
    }
    if (!ok) this.notConnected(current);
    this.changed();
    return ok;
  }

  joinRoom(roomId) {
    const id = stripHash(roomId.trim());
    const existing = this.state.convs.get(roomKey(id));
    if (existing?.joined) {
      selectConv(this.state, existing.key);
      this.changed();
      return true;
    }
    return Boolean(this.send('join', { room_id: id }, { switchTo: true, roomId: id }));
  }

  leaveRoom(roomId) {
    const key = roomKey(roomId);
    const sent = this.send('leave', { room_id: roomId }, { roomId });
    if (sent) removeConv(this.state, key);
    this.changed();
    return Boolean(sent);
  }

  /** Asks for the first page of the room list, only rooms whose id or name contains `filter`. */
  listRooms(filter = '', meta = {}) {
    this.state.serverRoomsFilter = filter;
    return Boolean(this.send('rooms', filter ? { filter } : null, meta));
  }

  /** Asks for the next page of the last listing; it is appended to the list. */
  moreRooms(meta = {}) {
    const { serverRoomsCursor: cursor, serverRoomsFilter: filter } = this.state;
    if (!cursor) return false;
    return Boolean(this.send('rooms', { cursor, ...(filter ? { filter } : {}) }, { ...meta, append: true }));
  }

  loadOlder() {
    const conv = this.state.current ? this.state.convs.get(this.state.current) : null;
    if (!conv || conv.kind !== 'room' || conv.firstSeq === null) return;
    this.send('history', { room_id: conv.id, before_seq: conv.firstSeq, limit: 100 }, { roomId: conv.id });
  }

  select(key) {
    selectConv(this.state, key);
    this.changed();
  }

  quit() {
    const nick = this.state.nick;
    this.wantedNick = null;
    clearTimeout(this.retryTimer);
    const ws = this.ws;
    this.ws = null;
    this.stopHeartbeat();
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      ws.close(1000, 'quit');
    }
    this.state = createState();
    this.attempt = 0;
    this.welcomed = false;
    this.pending.clear();
    this.password = undefined;
    this.prompt = { visible: true, error: null, busy: false, nick };
    this.changed();
  }
}

// ---------------------------------------------------------------------------------------------
// View
// ---------------------------------------------------------------------------------------------

/** Creates an element with properties, data-* attributes and children; text goes in via textContent. */
function h(tag, props = {}, children = []) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') el.textContent = String(v);
    else if (k === 'class') el.className = v;
    else if (k === 'testid') el.dataset.testid = v;
    else if (k === 'data') for (const [dk, dv] of Object.entries(v)) el.dataset[dk] = String(dv);
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'title' || k === 'type' || k === 'datetime') el.setAttribute(k, String(v));
    else if (k.startsWith('aria-')) el.setAttribute(k, String(v));
    else throw new Error(`h: unknown prop ${k}`);
  }
  for (const child of children) if (child) el.append(child);
  return el;
}

const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);

class View {
  constructor(client) {
    this.client = client;
    this.el = {
      app: $('app'),
      title: $('conv-title'),
      meta: $('conv-meta'),
      status: $('status'),
      roomList: $('room-list'),
      dmSection: $('dm-section'),
      dmList: $('dm-list'),
      joinForm: $('join-form'),
      joinInput: $('join-input'),
      browse: $('browse-rooms'),
      browseFilter: $('browse-filter'),
      serverRooms: $('server-room-list'),
      me: $('me'),
      scroller: $('message-scroller'),
      list: $('message-list'),
      loadOlder: $('load-older'),
      newBelow: $('new-below'),
      composer: $('composer'),
      input: $('message-input'),
      overlay: $('nick-overlay'),
      nickForm: $('nick-form'),
      nickInput: $('nick-input'),
      nickError: $('nick-error'),
      passwordField: $('password-field'),
      passwordInput: $('nick-password'),
      nickSubmit: $('nick-submit'),
      menu: $('menu-toggle'),
      scrim: $('scrim'),
    };
    this.rendered = { key: null, epoch: -1, count: 0 };
    this.unseenBelow = 0;
    this.scheduled = false;
    this.inputHistory = [];
    this.historyIndex = -1;
    this.browseOpen = false;
    this.bind();
  }

  bind() {
    const { el, client } = this;
    el.nickForm.addEventListener('submit', (e) => {
      e.preventDefault();
      const nick = el.nickInput.value.trim();
      if (nick === '') {
        client.prompt = { visible: true, error: 'a nick cannot be empty', busy: false };
        this.schedule();
        return;
      }
      client.start(nick, el.passwordField.hidden ? undefined : el.passwordInput.value);
    });
    el.composer.addEventListener('submit', (e) => {
      e.preventDefault();
      const line = el.input.value;
      if (line.trim() === '') return;
      if (client.submit(line)) {
        this.inputHistory.push(line);
        if (this.inputHistory.length > 100) this.inputHistory.shift();
        this.historyIndex = -1;
        el.input.value = '';
        this.stickToBottom = true;
      }
    });
    el.input.addEventListener('keydown', (e) => {
      if (
        e.key === 'ArrowUp' &&
        (el.input.value === '' || this.historyIndex >= 0) &&
        this.inputHistory.length > 0
      ) {
        e.preventDefault();
        this.historyIndex =
          this.historyIndex < 0 ? this.inputHistory.length - 1 : Math.max(0, this.historyIndex - 1);
        el.input.value = this.inputHistory[this.historyIndex];
      } else if (e.key === 'ArrowDown' && this.historyIndex >= 0) {
        e.preventDefault();
        this.historyIndex++;
        if (this.historyIndex >= this.inputHistory.length) {
          this.historyIndex = -1;
          el.input.value = '';
        } else el.input.value = this.inputHistory[this.historyIndex];
      }
    });
    el.joinForm.addEventListener('submit', (e) => {
      e.preventDefault();
      const room = el.joinInput.value.trim();
      if (room === '') return;
      if (client.joinRoom(room)) el.joinInput.value = '';
      else client.notConnected(null);
      this.closeSidebar();
      el.input.focus();
    });
    el.browse.addEventListener('click', () => {
      this.browseOpen = !this.browseOpen;
      if (this.browseOpen) client.listRooms(el.browseFilter.value.trim());
      this.schedule();
    });
    let filterTimer;
    el.browseFilter.addEventListener('input', () => {
      // Searching asks the server (the list is paged); wait for a pause in typing.
      clearTimeout(filterTimer);
      filterTimer = setTimeout(() => client.listRooms(el.browseFilter.value.trim()), 250);
    });
    el.loadOlder.addEventListener('click', () => client.loadOlder());
    el.newBelow.addEventListener('click', () => {
      el.scroller.scrollTop = el.scroller.scrollHeight;
    });
    el.scroller.addEventListener('scroll', () => {
      if (this.atBottom()) {
        this.unseenBelow = 0;
        el.newBelow.hidden = true;
      }
    });
    el.menu.addEventListener('click', () => this.toggleSidebar());
    el.scrim.addEventListener('click', () => this.closeSidebar());
    el.status.addEventListener('click', () => client.retryNow());
    document.addEventListener('keydown', (e) => {
      // Alt+Up / Alt+Down: previous / next conversation, as Ctrl+P / Ctrl+N in the terminal client.
      if (!e.altKey || (e.key !== 'ArrowUp' && e.key !== 'ArrowDown')) return;
      const keys = [...client.state.convs.keys()];
      if (keys.length === 0) return;
      e.preventDefault();
      const i = keys.indexOf(client.state.current);
      client.select(keys[(i + (e.key === 'ArrowDown' ? 1 : keys.length - 1)) % keys.length]);
    });
    setInterval(() => {
      if (client.state.conn.state === 'reconnecting') this.renderStatus();
    }, 1000);
  }

  toggleSidebar() {
    const open = this.el.app.dataset.sidebar !== 'open';
    this.el.app.dataset.sidebar = open ? 'open' : 'closed';
    this.el.menu.setAttribute('aria-expanded', String(open));
    this.el.scrim.hidden = !open;
  }

  closeSidebar() {
    this.el.app.dataset.sidebar = 'closed';
    this.el.menu.setAttribute('aria-expanded', 'false');
    this.el.scrim.hidden = true;
  }

  /** Batches renders: many events in one turn cost one render. */
  schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.render();
    });
  }

  atBottom() {
    const s = this.el.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 48;
  }

  render() {
    const { client } = this;
    const state = client.state;
    const current = state.current ? state.convs.get(state.current) : null;
    if (current && current.unread > 0) selectConv(state, current.key); // on screen: read
    this.renderPrompt();
    this.renderStatus();
    this.renderSidebar(state);
    this.renderHeader(state, current);
    this.renderMessages(current);
    const unread = totalUnread(state);
    document.title =
      unread > 0
        ? `(${unread}) chat`
        : current
          ? `${current.kind === 'room' ? '#' : '@'}${current.name} · chat`
          : 'chat';
  }

  renderPrompt() {
    const { el } = this;
    const p = this.client.prompt;
    const wasHidden = el.overlay.hidden;
    const newError = p.error && p.error !== this.shownNickError;
    this.shownNickError = p.error;
    el.overlay.hidden = !p.visible;
    el.app.inert = p.visible;
    el.nickError.hidden = !p.error;
    el.nickError.textContent = p.error ?? '';
    el.nickSubmit.disabled = Boolean(p.busy);
    el.nickSubmit.textContent = p.busy ? 'Connecting…' : 'Start chatting';
    if (p.visible && p.nick && el.nickInput.value === '') el.nickInput.value = p.nick;
    const askPassword = Boolean(p.needPassword) && el.passwordField.hidden;
    el.passwordField.hidden = !p.needPassword;
    if (askPassword) el.passwordInput.focus();
    else if (p.visible && (wasHidden || newError)) {
      el.nickInput.focus();
      if (newError) el.nickInput.select();
    }
    if (!p.visible) el.passwordInput.value = '';
    if (!p.visible && !wasHidden) el.input.focus();
  }

  renderStatus() {
    const { state } = this.client;
    const s = state.conn.state;
    const el = this.el.status;
    el.dataset.state = s;
    let text;
    if (s === 'connected') text = state.lagMs !== null ? `connected · ${state.lagMs} ms` : 'connected';
    else if (s === 'reconnecting' && state.conn.retryAt > Date.now()) {
      text = `reconnecting in ${Math.ceil((state.conn.retryAt - Date.now()) / 1000)} s`;
    } else if (s === 'reconnecting') text = 'reconnecting…';
    else if (s === 'connecting') text = 'connecting…';
    else if (s === 'identifying') text = 'connected · choose a nick';
    else text = 'offline';
    el.textContent = text;
    el.title = s === 'reconnecting' ? 'Click to retry now' : '';
    this.el.me.textContent = state.nick ? `Signed in as ${state.nick}` : '';
  }

  convItem(conv, current, testid) {
    const label = conv.kind === 'room' ? `#${conv.id}` : conv.name;
    const button = h(
      'button',
      {
        type: 'button',
        class: 'conv-button',
        title: conv.kind === 'room' && conv.name !== conv.id ? conv.name : undefined,
        'aria-current': conv.key === current ? 'true' : undefined,
        onclick: () => {
          this.client.select(conv.key);
          this.closeSidebar();
          this.el.input.focus();
        },
      },
      [
        h('span', { class: 'conv-name', text: label }),
        conv.unread > 0
          ? h('span', { class: 'badge', testid: 'unread', text: conv.unread > 99 ? '99+' : conv.unread })
          : null,
      ],
    );
    return h(
      'li',
      {
        class: 'conv-item',
        testid,
        data: {
          key: conv.key,
          ...(conv.kind === 'room' ? { room: conv.id } : { nick: conv.id }),
          current: conv.key === current,
          unread: conv.unread,
          mention: conv.mention,
          joined: conv.kind === 'room' ? conv.joined : true,
        },
      },
      [button],
    );
  }

  renderSidebar(state) {
    const { el } = this;
    const rooms = [];
    const dms = [];
    for (const conv of state.convs.values()) {
      if (conv.kind === 'room') rooms.push(this.convItem(conv, state.current, 'room-item'));
      else dms.push(this.convItem(conv, state.current, 'dm-item'));
    }
    el.roomList.replaceChildren(...rooms);
    el.dmList.replaceChildren(...dms);
    el.dmSection.hidden = dms.length === 0;
    el.serverRooms.hidden = !this.browseOpen;
    el.browseFilter.hidden = !this.browseOpen;
    el.browse.textContent = this.browseOpen ? 'Hide server rooms' : 'Browse server rooms';
    if (this.browseOpen) {
      const list = state.serverRooms;
      if (list === null) el.serverRooms.replaceChildren(h('li', { class: 'muted', text: 'loading…' }));
      else if (list.length === 0)
        el.serverRooms.replaceChildren(
          h('li', { class: 'muted', text: state.serverRoomsFilter ? 'no room matches' : 'no rooms yet' }),
        );
      else {
        el.serverRooms.replaceChildren(
          ...list.map((r) =>
            h('li', { testid: 'server-room', data: { room: r.room_id } }, [
              h('span', { class: 'conv-name', text: `#${r.room_id}`, title: r.room_name }),
              h('span', { class: 'muted', text: `${r.members} online` }),
              state.convs.get(roomKey(r.room_id))?.joined
                ? h('span', { class: 'muted', text: 'joined' })
                : h('button', {
                    type: 'button',
                    class: 'small-button',
                    text: 'Join',
                    onclick: () => {
                      this.client.joinRoom(r.room_id);
                      this.closeSidebar();
                    },
                  }),
            ]),
          ),
          ...(state.serverRoomsCursor
            ? [
                h('li', {}, [
                  h('button', {
                    type: 'button',
                    class: 'link-button',
                    testid: 'browse-more',
                    text: 'More rooms…',
                    onclick: () => this.client.moreRooms(),
                  }),
                ]),
              ]
            : []),
        );
      }
    }
  }

  renderHeader(state, current) {
    const { el } = this;
    if (!current) {
      el.title.textContent = '';
      el.meta.textContent = state.nick ? 'no conversation open — join a room' : '';
      return;
    }
    if (current.kind === 'room') {
      el.title.textContent = `#${current.id}`;
      const n = current.members.size;
      const name = current.name !== current.id ? `${current.name} · ` : '';
      el.meta.textContent = current.joined
        ? `${name}${n} ${n === 1 ? 'member' : 'members'}`
        : `${name}not joined`;
    } else {
      el.title.textContent = `@${current.name}`;
      el.meta.textContent = 'direct messages';
    }
  }

  lineElement(item) {
    const time = h('time', {
      class: 'time',
      text: formatTime(item.ts),
      datetime: new Date(item.ts).toISOString(),
      title: new Date(item.ts).toLocaleString(),
    });
    if (item.kind === 'notice') {
      return h(
        'li',
        { class: `line notice${item.mono ? ' mono' : ''}`, testid: 'notice', data: { tone: item.tone } },
        [
          time,
          h('span', { class: 'marker', text: item.tone === 'error' ? '!' : '*', 'aria-hidden': 'true' }),
          h('span', { class: 'text', testid: 'notice-text', text: item.text }),
        ],
      );
    }
    const nick = h('span', { class: 'nick', testid: 'message-nick', text: item.nick });
    nick.style.setProperty('--hue', String(nickHue(item.nick)));
    return h(
      'li',
      {
        class: `line message${item.mine ? ' mine' : ''}${item.mention ? ' mention' : ''}`,
        testid: 'message',
        data: { kind: item.kind, nick: item.nick, ...(item.seq !== undefined ? { seq: item.seq } : {}) },
      },
      [time, nick, h('span', { class: 'text', testid: 'message-text', text: item.text })],
    );
  }

  renderMessages(conv) {
    const { el, rendered } = this;
    const wasAtBottom = this.stickToBottom || this.atBottom();
    this.stickToBottom = false;
    if (!conv) {
      el.list.replaceChildren();
      el.loadOlder.hidden = true;
      this.rendered = { key: null, epoch: -1, count: 0 };
      return;
    }
    el.loadOlder.hidden = !(conv.kind === 'room' && conv.hasMore);
    if (rendered.key !== conv.key || rendered.epoch !== conv.epoch || rendered.count > conv.items.length) {
      const switched = rendered.key !== conv.key;
      const fromBottom = el.scroller.scrollHeight - el.scroller.scrollTop;
      el.list.replaceChildren(...conv.items.map((item) => this.lineElement(item)));
      this.rendered = { key: conv.key, epoch: conv.epoch, count: conv.items.length };
      if (switched || wasAtBottom) el.scroller.scrollTop = el.scroller.scrollHeight;
      else el.scroller.scrollTop = el.scroller.scrollHeight - fromBottom; // keep place after "load older"
      this.unseenBelow = 0;
      el.newBelow.hidden = true;
      return;
    }
    if (rendered.count === conv.items.length) return;
    const added = conv.items.slice(rendered.count);
    el.list.append(...added.map((item) => this.lineElement(item)));
    rendered.count = conv.items.length;
    if (wasAtBottom) {
      el.scroller.scrollTop = el.scroller.scrollHeight;
    } else {
      this.unseenBelow += added.filter((i) => i.kind !== 'notice').length;
      el.newBelow.hidden = this.unseenBelow === 0;
      el.newBelow.textContent = `${this.unseenBelow} new ${this.unseenBelow === 1 ? 'message' : 'messages'} below ↓`;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Boot (only in a browser; under Node this module just exports the pieces above)
// ---------------------------------------------------------------------------------------------

function boot() {
  const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  const url = `${scheme}//${window.location.host}/ws`;
  let view = null;
  const client = new Client({ url, onChange: () => view?.schedule() });
  view = new View(client);
  try {
    const saved = window.localStorage?.getItem('chat.nick');
    if (saved) view.el.nickInput.value = saved;
  } catch {
    /* storage may be disabled */
  }
  view.render();
  view.el.nickInput.focus();
  // For debugging from the console and for tests; holds no secrets.
  window.chatClient = client;
}

if (typeof document !== 'undefined' && typeof window !== 'undefined') {
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
}
