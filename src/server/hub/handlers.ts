import { RequestError } from '../../protocol/errors.js';
import type { DirectMessage, RoomSummary } from '../../protocol/events.js';
import { MAX_HISTORY_PAGE } from '../../protocol/limits.js';
import type { RequestPayload, RequestType } from '../../protocol/schema.js';
import { roomKey } from '../../protocol/room-key.js';
import type { Room } from '../room.js';
import { roomsPage } from '../rooms-page.js';
import type { Session } from '../session.js';
import { handler, type HandlerEntry, type HubContext, type Request } from './handler.js';
import type { IdentifiedSession } from './identity.js';
import { AWAY, QUIT, WHOIS, tellIfAway } from './life.js';
import { nickKey } from '../../protocol/nick.js';
import { checkAdmission, checkSpeak, MODERATION_HANDLERS } from './moderation.js';

type Ref = string | number | undefined;

/** Numbers DM ids within the process (with the sender's session id and the time, unique). */
let dmCounter = 0;

/**
 * The request handlers, one per request type. Each entry declares what must hold before it runs
 * (a nick, the room, membership) and the limit it is charged to; {@link runHandler} checks those
 * in one place, so the handler body is only the request's own work. A handler throws a
 * RequestError to refuse; the hub turns it into an `error` reply.
 *
 * `hello`, `join` and `create_room` take no identity precondition: `join` and `create_room` may
 * carry the identity themselves (`Identities.ensure`), after checks of their own that come first.
 */
export const HANDLERS: { readonly [T in RequestType]: HandlerEntry<T> } = {
  hello: handler('hello', {}, async ({ session, payload: p, ref }, hub) => {
    if (session.identified)
      throw new RequestError('already_identified', `you are ${session.nick} already; use nick to rename`);
    const me = await hub.identities.bind(session, p.user_name, p.user_id, p.password, p.resume_token);
    if (me) hub.identities.welcome(me, ref);
  }),

  create_room: handler('create_room', {}, async ({ session, payload: p, ref }, hub) => {
    if (hub.rooms.has(p.room_id))
      throw new RequestError('room_exists', `room ${p.room_id} exists already; join it`);
    const me = await hub.identities.ensure(session, p.user_name, p.user_id, ref);
    if (!me) return; // closed while binding
    // Re-check: binding may have waited on the store.
    if (hub.rooms.has(p.room_id))
      throw new RequestError('room_exists', `room ${p.room_id} exists already; join it`);
    checkRoomQuota(me, hub);
    admitNewRoom(me, hub);
    const name = p.room_name ?? p.room_id;
    const room = await hub.rooms.create(p.room_id, name, me.nick, me.registered, true, me);
    me.send('room_created', { room_id: p.room_id, room_name: name, created_by: me.nick }, ref);
    enter(me, room, undefined, ref);
  }),

  // Charged in the handler, not by the table: the quota check comes first, and only then the
  // presence token (every join costs: a newcomer is announced, a rejoin reads a history page).
  join: handler('join', {}, async ({ session, payload: p, ref }, hub) => {
    const me = await hub.identities.ensure(session, p.user_name, p.user_id, ref);
    if (!me) return; // closed while binding
    let room = hub.rooms.get(p.room_id);
    if (!me.rooms.has(p.room_id)) checkRoomQuota(me, hub);
    hub.charges.charge(me, 'presence');
    // Cluster mode: another node may have made it.
    if (!room && hub.rooms.clustered) room = await hub.rooms.load(p.room_id);
    if (!room) {
      const pending = hub.rooms.pending(p.room_id);
      if (!pending) admitNewRoom(me, hub);
      room = await (pending ?? hub.rooms.create(p.room_id, p.room_id, me.nick, me.registered, false, me));
      // Cluster mode: what was pending was a look-up that found no room; make it.
      if (!room) {
        admitNewRoom(me, hub);
        room = await hub.rooms.create(p.room_id, p.room_id, me.nick, me.registered, false, me);
      }
    }
    checkAdmission(me, room);
    if (!me.rooms.has(p.room_id) && room.memberCount >= hub.options.maxMembersPerRoom) {
      throw new RequestError(
        'room_full',
        `${p.room_id} has ${room.memberCount} members, the most it may hold`,
      );
    }
    // A since_seq counted in another history of the room (see Room.epoch) is no place to resume.
    const since = room.otherHistory(p.epoch) ? undefined : p.since_seq;
    enter(me, room, since, ref);
  }),

  leave: handler(
    'leave',
    { room: true, member: (id) => `you are not in ${id}` },
    ({ session, payload: p, ref, room }, hub) => {
      session.rooms.delete(p.room_id);
      // A leave spends a presence token when there is one but is never refused: the way out stays
      // open, and leaves cannot outnumber the joins (which are refused) by more than the rooms one is in.
      hub.charges.spend(session, 'presence');
      room.post({ kind: 'leave', session, ref, ...(p.reason ? { reason: p.reason } : {}) });
    },
  ),

  message: handler(
    'message',
    { identity: true, room: true, member: (id: string) => `join ${id} before sending to it` },
    sendToRoom,
  ),

  dm: handler('dm', { identity: true }, ({ session, payload: p, ref }, hub) => {
    const target = hub.identities.online(p.to);
    // Cluster mode: the holder may be on another node.
    if (!target && hub.options.engine) return dmElsewhere(session, p, ref, hub);
    if (!target) throw new RequestError('no_such_user', `${p.to} is not online`);
    const text = hub.charges.admitMessage(session, session.nick, p.message, `@${target.nick}`);
    hub.counters.messagesIn++;
    session.lastMessageAt = Date.now();
    const dm: DirectMessage = {
      id: `dm-${session.id}-${Date.now().toString(36)}-${(dmCounter++).toString(36)}`,
      ts: session.lastMessageAt,
      from: session.nick,
      to: target.nick,
      message: text,
      ...(p.kind !== undefined ? { kind: p.kind } : {}),
    };
    if (target !== session) target.send('dm', dm);
    session.send('dm', dm, ref);
    tellIfAway(session, target);
  }),

  // Charged before the store read; a rename is announced in every room the session is in.
  nick: handler('nick', { identity: true, charge: 'presence' }, async ({ session, payload: p, ref }, hub) => {
    const oldName = session.nick;
    if (p.user_name === oldName) {
      session.send('nick_changed', { old_name: oldName, user_name: oldName }, ref);
      return;
    }
    const wasLoggedIn = session.registered;
    await hub.identities.rename(session, p.user_name);
    // Cluster mode: the away message went with the old nick's claim; it stays with the user.
    if (hub.options.engine && session.away !== undefined)
      await hub.options.engine.setAway(session.nickKey, session.away);
    session.send('nick_changed', { old_name: oldName, user_name: p.user_name }, ref);
    for (const roomId of session.rooms) {
      hub.rooms.get(roomId)?.post({ kind: 'rename', session, oldName });
      // The account went with the registered nick: the rooms see the user logged out.
      if (wasLoggedIn && !session.registered) hub.rooms.get(roomId)?.post({ kind: 'account', session });
    }
  }),

  rooms: handler('rooms', { charge: 'reads' }, async ({ session, payload: p, ref }, hub) => {
    const { engine } = hub.options;
    if (engine) {
      // Cluster mode: every node's rooms, with members on every node.
      const [records, counts] = await Promise.all([engine.listRooms(), engine.counts()]);
      const all = records.map((r) => ({
        room_id: r.room_id,
        room_name: r.room_name,
        members: counts.get(roomKey(r.room_id)) ?? 0,
      }));
      session.send('rooms', roomsPage(all, p ?? {}, session.replyBudget), ref);
      return;
    }
    const all: RoomSummary[] = [];
    for (const room of hub.rooms.all())
      all.push({ room_id: room.id, room_name: room.name, members: room.memberCount });
    session.send('rooms', roomsPage(all, p ?? {}, session.replyBudget), ref);
  }),

  users: handler('users', { room: true, charge: 'reads' }, ({ session, ref, room }) => {
    room.post({ kind: 'users', session, ref });
  }),

  ping: handler('ping', {}, ({ session, payload: p, ref }) => {
    session.send('pong', { ts: p?.ts ?? Date.now(), server_ts: Date.now() }, ref);
  }),

  history: handler('history', { room: true, charge: 'reads' }, ({ session, payload: p, ref, room }) => {
    const limit = Math.min(p.limit ?? 50, MAX_HISTORY_PAGE);
    room.post({
      kind: 'history',
      session,
      limit,
      ref,
      ...(p.before_seq !== undefined ? { beforeSeq: p.before_seq } : {}),
    });
  }),

  register: handler('register', { identity: true }, async ({ session, payload: p, ref }, hub) => {
    const wasLoggedIn = session.registered;
    await hub.identities.register(session, p.password);
    session.send('registered', { user_name: session.nick }, ref);
    // Registering logs the user in: the rooms it is in see its account (not for a password change).
    if (!wasLoggedIn)
      for (const roomId of session.rooms) hub.rooms.get(roomId)?.post({ kind: 'account', session });
  }),

  away: AWAY,
  quit: QUIT,
  whois: WHOIS,
  ...MODERATION_HANDLERS,
};

/**
 * Cluster mode: a DM to a nick no session of this node holds goes through Redis to the node of
 * whoever holds it (which delivers it: Hub, `node` events); `no_such_user` when nobody does.
 */
async function dmElsewhere(
  session: IdentifiedSession,
  p: RequestPayload<'dm'>,
  ref: Ref,
  hub: HubContext,
): Promise<void> {
  const key = nickKey(p.to);
  const text = hub.charges.admitMessage(session, session.nick, p.message, `@${p.to}`);
  hub.counters.messagesIn++;
  session.lastMessageAt = Date.now();
  const dm = {
    id: `dm-${hub.options.engine!.nodeId}-${session.id}-${Date.now().toString(36)}-${(dmCounter++).toString(36)}`,
    ts: session.lastMessageAt,
    from: session.nick,
    message: text,
    // An action (`/me`) stays one on the other node.
    ...(p.kind !== undefined ? { kind: p.kind } : {}),
  };
  const held = await hub.options.engine!.sendDm(key, dm);
  if (!held) throw new RequestError('no_such_user', `${p.to} is not online`);
  session.send('dm', { ...dm, to: held.nick }, ref);
  // The away message, shared through Redis, answers as it would on one node (tellIfAway).
  if (held.away !== undefined) session.send('user_away', { user_name: held.nick, message: held.away });
}

/**
 * A one-shot message from an identified session that has not joined the room (HTTP
 * `POST /post`, see Hub.postOnce): `message` without the membership precondition.
 */
export const POST_ONCE = handler('message', { identity: true, room: true }, sendToRoom);

/** A message to a room: the message gate (rate, filters), then into the room's mailbox. */
function sendToRoom(
  { session, payload: p, ref, room }: Request<'message', { identity: true; room: true }>,
  hub: HubContext,
): void {
  // A one-shot post comes from outside the room: it is let in only as a join would be.
  if (!session.rooms.has(room.id)) checkAdmission(session, room);
  checkSpeak(session, room);
  const text = hub.charges.admitMessage(session, session.nick, p.message, p.room_id);
  hub.counters.messagesIn++;
  session.lastMessageAt = Date.now();
  room.post({
    kind: 'message',
    session,
    text,
    ref,
    ...(p.client_msg_id !== undefined ? { clientMsgId: p.client_msg_id } : {}),
    ...(p.kind !== undefined ? { msgKind: p.kind } : {}),
  });
}

function enter(session: Session, room: Room, sinceSeq: number | undefined, ref: Ref): void {
  if (session.closed) return;
  session.rooms.add(room.id);
  room.post({ kind: 'join', session, ref, ...(sinceSeq !== undefined ? { sinceSeq } : {}) });
}

/** The gate before a room is made: the server-wide room cap, then the room-creation limit. */
function admitNewRoom(session: IdentifiedSession, hub: HubContext): void {
  hub.rooms.checkCapacity();
  hub.charges.charge(session, 'rooms');
}

function checkRoomQuota(session: Session, hub: HubContext): void {
  if (session.rooms.size >= hub.options.maxRoomsPerUser) {
    throw new RequestError(
      'too_many_rooms',
      `you are in ${session.rooms.size} rooms, the most allowed; leave one first`,
    );
  }
}
