import { dmId, sameNick } from '../../client/state/mention.js';
import { cleanText } from '../text.js';
import type { Conv, Item, NoticeTone, State } from './types.js';

/** How many lines a conversation keeps in memory. */
export const MAX_ITEMS = 1000;

/** The key of a room's conversation. */
export const roomKey = (roomId: string): string => `#${roomId.toLowerCase()}`;

/**
 * The key of a direct conversation: the nick as the server compares it (case and look-alikes
 * folded, src/protocol/nick.ts), as the terminal client keys it, so `Bob` and `bob` are one.
 */
export const dmKey = (nick: string): string => dmId(String(nick));

/** True when `nick` is the person using the page, as the server compares nicks. */
export const isMe = (state: State, nick: string): boolean =>
  state.nick !== null && sameNick(nick, state.nick);

/** A fresh client state. */
export function createState(): State {
  return {
    nick: null,
    defaultRoom: 'lobby',
    convs: new Map(),
    current: null,
    serverRooms: null,
    serverRoomsCursor: null,
    serverRoomsFilter: '',
    lagMs: null,
    conn: { state: 'offline', retryAt: 0 },
  };
}

/** Finds or creates a conversation. */
export function ensureConv(state: State, kind: Conv['kind'], id: string): Conv {
  const key = kind === 'room' ? roomKey(id) : dmKey(id);
  let conv = state.convs.get(key);
  if (!conv) {
    conv = {
      key,
      kind,
      id,
      name: id,
      items: [],
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

/** The conversation on screen, if any. */
export function currentConv(state: State): Conv | undefined {
  return state.current === null ? undefined : state.convs.get(state.current);
}

/** Appends one line to a conversation, counting it as unread when it is not the one on screen. */
export function addItem(state: State, conv: Conv, item: Item, { countUnread = true } = {}): void {
  conv.items.push(item);
  if (conv.items.length > MAX_ITEMS) {
    conv.items.splice(0, conv.items.length - MAX_ITEMS);
    conv.epoch++;
    const first = conv.items.find((i) => i.kind !== 'notice' && typeof i.seq === 'number');
    if (first && first.kind !== 'notice') conv.firstSeq = first.seq ?? conv.firstSeq;
    conv.hasMore = true;
  }
  if (countUnread && item.kind !== 'notice' && !item.mine && state.current !== conv.key) {
    conv.unread++;
    if (item.mention || conv.kind === 'dm') conv.mention = true;
  }
}

/** Adds a dim system line to a conversation (or, with none given, the one on screen). */
export function addNotice(
  state: State,
  conv: Conv | null | undefined,
  text: string,
  tone: NoticeTone = 'info',
  { mono = false } = {},
): void {
  const target = conv ?? currentConv(state);
  if (!target) return;
  addItem(
    state,
    target,
    { kind: 'notice', tone, mono, ts: Date.now(), text: cleanText(text) },
    { countUnread: false },
  );
}

/** Switches the conversation on screen and clears its unread count. */
export function selectConv(state: State, key: string): void {
  const conv = state.convs.get(key);
  if (!conv) return;
  state.current = key;
  conv.unread = 0;
  conv.mention = false;
}

/** Removes a conversation (after /leave), moving the view to a neighbour. */
export function removeConv(state: State, key: string): void {
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
export function totalUnread(state: State): number {
  let n = 0;
  for (const conv of state.convs.values()) n += conv.unread;
  return n;
}
