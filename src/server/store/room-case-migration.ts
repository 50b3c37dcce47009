import type Database from 'better-sqlite3';
import { MAX_ROOM_ID_CHARS } from '../../protocol/limits.js';
import { roomKey } from '../../protocol/room-key.js';

/**
 * Schema step 3: room ids compare without case from this version on (`dev` and `DEV` are one
 * room), so a database written before may hold two rooms that are now one name. The oldest of
 * each such group (by `created_ts`, then insertion order) keeps its id; every other is renamed
 * to its id with the first free suffix `-2`, `-3`, ... (cut to fit 64 characters), its messages
 * moving with it, and each rename is reported through `note` (the server logs it). Nothing is
 * deleted.
 */
export function foldRoomIds(db: Database.Database, note: (text: string) => void): void {
  const rooms = db
    .prepare<[], { room_id: string }>('SELECT room_id FROM rooms ORDER BY created_ts, rowid')
    .all();
  const taken = new Set(rooms.map((r) => roomKey(r.room_id)));
  const kept = new Set<string>();
  const renames: { from: string; to: string }[] = [];
  for (const { room_id } of rooms) {
    const key = roomKey(room_id);
    if (!kept.has(key)) {
      kept.add(key);
      continue;
    }
    const to = freeId(room_id, taken);
    taken.add(roomKey(to));
    kept.add(roomKey(to));
    renames.push({ from: room_id, to });
  }
  if (renames.length === 0) return;
  // messages.room_id references rooms: checked at commit, once both sides moved.
  db.pragma('defer_foreign_keys = ON');
  const moveRoom = db.prepare<[string, string]>('UPDATE rooms SET room_id = ? WHERE room_id = ?');
  const moveMessages = db.prepare<[string, string]>('UPDATE messages SET room_id = ? WHERE room_id = ?');
  for (const { from, to } of renames) {
    moveRoom.run(to, from);
    moveMessages.run(to, from);
    note(
      `room ${from} differed from another room only in case; renamed to ${to} (rooms compare without case now)`,
    );
  }
}

function freeId(roomId: string, taken: Set<string>): string {
  for (let n = 2; ; n++) {
    const suffix = `-${n}`;
    const id = roomId.slice(0, MAX_ROOM_ID_CHARS - suffix.length) + suffix;
    if (!taken.has(roomKey(id))) return id;
  }
}
