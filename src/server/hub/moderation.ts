import { RequestError } from '../../protocol/errors.js';
import type { RequestPayload } from '../../protocol/schema.js';
import { parseBanMask } from '../moderation/ban-mask.js';
import { admissionError } from '../room-modes.js';
import type { Room } from '../room.js';
import type { Session } from '../session.js';
import { handler } from './handler.js';
import { nickKey } from '../../protocol/nick.js';

/**
 * The handler entries of topics and moderation (issue 14), merged into the hub's table. Who may
 * act is declared (`operator`, `serverOperator`) and checked by runHandler; what depends on the
 * target (its standing, whether it is in the room) is checked by the room, in its mailbox, where
 * the change is stored and announced (src/server/room-moderation.ts).
 */
export const MODERATION_HANDLERS = {
  // Any member may set the topic unless it is locked (+t); asking for it is a read.
  topic: handler(
    'topic',
    { identity: true, room: true, member: (id: string) => `join ${id} first` },
    ({ session, payload: p, ref, room }, hub) => {
      if (p.topic === undefined) {
        hub.charges.charge(session, 'reads');
        session.send('topic', { room_id: room.id, topic: room.policy.topic ?? null }, ref);
        return;
      }
      if (room.policy.modes.topic_locked && !room.policy.mayOperate(session))
        throw new RequestError('topic_locked', `the topic of ${room.id} is locked (+t); ask an operator`);
      // A topic is a room line (stored, replayed): it passes what a message passes. Clearing it
      // (an empty topic) has no text to filter and costs a presence change.
      let text = '';
      if (p.topic === '') hub.charges.charge(session, 'presence');
      else text = hub.charges.admitMessage(session, session.nick, p.topic, room.id);
      room.post({ kind: 'message', session, text, msgKind: 'topic', ref });
    },
  ),

  role: handler(
    'role',
    { identity: true, room: true, member: inRoom, operator: true, charge: 'presence' },
    ({ session, payload: p, ref, room }) =>
      room.post({
        kind: 'moderate',
        session,
        ref,
        action: { op: 'role', user_name: p.user_name, role: p.role },
      }),
  ),

  kick: handler(
    'kick',
    { identity: true, room: true, member: inRoom, operator: true, charge: 'presence' },
    ({ session, payload: p, ref, room }) =>
      room.post({
        kind: 'moderate',
        session,
        ref,
        action: { op: 'kick', user_name: p.user_name, ...(p.reason ? { reason: p.reason } : {}) },
      }),
  ),

  ban: handler(
    'ban',
    { identity: true, room: true, member: inRoom, operator: true, charge: 'presence' },
    ({ session, payload: p, ref, room }) => {
      if (p.mask === undefined) {
        session.send('bans', { room_id: room.id, bans: room.policy.settings.bans }, ref);
        return;
      }
      const mask = parseBanMask(p.mask);
      if (!mask) throw new RequestError('bad_mask');
      room.post({ kind: 'moderate', session, ref, action: { op: 'ban', mask } });
    },
  ),

  unban: handler(
    'unban',
    { identity: true, room: true, member: inRoom, operator: true, charge: 'presence' },
    ({ session, payload: p, ref, room }) => {
      // Lifted as stored: the same spelling the ban list shows (a nick in its normal form).
      const mask = parseBanMask(p.mask)?.mask ?? p.mask;
      room.post({ kind: 'moderate', session, ref, action: { op: 'unban', mask } });
    },
  ),

  // Any member invites to a room that is not invite-only (IRC's rule); to a +i room, operators.
  // A server operator invites also from outside, as with the other operator requests.
  invite: handler(
    'invite',
    { identity: true, room: true, charge: 'presence' },
    async ({ session, payload: p, ref, room }, hub) => {
      const { policy } = room;
      if (!session.rooms.has(room.id) && !policy.isServerOperator(session))
        throw new RequestError('not_in_room', inRoom(room.id));
      if (policy.modes.invite_only && !policy.mayOperate(session))
        throw new RequestError('not_operator', `${room.id} is invite-only: only its operators invite`);
      const here = hub.identities.online(p.user_name);
      const { engine } = hub.options;
      // Cluster mode: the nick may be held on another node, which tells its user.
      const key = nickKey(p.user_name);
      const held = !here && engine ? await engine.holder(key) : undefined;
      const target = here ?? (held && { key, ...held });
      if (!target) throw new RequestError('no_such_user', `${p.user_name} is not online`);
      room.post({ kind: 'moderate', session, ref, action: { op: 'invite', target } });
    },
  ),

  // Asking for the modes is a read any member may make; changing them is an operator's.
  mode: handler(
    'mode',
    {
      identity: true,
      room: true,
      member: inRoom,
      operator: (p: RequestPayload<'mode'>) => p.modes !== undefined,
      charge: 'presence',
    },
    ({ session, payload: p, ref, room }) => {
      if (p.modes === undefined) {
        session.send(
          'modes',
          {
            room_id: room.id,
            modes: { ...room.policy.modes },
            ...room.policy.listed(),
            created_ts: parseInt(room.epoch, 36),
          },
          ref,
        );
        return;
      }
      room.post({ kind: 'moderate', session, ref, action: { op: 'modes', change: p.modes } });
    },
  ),

  kill: handler(
    'kill',
    { identity: true, serverOperator: true },
    async ({ session, payload: p, ref }, hub) => {
      const target = hub.identities.online(p.user_name);
      const reason = p.reason || 'no reason given';
      const message = `killed by ${session.nick}: ${reason}`;
      const { engine } = hub.options;
      if (!target && engine) {
        // Cluster mode: the holder's node disconnects it (the hub's `node` events there).
        const key = nickKey(p.user_name);
        const held = await engine.holder(key);
        if (!held) throw new RequestError('no_such_user', `${p.user_name} is not online`);
        await engine.tellNode(held.node, {
          t: 'kill',
          nick_key: key,
          session: held.session,
          message,
          by: session.nick,
        });
        session.send('killed', { user_name: held.nick, by: session.nick, reason }, ref);
        return;
      }
      if (!target) throw new RequestError('no_such_user', `${p.user_name} is not online`);
      target.send('error', { code: 'killed', message });
      hub.disconnect(target, { code: 'killed', message, by: session.nick ?? '?' });
      session.send('killed', { user_name: target.nick, by: session.nick, reason }, ref);
    },
  ),
};

function inRoom(id: string): string {
  return `you are not in ${id}`;
}

/**
 * Refuses a session the room's bans or invite-only mode keep out (`join`, and a one-shot post,
 * which must not be a way round either).
 */
export function checkAdmission(session: Session, room: Room): void {
  const refused = admissionError(room.policy, session, room.id, session.rooms.has(room.id));
  if (refused) throw refused;
}

/**
 * The speaking rules of a room, checked before a message is admitted: a banned client (by nick
 * or address, whatever nick it has now) and, in a moderated room, one without voice may not speak.
 */
export function checkSpeak(session: Session, room: Room): void {
  const ban = room.policy.banFor(session, session.conn.remoteAddress);
  if (ban) throw new RequestError('banned', `you are banned from ${room.id} (${ban.mask})`);
  if (!room.policy.maySpeak(session))
    throw new RequestError(
      'moderated',
      `${room.id} is moderated (+m): only operators and voiced users speak`,
    );
}
