import { RequestError } from '../../protocol/errors.js';
import type { ServerEventPayloads } from '../../protocol/events.js';
import type { Session } from '../session.js';
import { handler, type HubContext } from './handler.js';
import { nickKey } from '../../protocol/nick.js';
import { roomKey } from '../../protocol/room-key.js';
import type { WhoisAnswer } from '../cluster/engine.js';

type Ref = string | number | undefined;
import { isIdentified } from './identity.js';

/**
 * The handlers of a user's presence beyond rooms (issue 14): `away` (IRC's away with
 * away-notify), `quit` with a reason, and `whois`. Entries of the handler table (handlers.ts).
 */

/**
 * `away {message?}`: sets or clears the away message. The answer is `user_away` without a room
 * (the requester's own state); each room the user is in hears `user_away` with its `room_id`.
 * Charged as presence: every change is announced to every room the user is in.
 */
export const AWAY = handler(
  'away',
  { identity: true, charge: 'presence' },
  async ({ session, payload, ref }, hub) => {
    const message = payload?.message;
    const changed = message !== session.away;
    // Cluster mode: stored first, so every node's `users`, whois and DM replies show it.
    if (changed && hub.options.engine) await hub.options.engine.setAway(session.nickKey, message);
    session.away = message;
    session.send('user_away', awayPayload(session), ref);
    if (!changed) return;
    for (const roomId of session.rooms) hub.rooms.get(roomId)?.post({ kind: 'away', session });
  },
);

/**
 * `quit {reason?}`: ends the connection; every room the user was in sees `user_left` with
 * `quit: true` and the reason (`quit` when none was given). No reply: the connection closes.
 */
export const QUIT = handler('quit', {}, ({ session, payload }, hub) => {
  hub.disconnect(session, { code: 'quit', message: payload?.reason ?? 'quit' });
});

/**
 * `whois {user_name}`: who an online nick is. Only the rooms the asker is in too are listed: a
 * user's other rooms are theirs to keep.
 */
export const WHOIS = handler(
  'whois',
  { identity: true, charge: 'reads' },
  async ({ session, payload: p, ref }, hub) => {
    const target = hub.identities.online(p.user_name);
    if (!target && hub.options.engine) return whoisElsewhere(session, p.user_name, ref, hub);
    if (!target) throw new RequestError('no_such_user', `${p.user_name} is not online`);
    session.send('whois', whoisAnswer(target, [...session.rooms]), ref);
  },
);

/**
 * Cluster mode: whois for a nick held on another node, which answers for its session (the hub's
 * `node` events, {@link whoisAnswer}); it is told only the rooms the asker is in, and answers
 * with those the user shares.
 */
async function whoisElsewhere(session: Session, name: string, ref: Ref, hub: HubContext): Promise<void> {
  const engine = hub.options.engine!;
  const key = nickKey(name);
  const holder = await engine.holder(key);
  const answer =
    holder && holder.node !== engine.nodeId
      ? await engine.whois(holder.node, { nick_key: key, session: holder.session, rooms: [...session.rooms] })
      : undefined;
  if (!answer) throw new RequestError('no_such_user', `${name} is not online`);
  session.send('whois', answer, ref);
}

/** What this node says of its user `target` to another node's whois from a member of `rooms`. */
export function whoisAnswer(target: Session, rooms: string[]): WhoisAnswer {
  const asked = new Set(rooms.map(roomKey));
  return {
    user_name: target.nick ?? '?',
    registered: target.registered,
    ...(target.away !== undefined ? { away: target.away } : {}),
    idle_ms: Math.max(0, Date.now() - target.lastMessageAt),
    connected_ts: target.connectedAt,
    rooms: [...target.rooms].filter((id) => asked.has(roomKey(id))),
    ...profileOf(target),
  };
}

/** The username and real name the target's client gave (IRC's USER), and its +i, if any. */
function profileOf(target: Session): { username?: string; real_name?: string; invisible?: true } {
  const profile = target.conn.profile?.();
  if (!profile) return {};
  return {
    username: profile.username,
    real_name: profile.realName,
    ...(profile.invisible ? { invisible: true as const } : {}),
  };
}

/**
 * After a DM reached `target`: if they are away, the sender is told so (IRC's RPL_AWAY), as a
 * `user_away` naming the target, without a room and without the DM's ref (the `dm` echo is the
 * answer to the request).
 */
export function tellIfAway(sender: Session, target: Session): void {
  if (target === sender || target.away === undefined || !isIdentified(target)) return;
  sender.send('user_away', awayPayload(target));
}

function awayPayload(session: Session): ServerEventPayloads['user_away'] {
  return { user_name: session.nick ?? '?', ...(session.away !== undefined ? { message: session.away } : {}) };
}
