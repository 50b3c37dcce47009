import { RequestError } from '../protocol/errors.js';
import type { RoomSummary, ServerEventPayloads } from '../protocol/events.js';
import { DEFAULT_ROOMS_PAGE, MAX_ROOMS_PAGE } from '../protocol/limits.js';

/** What a `rooms` request may ask for (see docs/protocol.md). */
export interface RoomsQuery {
  /** Only rooms whose id or name contains this, ignoring case. */
  filter?: string | undefined;
  /** The `next_cursor` of the previous page. */
  cursor?: string | undefined;
  /** Rooms per page at most (default {@link DEFAULT_ROOMS_PAGE}, ceiling {@link MAX_ROOMS_PAGE}). */
  limit?: number | undefined;
}

/** Where a page ends: the last room listed, in listing order (members descending, then id). */
type Cursor = [members: number, roomId: string];

function encodeCursor(room: RoomSummary): string {
  return Buffer.from(JSON.stringify([room.members, room.room_id])).toString('base64url');
}

function decodeCursor(text: string): Cursor {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      Number.isInteger(value[0]) &&
      typeof value[1] === 'string'
    ) {
      return value as Cursor;
    }
  } catch {
    // falls through to the error below
  }
  throw new RequestError('invalid_payload', 'rooms: cursor: not a next_cursor this server gave');
}

/** True when `room` comes after the cursor in listing order (the busiest first, then by id). */
function isAfter(room: RoomSummary, [members, roomId]: Cursor): boolean {
  return room.members < members || (room.members === members && room.room_id > roomId);
}

/** Bytes one summary adds to the reply's JSON (its object and a comma). */
function summaryBytes(room: RoomSummary): number {
  return Buffer.byteLength(JSON.stringify(room)) + 1;
}

/**
 * One page of the room list: the rooms matching the filter after the cursor, busiest first, at
 * most `limit` and at most `budget` bytes of JSON (at least one room, which a room id and name
 * bound), so no reply outgrows the client's reply budget whatever the server holds. A page is
 * a snapshot: a room whose member count changes between two pages can move past the cursor
 * and be listed twice or not at all; ids never do, so asking again finds it.
 */
export function roomsPage(
  all: RoomSummary[],
  query: RoomsQuery,
  budget: number,
): ServerEventPayloads['rooms'] {
  const after = query.cursor !== undefined ? decodeCursor(query.cursor) : undefined;
  const needle = query.filter?.trim().toLowerCase() ?? '';
  const matching = all.filter(
    (r) =>
      (after === undefined || isAfter(r, after)) &&
      (needle === '' ||
        r.room_id.toLowerCase().includes(needle) ||
        r.room_name.toLowerCase().includes(needle)),
  );
  matching.sort(
    (a, b) => b.members - a.members || (a.room_id < b.room_id ? -1 : a.room_id > b.room_id ? 1 : 0),
  );
  const limit = Math.min(query.limit ?? DEFAULT_ROOMS_PAGE, MAX_ROOMS_PAGE);
  const rooms: RoomSummary[] = [];
  let bytes = 0;
  for (const room of matching) {
    if (rooms.length >= limit) break;
    bytes += summaryBytes(room);
    if (bytes > budget && rooms.length > 0) break;
    rooms.push(room);
  }
  const hasMore = rooms.length < matching.length;
  const last = rooms[rooms.length - 1];
  return { rooms, has_more: hasMore, ...(hasMore && last ? { next_cursor: encodeCursor(last) } : {}) };
}
