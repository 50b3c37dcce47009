import type { ServerMessage } from '../../protocol/events.js';
import { dmId, sameNick } from './mention.js';
import type { ChatState } from './types.js';

/**
 * Bumps `alerts` when a live event is a mention of us or a DM to us that was taken in (not a
 * duplicate, not from an ignored nick): the terminal rings the bell for it. History pages and
 * replays never ring: they are not news.
 */
export function countAlert(before: ChatState, after: ChatState, event: ServerMessage): ChatState {
  if (after === before) return after;
  let id: string | undefined;
  if (event.type === 'message') id = event.payload.room_id;
  else if (event.type === 'dm')
    id = dmId(sameNick(event.payload.from, before.nick) ? event.payload.to : event.payload.from);
  if (id === undefined) return after;
  const conv = after.conversations[id];
  const old = before.conversations[id];
  if (!conv || conv.entries.length === (old?.entries.length ?? 0)) return after;
  const last = conv.entries[conv.entries.length - 1];
  if (last?.kind !== 'message' || !last.mention || last.hidden) return after;
  return { ...after, alerts: after.alerts + 1 };
}
