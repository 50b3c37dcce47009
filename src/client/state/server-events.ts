import type { ServerEventPayloads, ServerMessage } from '../../protocol/events.js';
import {
  addConversation,
  addNotice,
  appendEntries,
  mergeMessages,
  newConversation,
  putConversation,
  select,
  updateConversation,
} from './conversations.js';
import { isIgnored } from './ignore.js';
import {
  kickText,
  noticeWhereTyped,
  reduceModerationEvent,
  roomInfo,
  rolePrefix,
  topicLine,
} from './moderation-events.js';
import { dmId, sameNick } from './mention.js';
import { renameAway, renameRole, setAway, withRole } from './members.js';
import { takeReplyTarget } from './replies.js';
import { isQuiet } from './smart-filter.js';
import { sameRoom } from '../../protocol/room-key.js';
import type { ChatState, Conversation, Entry } from './types.js';

type P<T extends keyof ServerEventPayloads> = ServerEventPayloads[T];

/** Applies one (already sanitised) server event. */
export function reduceServerEvent(state: ChatState, event: ServerMessage, now: number): ChatState {
  switch (event.type) {
    case 'welcome':
      return { ...state, nick: event.payload.user_name, identified: true, nickPrompt: null };
    case 'joined':
      return roomInfo(joined(state, event.payload, now), event.payload);
    case 'history':
      return history(state, event.payload, now);
    case 'message':
      return topicLine(
        updateConversation(state, event.payload.room_id, (c) =>
          mergeMessages(state, c, [event.payload], true),
        ),
        event.payload,
      );
    case 'dm':
      return directMessage(state, event.payload, event.ref);
    case 'user_joined':
      return updateConversation(
        memberNotice(
          state,
          event.payload.room_id,
          now,
          `${event.payload.user_name} joined`,
          (m) => (m.some((n) => sameNick(n, event.payload.user_name)) ? m : [...m, event.payload.user_name]),
          event.payload.user_name,
        ),
        event.payload.room_id,
        (c) => withRole(c, event.payload.user_name, event.payload.role),
      );
    case 'user_left': {
      const p = event.payload;
      const kicked = kickText(p, state.nick);
      // Our own /kick (the reply carries its ref) is answered where it was typed, too.
      let next =
        kicked !== undefined && event.ref !== undefined && String(event.ref) in state.replyTo
          ? noticeWhereTyped(state, event.ref, p.room_id, kicked, now)
          : state;
      next = userLeft(next, p, now);
      // Away marks and roles are for the nick list: one who left is in it no more (a standing
      // role comes back with its next user_joined).
      return updateConversation(next, p.room_id, (c) =>
        withRole(setAway(c, p.user_name, false), p.user_name, undefined),
      );
    }
    case 'user_away': {
      const { room_id, user_name, message } = event.payload;
      const next = userAway(state, event.payload, event.ref, now);
      return room_id === undefined
        ? next
        : updateConversation(next, room_id, (c) => setAway(c, user_name, message !== undefined));
    }
    case 'whois': {
      const reply = takeReplyTarget(state, event.ref);
      return notices(reply.state, reply.target, whoisLines(event.payload), 'info', now);
    }
    case 'nick_changed':
      return nickChanged(state, event.payload, now);
    case 'rooms': {
      const rooms = event.payload.rooms;
      const lines = rooms.map(
        (r) =>
          `  #${r.room_id}${r.room_name !== r.room_id ? ` (${r.room_name})` : ''}: ${r.members} ${r.members === 1 ? 'user' : 'users'}`,
      );
      // Pages add to what completion knows; the listing is paged, never the whole server at once.
      const knownRooms = [...new Set([...state.knownRooms, ...rooms.map((r) => r.room_id)])];
      const more = event.payload.has_more;
      const reply = takeReplyTarget(state, event.ref);
      return notices(
        { ...reply.state, knownRooms, roomsCursor: event.payload.next_cursor ?? null },
        reply.target,
        [
          `${rooms.length} ${rooms.length === 1 ? 'room' : 'rooms'}${more ? ', busiest first' : ' on the server'}:`,
          ...lines,
          ...(more ? ['more: /rooms more (or /rooms <filter> to search)'] : []),
        ],
        'info',
        now,
      );
    }
    case 'users': {
      const { room_id, users } = event.payload;
      const roles = event.payload.roles ?? {};
      const next = updateConversation(state, room_id, (c) => ({
        ...c,
        members: users,
        roles,
        ...(event.payload.members
          ? { away: event.payload.members.filter((m) => m.away !== undefined).map((m) => m.user_name) }
          : {}),
      }));
      // The answer goes where /users was typed, which may not be the room asked about.
      const reply = takeReplyTarget(next, event.ref);
      const away = new Set(
        event.payload.members?.filter((m) => m.away !== undefined).map((m) => m.user_name),
      );
      const sorted = [...users]
        .sort((a, b) => a.localeCompare(b, undefined, { sensitivity: 'base' }))
        .map((n) => rolePrefix(roles[n]) + n + (away.has(n) ? ' (away)' : ''));
      return addNotice(
        reply.state,
        reply.target,
        `${users.length} in #${room_id}: ${sorted.join(', ')}`,
        'info',
        now,
      );
    }
    case 'room_created':
      return state.knownRooms.includes(event.payload.room_id)
        ? state
        : { ...state, knownRooms: [...state.knownRooms, event.payload.room_id] };
    case 'registered': {
      const reply = takeReplyTarget(state, event.ref);
      return addNotice(
        reply.state,
        reply.target,
        `${event.payload.user_name} is registered: this nick now needs its password (this client remembers it until you quit)`,
        'info',
        now,
      );
    }
    case 'shutdown':
      return addNotice(
        state,
        state.current,
        `server: ${event.payload.message || event.payload.reason}`,
        'error',
        now,
      );
    case 'error':
      return serverError(state, event, now);
    case 'pong':
    case 'user_account':
      return state;
    case 'topic':
    case 'role_changed':
    case 'modes_changed':
    case 'ban_changed':
    case 'bans':
    case 'modes':
    case 'invited':
    case 'killed':
      return reduceModerationEvent(state, event, now);
  }
}

function notices(
  state: ChatState,
  id: string | null,
  lines: string[],
  tone: 'info' | 'error',
  now: number,
): ChatState {
  let next = state;
  for (const line of lines) next = addNotice(next, id, line, tone, now);
  return next;
}

function joined(state: ChatState, p: P<'joined'>, now: number): ChatState {
  state = adoptRoomSpelling(state, p.room_id);
  const existing = state.conversations[p.room_id];
  let next: ChatState;
  const otherHistory = p.epoch !== undefined && existing?.epoch !== undefined && p.epoch !== existing.epoch;
  if (existing && (otherHistory || p.last_seq < existing.newestSeq)) {
    // The server forgot this room's history (a restart without storage, a room made again):
    // seq starts over. (With another epoch the server sends its latest page, not a replay.)
    const withNotice = addNotice(
      state,
      p.room_id,
      otherHistory && p.last_seq >= existing.newestSeq
        ? "this room's history started again on the server; the messages above are from before"
        : 'the server restarted without its history; the messages above are from before',
      'error',
      now,
    );
    const conv = withNotice.conversations[p.room_id]!;
    next = putConversation(withNotice, {
      ...conv,
      name: p.room_name,
      members: p.members,
      joined: true,
      newestSeq: 0,
      oldestSeq: 0,
      ...(p.epoch !== undefined ? { epoch: p.epoch } : {}),
      hasMore: false,
      epochStart: conv.entries.length,
      joinRequest: null,
    });
  } else if (existing) {
    next = putConversation(state, {
      ...existing,
      ...(p.epoch !== undefined ? { epoch: p.epoch } : {}),
      name: p.room_name,
      members: p.members,
      joined: true,
      joinRequest: null,
    });
  } else {
    next = addConversation(state, {
      ...newConversation(p.room_id, 'room', p.room_name),
      ...(p.epoch !== undefined ? { epoch: p.epoch } : {}),
      members: p.members,
      joined: true,
      // A join's first history page says for sure; a since_seq join (a room remembered from
      // the last run) only replays what came after, so older messages may be there for PgUp.
      hasMore: p.last_seq > 0,
    });
  }
  if (!next.knownRooms.includes(p.room_id)) next = { ...next, knownRooms: [...next.knownRooms, p.room_id] };
  // The first room joined (the default one) is where the client opens; a /join switched already.
  return next.current === null ? select(next, p.room_id) : next;
}

function history(state: ChatState, p: P<'history'>, now: number): ChatState {
  const conv = state.conversations[p.room_id];
  if (!conv) return state;
  const replay = p.recovered !== undefined;
  let next = mergeMessages(state, conv, p.messages, replay);
  if (!replay && (conv.loadingOlder || conv.newestSeq === 0))
    next = { ...next, hasMore: p.has_more, loadingOlder: false };
  let out = putConversation(state, next);
  if (p.recovered === false) {
    out = addNotice(
      out,
      p.room_id,
      'some messages from while you were away are no longer on the server',
      'error',
      now,
    );
  }
  return out;
}

function directMessage(state: ChatState, p: P<'dm'>, ref: string | number | undefined): ChatState {
  const self = sameNick(p.from, state.nick);
  // An ignored nick cannot open a conversation with you.
  if (!self && isIgnored(state, p.from)) return state;
  const partner = self ? p.to : p.from;
  const id = dmId(partner);
  let next = state;
  if (!next.conversations[id]) next = addConversation(next, newConversation(id, 'dm', partner));
  let conv = next.conversations[id]!;
  // Our own DM echoed back with its ref: it is no longer "sending".
  if (self && ref !== undefined && conv.pending.some((m) => m.clientMsgId === String(ref)))
    conv = { ...conv, pending: conv.pending.filter((m) => m.clientMsgId !== String(ref)) };
  const key = `d${p.id}`;
  if (conv.entries.slice(-50).some((e) => e.key === key)) return putConversation(next, conv);
  // A DM is addressed to us, so it always counts as a mention.
  const entry: Entry = {
    kind: 'message',
    key,
    seq: null,
    ts: p.ts,
    nick: p.from,
    text: p.message,
    self,
    mention: !self,
    ...(p.kind === 'action' ? { msgKind: 'action' as const } : {}),
  };
  return putConversation(next, appendEntries(next, { ...conv, name: partner }, [entry], true));
}

/**
 * Updates a room's members and says so. With `about` (a join or leave), the notice is marked
 * quiet for the smart filter when that nick has not spoken lately, and hidden when ignored.
 */
function memberNotice(
  state: ChatState,
  roomId: string,
  now: number,
  text: string,
  members: (m: readonly string[]) => readonly string[],
  about?: string,
): ChatState {
  const conv = state.conversations[roomId];
  if (!conv) return state;
  const next = addNotice(
    putConversation(state, { ...conv, members: members(conv.members) }),
    roomId,
    text,
    'info',
    now,
  );
  if (about === undefined) return next;
  const quiet = isQuiet(conv, about, now);
  const hidden = isIgnored(state, about);
  if (!quiet && !hidden) return next;
  return updateConversation(next, roomId, (c) => {
    const last = c.entries[c.entries.length - 1];
    if (last?.kind !== 'notice') return c;
    const marked: Entry = { ...last, ...(quiet ? { quiet } : {}), ...(hidden ? { hidden } : {}) };
    return { ...c, entries: [...c.entries.slice(0, -1), marked] };
  });
}

function userLeft(state: ChatState, p: P<'user_left'>, now: number): ChatState {
  const why = p.reason && p.reason !== 'quit' ? ` (${p.reason})` : '';
  const kicked = kickText(p, state.nick);
  if (kicked !== undefined && sameNick(p.user_name, state.nick)) {
    const conv = state.conversations[p.room_id];
    if (!conv) return state;
    return addNotice(putConversation(state, { ...conv, joined: false }), p.room_id, kicked, 'error', now);
  }
  // Never hidden as a quiet member's leave: a kick is news even about somebody who never spoke.
  if (kicked !== undefined)
    return memberNotice(state, p.room_id, now, kicked, (m) => m.filter((n) => !sameNick(n, p.user_name)));
  // A quit leaves the server, not only the room: said so, with the reason.
  if (p.quit && !sameNick(p.user_name, state.nick))
    return memberNotice(
      state,
      p.room_id,
      now,
      `${p.user_name} quit${why}`,
      (m) => m.filter((n) => !sameNick(n, p.user_name)),
      p.user_name,
    );
  if (sameNick(p.user_name, state.nick)) {
    // Our own leave: /leave already closed the conversation. Anything else means we were removed.
    const conv = state.conversations[p.room_id];
    if (!conv) return state;
    return addNotice(
      putConversation(state, { ...conv, joined: false }),
      p.room_id,
      `you left #${p.room_id}${why}`,
      'error',
      now,
    );
  }
  return memberNotice(
    state,
    p.room_id,
    now,
    `${p.user_name} left${why}`,
    (m) => m.filter((n) => !sameNick(n, p.user_name)),
    p.user_name,
  );
}

function nickChanged(state: ChatState, p: P<'nick_changed'>, now: number): ChatState {
  let next = state;
  const ours = sameNick(p.old_name, state.nick) || sameNick(p.user_name, state.nick);
  if (p.room_id === undefined) {
    // The copy sent to us alone: our own rename. Every room we are in gets its own copy next
    // (and says it there), so this one is shown only where no room copy will land.
    if (!ours || p.old_name === p.user_name) return state;
    next = { ...next, nick: p.user_name };
    const here = next.current === null ? undefined : next.conversations[next.current];
    if (here?.kind === 'room' && here.joined) return next;
    return addNotice(next, next.current, `you are now known as ${p.user_name}`, 'info', now);
  }
  const text = ours ? `you are now known as ${p.user_name}` : `${p.old_name} is now known as ${p.user_name}`;
  next = memberNotice(next, p.room_id, now, text, (m) => m.map((n) => (n === p.old_name ? p.user_name : n)));
  next = updateConversation(next, p.room_id, (c) => {
    const moved = renameRole(renameAway(c, p.old_name, p.user_name), p.old_name, p.user_name);
    // The server says the new nick's role (a role given for good stays with the registered
    // nick); an older server does not, and the prefix moves with the nick.
    return p.role === undefined ? moved : withRole(moved, p.user_name, p.role ?? undefined);
  });
  return renameDm(next, p.old_name, p.user_name);
}

/** Keeps a DM conversation when its partner changes nick. */
function renameDm(state: ChatState, oldName: string, newName: string): ChatState {
  const oldId = dmId(oldName);
  const newId = dmId(newName);
  const conv = state.conversations[oldId];
  if (!conv) return state;
  if (oldId === newId) return putConversation(state, { ...conv, name: newName });
  if (state.conversations[newId]) return state;
  const { [oldId]: _old, ...rest } = state.conversations;
  const moved: Conversation = { ...conv, id: newId, name: newName };
  return {
    ...state,
    conversations: { ...rest, [newId]: moved },
    order: state.order.map((id) => (id === oldId ? newId : id)),
    current: state.current === oldId ? newId : state.current,
  };
}

function serverError(
  state: ChatState,
  event: Extract<ServerMessage, { type: 'error' }>,
  now: number,
): ChatState {
  const { code, message } = event.payload;
  // Joining a room we are in is how /join switches to it; nothing went wrong.
  if (code === 'already_in_room') return state;
  let next = state;
  for (const conv of Object.values(next.conversations)) {
    if (conv.loadingOlder) next = putConversation(next, { ...conv, loadingOlder: false });
  }
  // A refused chat message or DM: its ref is its client_msg_id. Its "sending" line turns into a
  // "not sent" one where it was typed, so the text is not lost and it is clear which one failed.
  const ref = event.ref === undefined ? undefined : String(event.ref);
  const conv =
    ref === undefined
      ? undefined
      : Object.values(next.conversations).find((c) => c.pending.some((p) => p.clientMsgId === ref));
  const refused = conv?.pending.find((p) => p.clientMsgId === ref);
  if (conv && refused) {
    next = putConversation(next, { ...conv, pending: conv.pending.filter((p) => p !== refused) });
    if (conv.id === next.current)
      return addNotice(next, conv.id, `not sent: ${refused.text} (${message} [${code}])`, 'error', now);
    next = addNotice(next, conv.id, `not sent: ${refused.text}`, 'error', now);
  }
  const reply = takeReplyTarget(next, event.ref);
  return addNotice(reply.state, reply.target, `${message} [${code}]`, 'error', now);
}

/**
 * `user_away`: in a room, that member went away or came back; without a room, our own away
 * state (the answer to /away) or, after a DM, the partner's away message (shown in that DM).
 */
function userAway(
  state: ChatState,
  p: P<'user_away'>,
  ref: string | number | undefined,
  now: number,
): ChatState {
  const text = (who: string): string =>
    p.message !== undefined ? `${who} away: ${p.message}` : `${who} back`;
  if (p.room_id !== undefined)
    return memberNotice(state, p.room_id, now, text(`${p.user_name} is`), (m) => m, p.user_name);
  if (sameNick(p.user_name, state.nick)) {
    const reply = takeReplyTarget(state, ref);
    return addNotice(reply.state, reply.target, text('you are'), 'info', now);
  }
  const dm = dmId(p.user_name);
  return addNotice(
    state,
    state.conversations[dm] ? dm : state.current,
    text(`${p.user_name} is`),
    'info',
    now,
  );
}

/** What /whois shows. */
function whoisLines(w: P<'whois'>): string[] {
  const idle = Math.floor(w.idle_ms / 1000);
  const idleText =
    idle >= 3600
      ? `${Math.floor(idle / 3600)}h ${Math.floor((idle % 3600) / 60)}m`
      : idle >= 60
        ? `${Math.floor(idle / 60)}m ${idle % 60}s`
        : `${idle}s`;
  const since = new Date(w.connected_ts).toISOString().slice(0, 16).replace('T', ' ');
  return [
    `${w.user_name}: ${w.registered ? 'registered nick' : 'not registered'}`,
    ...(w.away !== undefined ? [`${w.user_name}: away: ${w.away}`] : []),
    `${w.user_name}: idle ${idleText}, connected since ${since} UTC`,
    `${w.user_name}: ${w.rooms.length === 0 ? 'shares no room with you' : `in ${w.rooms.map((r) => `#${r}`).join(', ')} (rooms you share)`}`,
  ];
}

/**
 * A room we asked for as `DEV` came back as `dev` (rooms compare without case): the conversation
 * opened for the join takes the room's own spelling, keeping its place and what it holds.
 */
function adoptRoomSpelling(state: ChatState, roomId: string): ChatState {
  if (state.conversations[roomId]) return state;
  const asked = state.order.find((id) => state.conversations[id]?.kind === 'room' && sameRoom(id, roomId));
  if (asked === undefined) return state;
  const conv = state.conversations[asked]!;
  const { [asked]: _old, ...rest } = state.conversations;
  return {
    ...state,
    conversations: { ...rest, [roomId]: { ...conv, id: roomId } },
    order: state.order.map((id) => (id === asked ? roomId : id)),
    current: state.current === asked ? roomId : state.current,
  };
}
