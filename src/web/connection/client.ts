import { backoffDelay } from '../../client/backoff.js';
import { readInput } from '../command-parser.js';
import { applyEvent, type WireEvent } from '../state/events.js';
import { addNotice, createState, currentConv, roomKey, selectConv } from '../state/model.js';
import type { Conv, RequestMeta, State } from '../state/types.js';
import { cleanText, stripHash } from '../text.js';
import { runCommand } from './command-effects.js';
import { Socket, type WebSocketLike } from './socket.js';

/**
 * The page's session with the server: identifies with the nick from the prompt, reconnects with
 * the client's backoff (src/client/backoff.ts) and rejoins every room from the last seq seen,
 * and turns what the person does (a line, a click) into requests. Events go to the state
 * (state/events.ts); the view is told after every change.
 */

/** Errors on an automatic rejoin that mean "nothing to do". */
const QUIET_ON_REJOIN = new Set(['already_in_room']);
/** Errors on hello that send the person back to the nick prompt. */
const NICK_ERRORS = new Set(['nick_taken', 'bad_nick', 'nick_registered', 'already_identified']);

/** The nick prompt's state. */
export interface Prompt {
  visible: boolean;
  error: string | null;
  busy: boolean;
  needPassword?: boolean;
  /** Prefills the prompt (after /quit). */
  nick?: string | null;
}

/** How to build a {@link Client}. */
export interface ClientOptions {
  url: string;
  onChange?: () => void;
  WebSocketImpl?: WebSocketLike;
}

export class Client {
  state: State = createState();
  prompt: Prompt = { visible: true, error: null, busy: false };
  private readonly socket: Socket;
  private readonly onChange: (() => void) | undefined;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private wantedNick: string | null = null;
  /** Kept in memory (never stored) so a reconnect can identify a registered nick again. */
  private password: string | undefined;
  private welcomed = false;

  constructor({ url, onChange, WebSocketImpl }: ClientOptions) {
    this.onChange = onChange;
    this.socket = new Socket(
      url,
      {
        opened: () => this.opened(),
        received: (event, request) => this.receive(event, request),
        lost: () => this.lost(),
      },
      WebSocketImpl,
    );
  }

  /** Tells the view that something changed. */
  changed(): void {
    this.onChange?.();
  }

  /** Sends one request; returns its ref, or null when not connected. */
  readonly send: Socket['send'] = (type, payload, meta) => this.socket.send(type, payload, meta);

  /** Called from the nick prompt; the password only for a registered nick. */
  start(nick: string, password?: string): void {
    this.wantedNick = nick.trim();
    this.password = password || undefined;
    this.prompt = { visible: true, error: null, busy: true, needPassword: this.prompt.needPassword ?? false };
    if (this.socket.isOpen) this.hello();
    else if (!this.socket.exists) this.connect();
    this.changed();
  }

  private connect(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.state.conn = { state: this.attempt === 0 ? 'connecting' : 'reconnecting', retryAt: 0 };
    if (!this.socket.open()) {
      this.scheduleReconnect();
      return;
    }
    this.changed();
  }

  private opened(): void {
    this.state.conn = { state: 'identifying', retryAt: 0 };
    if (this.wantedNick) this.hello();
    this.changed();
  }

  private lost(): void {
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

  private scheduleReconnect(): void {
    const delay = backoffDelay(this.attempt++);
    this.state.conn = { state: 'reconnecting', retryAt: Date.now() + delay };
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
    this.changed();
  }

  /** Reconnect now instead of waiting for the backoff timer. */
  retryNow(): void {
    if (this.state.conn.state === 'reconnecting' && !this.socket.exists) this.connect();
  }

  private hello(): void {
    if (this.wantedNick === null) return;
    this.send('hello', { user_name: this.wantedNick, ...(this.password ? { password: this.password } : {}) });
  }

  private receive(event: WireEvent, request: RequestMeta | undefined): void {
    if (event.type === 'error') {
      const payload = (event.payload ?? {}) as { code?: unknown; message?: unknown };
      const code = typeof payload.code === 'string' ? payload.code : '';
      if (request?.type === 'hello' || (!this.welcomed && NICK_ERRORS.has(code))) {
        const needPassword =
          code === 'nick_registered' || (code !== 'nick_taken' && Boolean(this.prompt.needPassword));
        // The server's text for a registered nick speaks protocol; say it for a person unless a password was tried.
        const error =
          code === 'nick_registered' && !this.password
            ? `${this.wantedNick} is a registered nick: enter its password, or choose another nick.`
            : cleanText(payload.message ?? code);
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

    applyEvent(this.state, event, request);

    if (event.type === 'welcome') this.onWelcome();
    this.changed();
  }

  /** Identified: hide the prompt and (re)join the rooms, resuming each from the last seq seen. */
  private onWelcome(): void {
    const state = this.state;
    const wasReconnect = this.attempt > 0 && state.convs.size > 0;
    this.welcomed = true;
    this.attempt = 0;
    this.wantedNick = state.nick;
    this.prompt = { visible: false, error: null, busy: false };
    state.conn = { state: 'connected', retryAt: 0 };
    try {
      if (state.nick !== null) window.localStorage?.setItem('chat.nick', state.nick);
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
        const payload =
          conv.lastSeq > 0
            ? {
                room_id: conv.id,
                since_seq: conv.lastSeq,
                ...(conv.historyEpoch !== undefined ? { epoch: conv.historyEpoch } : {}),
              }
            : { room_id: conv.id };
        this.send('join', payload, { rejoin: true, roomId: conv.id });
      }
    }
    if (wasReconnect) addNotice(state, null, 'reconnected');
  }

  /** Handles one line from the input. Returns false when it could not be sent (keep the text). */
  submit(line: string): boolean {
    const text = line.replace(/\s+$/, '');
    if (text.trim() === '') return true;
    const input = readInput(text);
    const state = this.state;
    const current = currentConv(state);
    if (input.kind === 'error') {
      addNotice(state, current, input.message, 'error');
      this.changed();
      return true;
    }
    if (input.kind === 'text') {
      if (!current) {
        addNotice(state, null, 'join a room first: /join <room>', 'error');
        this.changed();
        return false;
      }
      const ok =
        current.kind === 'room'
          ? this.send('message', { room_id: current.id, message: input.text }, { roomId: current.id })
          : this.send('dm', { to: current.id, message: input.text }, { dmTo: current.id });
      if (!ok) this.notConnected(current);
      return Boolean(ok);
    }
    const ok = runCommand(this, input.command, current);
    if (!ok) this.notConnected(current);
    this.changed();
    return ok;
  }

  /** Says that what was typed or clicked was not sent. */
  notConnected(conv: Conv | null | undefined): void {
    addNotice(this.state, conv, 'not connected: the message was not sent', 'error');
    this.changed();
  }

  /** Joins a room and shows it; a room already joined is just shown. */
  joinRoom(roomId: string): boolean {
    const id = stripHash(roomId.trim());
    const existing = this.state.convs.get(roomKey(id));
    if (existing?.joined) {
      selectConv(this.state, existing.key);
      this.changed();
      return true;
    }
    return Boolean(this.send('join', { room_id: id }, { switchTo: true, roomId: id }));
  }

  /** Asks for the first page of the room list, only rooms whose id or name contains `filter`. */
  listRooms(filter = '', meta: Omit<RequestMeta, 'type'> = {}): boolean {
    this.state.serverRoomsFilter = filter;
    return Boolean(this.send('rooms', filter ? { filter } : null, meta));
  }

  /** Asks for the next page of the last listing; it is appended to the list. */
  moreRooms(meta: Omit<RequestMeta, 'type'> = {}): boolean {
    const { serverRoomsCursor: cursor, serverRoomsFilter: filter } = this.state;
    if (!cursor) return false;
    return Boolean(this.send('rooms', { cursor, ...(filter ? { filter } : {}) }, { ...meta, append: true }));
  }

  /** Asks for the page of history before the oldest line shown. */
  loadOlder(): void {
    const conv = currentConv(this.state);
    if (!conv || conv.kind !== 'room' || conv.firstSeq === null) return;
    this.send('history', { room_id: conv.id, before_seq: conv.firstSeq, limit: 100 }, { roomId: conv.id });
  }

  /** Shows a conversation. */
  select(key: string): void {
    selectConv(this.state, key);
    this.changed();
  }

  /** Leaves the chat: closes the connection and starts over at the nick prompt. */
  /** Says goodbye (members see a quit with the reason), closes, and shows the nick prompt. */
  quit(reason?: string): void {
    this.send('quit', reason !== undefined ? { reason } : {});
    const nick = this.state.nick;
    this.wantedNick = null;
    clearTimeout(this.retryTimer);
    this.socket.close(1000, 'quit');
    this.state = createState();
    this.attempt = 0;
    this.welcomed = false;
    this.password = undefined;
    this.prompt = { visible: true, error: null, busy: false, nick };
    this.changed();
  }
}
