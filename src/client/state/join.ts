import type { ErrorCode } from '../../protocol/errors.js';
import { sanitizeText } from '../../protocol/sanitize.js';
import { addConversation, addNotice, newConversation, putConversation, select } from './conversations.js';
import type { ChatState } from './types.js';

/**
 * /join: the room becomes current at once, as IRC clients do, instead of when the server's
 * `joined` arrives; otherwise what the user types in between would go to the room they left.
 * A new room is listed as pending until then; a refused one is asked for again.
 */
export function joinRequested(state: ChatState, roomId: string): ChatState {
  const conv = state.conversations[roomId];
  if (!conv) {
    const pending = { ...newConversation(roomId, 'room', roomId), joinRequest: 'pending' as const };
    return select(addConversation(state, pending), roomId);
  }
  const next =
    conv.joinRequest === 'failed' ? putConversation(state, { ...conv, joinRequest: 'pending' }) : state;
  return next.current === roomId ? next : select(next, roomId);
}

/**
 * The server refused a join. The room stays listed (so the user sees why, where they were
 * typing), and the lines that were waiting for the join are shown as not sent: the connection
 * has dropped them.
 */
export function joinFailed(
  state: ChatState,
  roomId: string,
  code: ErrorCode,
  message: string,
  now: number,
): ChatState {
  // Both come from the server: as untrusted as any other text.
  const why = `${sanitizeText(message)} [${sanitizeText(code)}]`;
  const conv = state.conversations[roomId];
  if (!conv) return addNotice(state, state.current, `cannot join #${roomId}: ${why}`, 'error', now);
  let next = putConversation(state, { ...conv, joined: false, joinRequest: 'failed', pending: [] });
  next = addNotice(
    next,
    roomId,
    `cannot join #${roomId}: ${why}; /join ${roomId} tries again, /leave closes it`,
    'error',
    now,
  );
  for (const p of conv.pending) next = addNotice(next, roomId, `not sent: ${p.text}`, 'error', now);
  return next;
}
