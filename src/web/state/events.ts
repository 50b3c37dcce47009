import { mentions, sameNick } from '../../client/state/mention.js';
import type { ChatMessage, RoomRole, ServerEventPayloads } from '../../protocol/events.js';
import { cleanText } from '../text.js';
import { addItem, addNotice, currentConv, dmKey, ensureConv, isMe, roomKey, selectConv } from './model.js';
import { applyModerationEvent, kickNotice, rolePrefix, takeRoomInfo, topicOf } from './moderation.js';
import type { Conv, MessageItem, RequestMeta, State } from './types.js';

/**
 * Server events applied to the page's state. Nothing here touches the DOM or a socket;
 * connection-level reactions (rejoining, the nick prompt) are the client's business.
 *
 * Payloads are typed as the protocol describes them, but they came from the network: every
 * string is cleaned before it is kept, and missing lists and numbers are tolerated.
 */

/** An event as it arrives: a type and a payload (matched to its request by `ref`). */
export interface WireEvent {
  type: string;
  payload?: unknown;
  ref?: unknown;
}

const oneLine = (value: unknown): string => cleanText(value, { keepNewlines: false });

function messageItem(state: State, m: ChatMessage): MessageItem {
  const nick = oneLine(m.user_name);
  const text = cleanText(m.message);
  const mine = isMe(state, nick);
  return {
    kind: 'message',
    seq: m.seq,
    id: m.id,
    ts: m.ts,
    nick,
    text,
    mine,
    mention: !mine && state.nick !== null && mentions(text, state.nick),
    ...(m.kind === 'topic' || m.kind === 'action' ? { msgKind: m.kind } : {}),
  };
}

/** Merges a `history` page: newer messages are appended, older ones prepended; seq dedupes. */
export function mergeHistory(
  state: State,
  conv: Conv,
  messages: ChatMessage[],
  { countUnread = false } = {},
): { older: number; newer: number } {
  const sorted = [...messages].filter((m) => Number.isInteger(m.seq)).sort((a, b) => a.seq - b.seq);
  const firstSeq = conv.firstSeq;
  const older = firstSeq === null ? [] : sorted.filter((m) => m.seq < firstSeq);
  const newer = sorted.filter((m) => m.seq > conv.lastSeq);
  if (older[0]) {
    conv.items.unshift(...older.map((m) => messageItem(state, m)));
    conv.firstSeq = older[0].seq;
    conv.epoch++;
  }
  for (const m of newer) {
    addItem(state, conv, messageItem(state, m), { countUnread });
    conv.lastSeq = m.seq;
    if (m.kind === 'topic') conv.topic = topicOf(m);
  }
  if (conv.firstSeq === null && newer[0]) conv.firstSeq = newer[0].seq;
  return { older: older.length, newer: newer.length };
}

function flushJoinNotice(state: State, conv: Conv): void {
  if (!conv.joinNotice) return;
  addNotice(state, conv, conv.joinNotice);
  conv.joinNotice = null;
}

function renameEverywhere(state: State, oldName: string, newName: string, roomId: string | undefined): void {
  const only = roomId !== undefined ? state.convs.get(roomKey(roomId)) : undefined;
  const rooms = roomId !== undefined ? (only ? [only] : []) : [...state.convs.values()];
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
 * A room's copy of a rename: the role goes to the new nick, or the one the server names for it
 * (`role`: a role given for good stays with the registered nick; null: none).
 */
function renameRole(
  state: State,
  roomId: string,
  oldName: string,
  newName: string,
  role: RoomRole | null | undefined,
): void {
  const conv = state.convs.get(roomKey(roomId));
  if (!conv?.roles) {
    if (conv && role) conv.roles = { [newName]: role };
    return;
  }
  const carried = Object.entries(conv.roles).find(([nick]) => sameNick(nick, oldName))?.[1];
  for (const nick of Object.keys(conv.roles)) if (sameNick(nick, oldName)) delete conv.roles[nick];
  const now = role === undefined ? carried : (role ?? undefined);
  if (now) conv.roles[newName] = now;
}

/** The payload of an event of type `T`, as the protocol says it looks. */
const payloadOf = <T extends keyof ServerEventPayloads>(event: WireEvent): ServerEventPayloads[T] =>
  (event.payload ?? {}) as ServerEventPayloads[T];

/**
 * Applies one server event to the state. `request` is the request this event answers (matched
 * by ref), when there is one.
 */
export function applyEvent(state: State, event: WireEvent, request?: RequestMeta): void {
  switch (event.type) {
    case 'welcome': {
      const p = payloadOf<'welcome'>(event);
      state.nick = oneLine(p.user_name);
      if (typeof p.default_room === 'string') state.defaultRoom = p.default_room;
      return;
    }
    case 'joined': {
      const p = payloadOf<'joined'>(event);
      const conv = ensureConv(state, 'room', p.room_id);
      // Asked for as `DEV`, the room is #dev (rooms compare without case): shown as it is spelt.
      conv.id = p.room_id;
      const rejoin = conv.lastSeq > 0 || conv.items.length > 0;
      conv.joined = true;
      const otherHistory =
        typeof p.epoch === 'string' && conv.historyEpoch !== undefined && p.epoch !== conv.historyEpoch;
      if (typeof p.epoch === 'string') conv.historyEpoch = p.epoch;
      if (otherHistory || (Number.isInteger(p.last_seq) && p.last_seq < conv.lastSeq)) {
        // The server lost this room's history (a restart without persistence, a room made
        // again): its seqs start again, so forget ours or every new message would look like
        // one already seen. (With another epoch the server sent its latest page, not a replay.)
        conv.lastSeq = otherHistory ? 0 : p.last_seq;
        conv.firstSeq = null;
        conv.hasMore = false;
        addNotice(state, conv, 'the server no longer has the earlier history of this room', 'error');
      }
      if (typeof p.room_name === 'string' && p.room_name !== '') conv.name = oneLine(p.room_name);
      conv.members = new Set((p.members ?? []).map(oneLine));
      takeRoomInfo(conv, p);
      // The server follows `joined` with `history`; the notice goes after the messages it replays.
      conv.joinNotice = rejoin ? `rejoined #${p.room_id}` : `you joined #${p.room_id}`;
      if (request?.switchTo || state.current === null) selectConv(state, conv.key);
      return;
    }
    case 'history': {
      const p = payloadOf<'history'>(event);
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
      const p = payloadOf<'message'>(event);
      const conv = state.convs.get(roomKey(p.room_id));
      if (!conv) return; // a room just left: the message was in flight
      flushJoinNotice(state, conv);
      if (Number.isInteger(p.seq) && p.seq <= conv.lastSeq) return; // already seen (resume overlap)
      addItem(state, conv, messageItem(state, p));
      // A topic line seen live changes the room's topic too (as it does when replayed).
      if (p.kind === 'topic') conv.topic = topicOf(p);
      if (Number.isInteger(p.seq)) {
        conv.lastSeq = p.seq;
        if (conv.firstSeq === null) conv.firstSeq = p.seq;
      }
      return;
    }
    case 'dm': {
      const p = payloadOf<'dm'>(event);
      const from = oneLine(p.from);
      const to = oneLine(p.to);
      const mine = isMe(state, from);
      const conv = ensureConv(state, 'dm', mine ? to : from);
      if (p.id && conv.items.some((i) => i.kind !== 'notice' && i.id === p.id)) return;
      addItem(state, conv, {
        kind: 'dm',
        id: p.id,
        ts: p.ts ?? Date.now(),
        nick: from,
        text: cleanText(p.message),
        mine,
        ...(p.kind === 'action' ? { msgKind: 'action' as const } : {}),
      });
      return;
    }
    case 'user_away': {
      const p = payloadOf<'user_away'>(event);
      const nick = oneLine(p.user_name);
      const text = (who: string): string =>
        typeof p.message === 'string' ? `${who} away: ${oneLine(p.message)}` : `${who} back`;
      if (typeof p.room_id === 'string') {
        const conv = state.convs.get(roomKey(p.room_id));
        if (conv) addNotice(state, conv, text(`${nick} is`));
        return;
      }
      // Our own /away answered, or the away message of somebody we sent a DM to.
      if (isMe(state, nick)) addNotice(state, currentConv(state) ?? null, text('you are'));
      else addNotice(state, state.convs.get(dmKey(nick)) ?? currentConv(state) ?? null, text(`${nick} is`));
      return;
    }
    case 'whois': {
      const p = payloadOf<'whois'>(event);
      const nick = oneLine(p.user_name);
      const idle = Math.floor((Number(p.idle_ms) || 0) / 1000);
      const rooms = (p.rooms ?? []).map((r) => `#${oneLine(r)}`).join(', ');
      const lines = [
        `${nick}: ${p.registered ? 'registered nick' : 'not registered'}`,
        ...(typeof p.away === 'string' ? [`away: ${oneLine(p.away)}`] : []),
        `idle ${idle >= 60 ? `${Math.floor(idle / 60)} min` : `${idle} s`}, connected since ${new Date(p.connected_ts).toLocaleString()}`,
        rooms === '' ? 'shares no room with you' : `in ${rooms} (rooms you share)`,
      ];
      addNotice(state, currentConv(state) ?? null, lines.join('\n'), 'info', { mono: true });
      return;
    }
    case 'user_joined': {
      const p = payloadOf<'user_joined'>(event);
      const conv = state.convs.get(roomKey(p.room_id));
      if (!conv) return;
      const nick = oneLine(p.user_name);
      conv.members.add(nick);
      if (!isMe(state, nick)) addNotice(state, conv, `${nick} joined #${p.room_id}`);
      return;
    }
    case 'user_left': {
      const p = payloadOf<'user_left'>(event);
      const conv = state.convs.get(roomKey(p.room_id));
      if (!conv) return;
      const nick = oneLine(p.user_name);
      for (const m of conv.members) if (sameNick(m, nick)) conv.members.delete(m);
      if (p.kicked_by !== undefined) {
        addNotice(state, conv, kickNotice(state, p), 'error');
        if (isMe(state, nick)) conv.joined = false;
        return;
      }
      const why = p.reason && (!p.quit || p.reason !== 'quit') ? ` (${oneLine(p.reason)})` : '';
      addNotice(state, conv, p.quit ? `${nick} quit${why}` : `${nick} left #${p.room_id}${why}`);
      return;
    }
    case 'nick_changed': {
      const p = payloadOf<'nick_changed'>(event);
      const oldName = oneLine(p.old_name);
      const newName = oneLine(p.user_name);
      if (isMe(state, oldName)) state.nick = newName;
      if (p.room_id !== undefined) renameRole(state, p.room_id, oldName, newName, p.role);
      if (oldName === newName) return;
      renameEverywhere(state, oldName, newName, p.room_id);
      return;
    }
    case 'rooms':
      applyRooms(state, payloadOf<'rooms'>(event), request);
      return;
    case 'users': {
      const p = payloadOf<'users'>(event);
      const users = (p.users ?? []).map(oneLine);
      const conv = state.convs.get(roomKey(p.room_id));
      if (conv) conv.members = new Set(users);
      const away = new Set(
        (p.members ?? []).filter((m) => typeof m.away === 'string').map((m) => oneLine(m.user_name)),
      );
      const roles = p.roles ?? {};
      if (conv) conv.roles = roles;
      const shown = users.map((u) => rolePrefix(roles[u]) + u + (away.has(u) ? ' (away)' : ''));
      addNotice(state, currentConv(state) ?? conv, `in #${p.room_id} (${users.length}): ${shown.join(', ')}`);
      return;
    }
    case 'pong': {
      const p = payloadOf<'pong'>(event);
      if (typeof p.ts === 'number') state.lagMs = Math.max(0, Date.now() - p.ts);
      return;
    }
    case 'registered':
      addNotice(state, null, `registered the nick ${oneLine(payloadOf<'registered'>(event).user_name)}`);
      return;
    case 'shutdown': {
      const p = payloadOf<'shutdown'>(event);
      addNotice(state, null, cleanText(p.message ?? p.reason ?? 'the server is shutting down'), 'error');
      return;
    }
    case 'error': {
      const p = payloadOf<'error'>(event);
      const target = request?.roomId
        ? state.convs.get(roomKey(request.roomId))
        : request?.dmTo
          ? state.convs.get(dmKey(request.dmTo))
          : null;
      addNotice(state, target ?? null, `error: ${oneLine(p.message ?? p.code)}`, 'error');
      return;
    }
    default:
      applyModerationEvent(state, event);
      return;
  }
}

/** A page of the room list (busiest first); "more" appends the next page. */
function applyRooms(state: State, p: ServerEventPayloads['rooms'], request: RequestMeta | undefined): void {
  const page = (p.rooms ?? []).map((r) => ({
    room_id: String(r.room_id),
    room_name: oneLine(r.room_name ?? r.room_id),
    members: Number(r.members) || 0,
  }));
  state.serverRooms = request?.append && state.serverRooms ? [...state.serverRooms, ...page] : page;
  state.serverRoomsCursor = typeof p.next_cursor === 'string' ? p.next_cursor : null;
  if (!request?.announce) return;
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
    { mono: lines.length > 0 },
  );
}
