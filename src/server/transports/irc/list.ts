import type { RoomSummary } from '../../../protocol/events.js';
import { sameRoom } from '../../../protocol/room-key.js';
import { sanitizeText } from '../../../protocol/sanitize.js';
import type { IrcContext } from './commands.js';
import type { IrcMessage } from './message.js';
import { channelOf, roomOf } from './names.js';
import { RPL } from './numerics.js';
import { maskMatches } from './who.js';

/** Pages of the hub's room list one LIST reads at most, so one LIST cannot read forever. */
const MAX_PAGES = 20;
/** Channels named in one LIST at most (each is a look-up). */
const MAX_NAMED = 10;

/** What a LIST asks for: channels by name, ELIST masks (M), negated masks (N), member counts (U). */
interface ListQuery {
  names: string[];
  masks: string[];
  notMasks: string[];
  /** Members must be above `more` and below `less`. */
  more: number;
  less: number;
}

/**
 * Reads `LIST [<target>{,<target>}] [<condition>{,<condition>}]` as Modern IRC and ELIST=MNU
 * say. Conditions of kinds not offered (C, T) are ignored rather than refused, as servers do.
 */
export function parseList(m: IrcMessage): ListQuery {
  const query: ListQuery = { names: [], masks: [], notMasks: [], more: -1, less: Infinity };
  for (const term of m.params.slice(0, 2).flatMap((p) => p.split(','))) {
    const count = /^([<>])(\d{1,9})$/.exec(term);
    if (count) {
      const n = Number(count[2]);
      if (count[1] === '>') query.more = Math.max(query.more, n);
      else query.less = Math.min(query.less, n);
    } else if (term.startsWith('!') && term.length > 1) query.notMasks.push(term.slice(1));
    else if (/[*?]/.test(term)) query.masks.push(term);
    else if (term.startsWith('#') && query.names.length < MAX_NAMED) query.names.push(term);
  }
  return query;
}

/** True when `room` is one the query lists (a named room or a mask's; counts and exclusions hold). */
function selects(q: ListQuery, room: RoomSummary): boolean {
  const channel = channelOf(room.room_id);
  const chosen = q.names.length > 0 || q.masks.length > 0;
  if (
    chosen &&
    !q.names.some((n) => sameRoom(n.slice(1), room.room_id)) &&
    !q.masks.some((mask) => maskMatches(mask, channel))
  )
    return false;
  if (q.notMasks.some((mask) => maskMatches(mask, channel))) return false;
  return room.members > q.more && room.members < q.less;
}

/**
 * LIST: 321, a 322 per room, 323. Rooms nobody is in are listed only when named (`LIST #lobby`):
 * on IRC a channel without members does not exist, while here the default room and registered
 * nicks' rooms wait empty, and a bare LIST (or a mask, or `<1`) listing them would show clients
 * channels that, to IRC, are not there. The hub lists the busiest rooms first, so a LIST that
 * names no room stops reading at the first empty one.
 */
export async function list(c: IrcContext, m: IrcMessage): Promise<void> {
  const q = parseList(m);
  c.numeric(RPL.LISTSTART, 'Channel', 'Users  Name');
  const show = (r: RoomSummary): void =>
    c.numeric(RPL.LIST, channelOf(r.room_id), String(r.members), sanitizeText(r.room_name));
  if (q.names.length > 0 && q.masks.length === 0) {
    // Only names: look each up (the hub's filter narrows the list to rooms containing it).
    const seen = new Set<string>();
    for (const name of q.names) {
      const id = roomOf(name);
      if (id === undefined) continue;
      const answer = await c.ask({ type: 'rooms', payload: { filter: id } });
      if (answer?.type !== 'rooms') break;
      const room = answer.payload.rooms.find((r) => sameRoom(r.room_id, id));
      if (room && !seen.has(room.room_id) && selects(q, room)) {
        seen.add(room.room_id);
        show(room);
      }
    }
  } else {
    let cursor: string | undefined;
    pages: for (let page = 0; page < MAX_PAGES; page++) {
      const answer = await c.ask({ type: 'rooms', payload: cursor !== undefined ? { cursor } : {} });
      if (answer?.type !== 'rooms') break;
      for (const r of answer.payload.rooms) {
        const named = q.names.some((n) => sameRoom(n.slice(1), r.room_id));
        if (r.members === 0 && q.names.length === 0) break pages;
        if ((r.members > 0 || named) && selects(q, r)) show(r);
      }
      cursor = answer.payload.next_cursor;
      if (cursor === undefined) break;
    }
  }
  c.numeric(RPL.LISTEND, 'End of /LIST');
}
