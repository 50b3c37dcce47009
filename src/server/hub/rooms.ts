import { RequestError } from '../../protocol/errors.js';
import { nickKey } from '../../protocol/nick.js';
import { Room } from '../room.js';
import { defaultSettings, RoomPolicy } from '../room-modes.js';
import type { Session } from '../session.js';
import type { RoomSettings } from '../store/store-types.js';
import type { ResolvedHubOptions } from './options.js';

/**
 * The hub's rooms by id, with the rooms whose store record is still being written, and their
 * lifecycle: loading at start, making a room store-first, and ending idle ones.
 */
export class RoomRegistry {
  private readonly rooms = new Map<string, Room>();
  /** Rooms whose store record is being written: registered only once the write succeeded. */
  private readonly creating = new Map<string, Promise<Room>>();
  private expiryTimer: NodeJS.Timeout | undefined;
  private sweeping = false;
  /** Nick keys of the server operators, shared by every room's policy. */
  private readonly serverOperators: ReadonlySet<string>;

  constructor(
    private readonly options: ResolvedHubOptions,
    /** True when a room made by this nick outlives being empty (a registered nick's, the server's). */
    private readonly keeps: (createdBy: string) => Promise<boolean>,
  ) {
    this.serverOperators = new Set(options.operators.map(nickKey));
  }

  /** Loads the rooms from the store, makes sure the default room exists, starts idle expiry. */
  async init(): Promise<void> {
    const { store, defaultRoom } = this.options;
    for (const record of await store.listRooms()) {
      this.rooms.set(
        record.room_id,
        this.makeRoom(
          record.room_id,
          record.room_name,
          record.created_by,
          record.last_seq,
          undefined,
          record.settings,
        ),
      );
    }
    let main = this.rooms.get(defaultRoom);
    if (!main) {
      await store.createRoom({
        room_id: defaultRoom,
        room_name: defaultRoom,
        created_by: 'server',
        created_ts: Date.now(),
      });
      main = this.makeRoom(defaultRoom, defaultRoom, 'server', 0, true);
      this.rooms.set(defaultRoom, main);
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

  /** True for a session that proved a nick named by `--operators`. */
  isServerOperator(session: Session): boolean {
    return session.registered && session.nickKey !== undefined && this.serverOperators.has(session.nickKey);
  }

  /** A room by id. */
  get(roomId: string): Room | undefined {
    return this.rooms.get(roomId);
  }

  /** The room, or `no_such_room`. */
  require(roomId: string): Room {
    const room = this.rooms.get(roomId);
    if (!room) throw new RequestError('no_such_room', `there is no room ${roomId}`);
    return room;
  }

  /** True when the room exists or is being made. */
  has(roomId: string): boolean {
    return this.rooms.has(roomId) || this.creating.has(roomId);
  }

  /** The making of a room under way (see {@link create}), to wait for instead of making it twice. */
  pending(roomId: string): Promise<Room> | undefined {
    return this.creating.get(roomId);
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
    // A registered nick that makes a room owns it (`keep` is true exactly then, or for the server).
    const settings = defaultSettings();
    if (keep && createdBy !== 'server') settings.owner = { key: nickKey(createdBy), nick: createdBy };
    const made = (async () => {
      try {
        await this.options.store.createRoom({
          room_id: roomId,
          room_name: name,
          created_by: createdBy,
          created_ts: Date.now(),
          settings,
        });
        const room = this.makeRoom(roomId, name, createdBy, 0, keep, settings);
        this.rooms.set(roomId, room);
        return room;
      } finally {
        this.creating.delete(roomId);
      }
    })();
    this.creating.set(roomId, made);
    return made;
  }

  /**
   * Called by an expiring room from its mailbox: out of the registry at once (in the same
   * synchronous stretch as the room's decision), then out of the store. If the store fails the
   * room goes back in, unless the id was taken meanwhile, and the error reaches the log.
   */
  remove(room: Room): Promise<void> {
    if (this.rooms.get(room.id) === room) this.rooms.delete(room.id);
    return this.options.store.deleteRoom(room.id).catch((err: unknown) => {
      if (!this.rooms.has(room.id)) this.rooms.set(room.id, room);
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
    settings?: RoomSettings,
  ): Room {
    const room = new Room(
      id,
      name,
      createdBy,
      lastSeq,
      this.options.store,
      this.options.observer,
      this.options.onInternalError,
      keep,
    );
    room.policy = new RoomPolicy(settings, this.serverOperators);
    return room;
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
        if (room.keep || this.rooms.get(room.id) !== room) continue;
        room.post({ kind: 'expire', idleMs, remove: () => this.remove(room) });
      }
    } catch (err) {
      this.options.onInternalError?.(err, 'expiring idle rooms');
    } finally {
      this.sweeping = false;
    }
  }
}
