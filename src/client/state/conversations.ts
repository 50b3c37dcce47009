import type { ChatMessage } from '../../protocol/events.js';
import { isIgnored } from './ignore.js';
import { mentions, sameNick } from './mention.js';
import type { ChatState, Conversation, Entry } from './types.js';

/** A conversation with nothing in it yet. */
export function newConversation(id: string, kind: 'room' | 'dm', name: string): Conversation {
  return {
    id,
    kind,
    name,
    entries: [],
    newestSeq: 0,
    oldestSeq: 0,
    epochStart: 0,
    hasMore: false,
    loadingOlder: false,
    members: [],
    joined: kind === 'dm',
    joinRequest: null,
    unread: 0,
    mentions: 0,
    scroll: null,
    newBelow: 0,
    pending: [],
    unreadFrom: null,
  };
}

/** Adds a conversation to the sidebar: rooms stay above DMs, each in the order they came. */
export function addConversation(state: ChatState, conv: Conversation): ChatState {
  const order = [...state.order];
  if (conv.kind === 'room') {
    const firstDm = order.findIndex((id) => state.conversations[id]?.kind === 'dm');
    order.splice(firstDm === -1 ? order.length : firstDm, 0, conv.id);
  } else {
    order.push(conv.id);
  }
  return { ...state, order, conversations: { ...state.conversations, [conv.id]: conv } };
}

/** Replaces one conversation (no-op when it is gone). */
export function putConversation(state: ChatState, conv: Conversation): ChatState {
  if (!state.conversations[conv.id]) return state;
  return { ...state, conversations: { ...state.conversations, [conv.id]: conv } };
}

/** Applies `fn` to one conversation when it exists. */
export function updateConversation(
  state: ChatState,
  id: string,
  fn: (c: Conversation) => Conversation,
): ChatState {
  const conv = state.conversations[id];
  return conv ? putConversation(state, fn(conv)) : state;
}

/** Builds the entry for a room message, deciding `self` and `mention` once, not per render. */
export function messageEntry(m: ChatMessage, me: string, ignored = false): Entry {
  const self = sameNick(m.user_name, me);
  return {
    ...(ignored && !self ? { hidden: true } : {}),
    kind: 'message',
    // Keyed by id, not seq: after a server restart without storage, seqs repeat but ids do not.
    key: `m${m.id}`,
    seq: m.seq,
    ts: m.ts,
    nick: m.user_name,
    text: m.message,
    self,
    mention: !self && mentions(m.message, me),
    ...(m.kind !== undefined ? { msgKind: m.kind } : {}),
  };
}

/**
 * Appends entries at the bottom. A conversation that is not on screen counts them as unread;
 * one scrolled up keeps its view still and counts them as "new below".
 */
export function appendEntries(
  state: ChatState,
  conv: Conversation,
  entries: readonly Entry[],
  countUnread: boolean,
): Conversation {
  if (entries.length === 0) return conv;
  let unread = conv.unread;
  let mentionCount = conv.mentions;
  let newBelow = conv.newBelow;
  const visible = state.current === conv.id;
  let unreadFrom = conv.unreadFrom;
  for (const e of entries) {
    if (e.kind !== 'message' || e.self || e.hidden || !countUnread) continue;
    if (!visible) {
      // The first message you have not seen: the read marker goes above it.
      if (unread === 0) unreadFrom = e.key;
      unread++;
      if (e.mention) mentionCount++;
    }
    if (conv.scroll) newBelow++;
  }
  const scroll = conv.scroll ? { ...conv.scroll, below: conv.scroll.below + entries.length } : null;
  return {
    ...conv,
    entries: [...conv.entries, ...entries],
    unread,
    mentions: mentionCount,
    newBelow,
    scroll,
    unreadFrom,
  };
}

/**
 * Merges room messages from any source (live, join history, since_seq replay, older pages) so
 * that each seq appears once and in order: newer ones go to the bottom, older ones to the top,
 * anything inside the held range is a duplicate and dropped.
 */
export function mergeMessages(
  state: ChatState,
  conv: Conversation,
  messages: readonly ChatMessage[],
  countUnread: boolean,
): Conversation {
  if (messages.length === 0) return conv;
  const sorted = isSorted(messages) ? messages : [...messages].sort((a, b) => a.seq - b.seq);
  const empty = conv.newestSeq === 0;
  const older: Entry[] = [];
  const newer: Entry[] = [];
  let newest = conv.newestSeq;
  let oldest = conv.oldestSeq;
  let lastOlder = 0;
  const pendingIds = new Set<string>();
  for (const m of sorted) {
    // An acknowledgement clears its "sending" line even when the message was already shown.
    if (m.client_msg_id !== undefined) pendingIds.add(m.client_msg_id);
    if (m.seq > newest) {
      newer.push(messageEntry(m, state.nick, isIgnored(state, m.user_name)));
      newest = m.seq;
      if (oldest === 0) oldest = m.seq;
    } else if (!empty && m.seq < conv.oldestSeq && m.seq > lastOlder) {
      older.push(messageEntry(m, state.nick, isIgnored(state, m.user_name)));
      lastOlder = m.seq;
      oldest = Math.min(oldest, m.seq);
    }
  }
  let next = conv;
  if (older.length > 0) {
    const at = next.epochStart;
    next = { ...next, entries: [...next.entries.slice(0, at), ...older, ...next.entries.slice(at)] };
  }
  next = appendEntries(state, next, newer, countUnread);
  const pending =
    pendingIds.size > 0 ? next.pending.filter((p) => !pendingIds.has(p.clientMsgId)) : next.pending;
  return { ...next, newestSeq: newest, oldestSeq: oldest, pending };
}

function isSorted(messages: readonly ChatMessage[]): boolean {
  for (let i = 1; i < messages.length; i++) if (messages[i]!.seq < messages[i - 1]!.seq) return false;
  return true;
}

/** Adds a notice to a conversation, or to the system list when there is none. */
export function addNotice(
  state: ChatState,
  id: string | null,
  text: string,
  tone: 'info' | 'error',
  now: number,
): ChatState {
  const entry: Entry = { kind: 'notice', key: `n${state.nextKey}`, ts: now, text, tone };
  const next = { ...state, nextKey: state.nextKey + 1 };
  const conv = id === null ? undefined : state.conversations[id];
  if (!conv) return { ...next, system: [...state.system, entry].slice(-500) };
  return putConversation(next, appendEntries(next, conv, [entry], false));
}

/** Makes `id` the current conversation and marks it read (the one it replaces becomes `previous`). */
export function select(state: ChatState, id: string): ChatState {
  const conv = state.conversations[id];
  if (!conv) return state;
  const previous = state.current !== null && state.current !== id ? state.current : state.previous;
  const seen: Conversation = {
    ...conv,
    unread: 0,
    mentions: 0,
    newBelow: conv.scroll ? conv.newBelow + conv.unread : 0,
  };
  return { ...state, current: id, previous, conversations: { ...state.conversations, [id]: seen } };
}

/** Removes a conversation; when it was current, its neighbour in the sidebar takes over. */
export function closeConversation(state: ChatState, id: string): ChatState {
  const index = state.order.indexOf(id);
  if (index === -1) return state;
  const order = state.order.filter((o) => o !== id);
  const { [id]: _gone, ...conversations } = state.conversations;
  const next: ChatState = {
    ...state,
    order,
    conversations,
    current: state.current === id ? null : state.current,
    previous: state.previous === id ? null : state.previous,
  };
  if (state.current !== id) return next;
  const neighbour = order[Math.min(index, order.length - 1)] ?? order[index - 1];
  return neighbour === undefined ? next : select(next, neighbour);
}
