import type { RoomRecord, Store } from '../../src/server/store/store-types.js';

/** A room's stored record, or undefined: what the store would give the hub at start-up. */
export async function roomRecord(store: Store, roomId: string): Promise<RoomRecord | undefined> {
  return (await store.listRooms()).find((r) => r.room_id === roomId);
}
