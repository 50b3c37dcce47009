import { RequestError } from '../../protocol/errors.js';
import type { ServerEventPayloads } from '../../protocol/events.js';
import type { Session } from '../session.js';
import { handler } from './handler.js';
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
  ({ session, payload, ref }, hub) => {
    const message = payload?.message;
    const changed = message !== session.away;
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
  ({ session, payload: p, ref }, hub) => {
    const target = hub.identities.online(p.user_name);
    if (!target) throw new RequestError('no_such_user', `${p.user_name} is not online`);
    const shared = [...target.rooms].filter((id) => session.rooms.has(id));
    const now = Date.now();
    session.send(
      'whois',
      {
        user_name: target.nick,
        registered: target.registered,
        ...(target.away !== undefined ? { away: target.away } : {}),
        idle_ms: Math.max(0, now - target.lastMessageAt),
        connected_ts: target.connectedAt,
        rooms: shared,
      },
      ref,
    );
  },
);

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
