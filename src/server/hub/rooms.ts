import { RequestError } from '../../protocol/errors.js';
import { roomKey } from '../../protocol/room-key.js';
import { Room } from '../room.js';
import type { ResolvedHubOptions } from './options.js';

/**
 * The hub's rooms by id, with the rooms whose store record is still being written, and their
 * lifecycle: loading at start, making a room store-first, and ending idle ones. Rooms are keyed
 * by {@link roomKey} (`DEV` finds `dev`); a room keeps the spelling it was made with.
 */
export class RoomRegistry {
  private readonly rooms = new Map<string, Room>();
  /** Rooms whose store record is being written: registered only once the write succeeded. */
  private readonly creating = new Map<string, Promise<Room>>();
  private expiryTimer: NodeJS.Timeout | undefined;
  private sweeping = false;

  constructor(
    private readonly options: ResolvedHubOptions,
    /** True when a room made by this nick outlives being empty (a registered nick's, the server's). */
    private readonly keeps: (createdBy: string) => Promise<boolean>,
  ) {}

  /** Loads the rooms from the store, makes sure the default room exists, starts idle expiry. */
  async init(): Promise<void> {
    const { store, defaultRoom } = this.options;
    for (const record of await store.listRooms()) {
      const key = roomKey(record.room_id);
      // The SQLite store's schema step 3 renamed rooms whose ids differed only in case; a store
      // that still holds such a pair keeps the first listed reachable and says so.
      const first = this.rooms.get(key);
      if (first) {
        this.options.onInternalError?.(
          new Error(`room ${record.room_id} differs from room ${first.id} only in case; not loaded`),
          'loading rooms',
        );
        continue;
      }
      this.rooms.set(
        key,
        this.makeRoom(record.room_id, record.room_name, record.created_by, record.last_seq, undefined),
      );
    }
    let main = this.rooms.get(roomKey(defaultRoom));
    if (!main) {
      await store.createRoom({
        room_id: defaultRoom,
        room_name: defaultRoom,
        created_by: 'server',
        created_ts: Date.now(),
      });
      main = this.makeRoom(defaultRoom, defaultRoom, 'server', 0, true);
      this.rooms.set(roomKey(defaultRoom), main);
    }
    main.keep = true;
    const expiry = this.options.roomIdleExpiryMs;
    if (expiry > 0) {
      this.expiryTimer = setInterval(
        () => void this.expireIdleRooms(),
        Math.min(60_000, Math.max(10, expiry / 4)),
      );
      this.expiryTimer.unref();
    }
  }

  /** A room by id, in any case. */
  get(roomId: string): Room | undefined {
    return this.rooms.get(roomKey(roomId));
  }

  /** The room, or `no_such_room`. */
  require(roomId: string): Room {
    const room = this.get(roomId);
    if (!room) throw new RequestError('no_such_room', `there is no room ${roomId}`);
    return room;
  }

  /** True when the room exists or is being made. */
  has(roomId: string): boolean {
    const key = roomKey(roomId);
    return this.rooms.has(key) || this.creating.has(key);
  }

  /** The making of a room under way (see {@link create}), to wait for instead of making it twice. */
  pending(roomId: string): Promise<Room> | undefined {
    return this.creating.get(roomKey(roomId));
  }

  /** Rooms registered (without those being made). */
  get size(): number {
    return this.rooms.size;
  }

  /** Every registered room. */
  all(): Iterable<Room> {
    return this.rooms.values();
  }

  /**
   * The server-wide room cap, checked before a room is made: it bounds the registry (rooms being
   * made count); idle expiry frees it.
   */
  checkCapacity(): void {
    if (this.rooms.size + this.creating.size >= this.options.maxRooms) {
      throw new RequestError(
        'server_rooms_full',
        `the server holds ${this.rooms.size} rooms, its limit; join an existing room`,
      );
    }
  }

  /**
   * Makes a room: the store's record first, the registry only once the write succeeded, so a
   * failed write (a full disk) leaves no half-made room that is listed but cannot take messages.
   * Requests for the same id meanwhile wait for this write instead of starting another.
   */
  create(roomId: string, name: string, createdBy: string, keep: boolean): Promise<Room> {
    const key = roomKey(roomId);
    const made = (async () => {
      try {
        await this.options.store.createRoom({
          room_id: roomId,
          room_name: name,
          created_by: createdBy,
          created_ts: Date.now(),
        });
        const room = this.makeRoom(roomId, name, createdBy, 0, keep);
        this.rooms.set(key, room);
        return room;
      } finally {
        this.creating.delete(key);
      }
    })();
    this.creating.set(key, made);
    return made;
  }

  /**
   * Called by an expiring room from its mailbox: out of the registry at once (in the same
   * synchronous stretch as the room's decision), then out of the store. If the store fails the
   * room goes back in, unless the id was taken meanwhile, and the error reaches the log.
   */
  remove(room: Room): Promise<void> {
    const key = roomKey(room.id);
    if (this.rooms.get(key) === room) this.rooms.delete(key);
    return this.options.store.deleteRoom(room.id).catch((err: unknown) => {
      if (!this.rooms.has(key)) this.rooms.set(key, room);
      throw err;
    });
  }

  /** Stops idle expiry (shutdown). */
  stop(): void {
    clearInterval(this.expiryTimer);
    this.expiryTimer = undefined;
  }

  /** `keep`: survives being empty (see Room.keep); undefined for rooms loaded from the store. */
  private makeRoom(
    id: string,
    name: string,
    createdBy: string,
    lastSeq: number,
    keep: boolean | undefined,
  ): Room {
    return new Room(
      id,
      name,
      createdBy,
      lastSeq,
      this.options.store,
      this.options.observer,
      this.options.onInternalError,
      keep,
    );
  }

  /**
   * Asks every room empty for longer than the expiry, and not kept, to end itself. The room
   * decides in its mailbox (Room.handleExpire), where no join can race the decision.
   */
  private async expireIdleRooms(): Promise<void> {
    if (this.sweeping || this.expiryTimer === undefined) return;
    this.sweeping = true;
    try {
      const idleMs = this.options.roomIdleExpiryMs;
      const now = Date.now();
      for (const room of [...this.rooms.values()]) {
        if (room.keep === true || room.idleFor(now) < idleMs) continue;
        // Loaded from the store: kept when its creator's nick is registered (or it is the server's).
        room.keep ??= room.createdBy === 'server' || (await this.keeps(room.createdBy));
        if (room.keep || this.get(room.id) !== room) continue;
        room.post({ kind: 'expire', idleMs, remove: () => this.remove(room) });
      }
    } catch (err) {
      this.options.onInternalError?.(err, 'expiring idle rooms');
    } finally {
      this.sweeping = false;
    }
  }
}
