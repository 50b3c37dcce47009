import { RequestError } from '../../protocol/errors.js';
import { roomKey } from '../../protocol/room-key.js';
import { nickKey } from '../../protocol/nick.js';
import type { Engine } from '../cluster/engine.js';
import { Room } from '../room.js';
import { defaultSettings, RoomPolicy, sessionRef, storedSettings } from '../room-modes.js';
import type { Session } from '../session.js';
import type { RoomSettings } from '../store/store-types.js';
import type { ResolvedHubOptions } from './options.js';

/**
 * The hub's rooms by id, with the rooms whose store record is still being written, and their
 * lifecycle: loading at start, making a room store-first, and ending idle ones. Rooms are keyed
 * by {@link roomKey} (`DEV` finds `dev`); a room keeps the spelling it was made with.
 */
export class RoomRegistry {
  private readonly rooms = new Map<string, Room>();
  /** Rooms whose store record is being written: registered only once the write succeeded. */
  private readonly creating = new Map<string, Promise<Room | undefined>>();
  /** Cluster mode: actors whose feed is being attached (see openShared). */
  private readonly opening = new Map<string, Promise<Room>>();
  private expiryTimer: NodeJS.Timeout | undefined;
  private sweeping = false;
  /** Cluster mode: the engine's `expired` listener is registered (once, though init runs again after reset). */
  private expiryWired = false;
  /** Nick keys of the server operators, shared by every room's policy. */
  private readonly serverOperators: ReadonlySet<string>;

  constructor(
    private readonly options: ResolvedHubOptions,
    /** True when a room made by this nick outlives being empty (a registered nick's, the server's). */
    private readonly keeps: (createdBy: string) => Promise<boolean>,
  ) {
    this.serverOperators = new Set(options.operators.map(nickKey));
  }

  /** True in cluster mode: rooms live in the engine, and this registry holds the actors of those used here. */
  get clustered(): boolean {
    return this.options.engine !== undefined;
  }

  /** Loads the rooms from the store, makes sure the default room exists, starts idle expiry. */
  async init(): Promise<void> {
    const { store, defaultRoom, engine } = this.options;
    if (engine) {
      // Rooms are loaded on first use (load): a node holds actors (and feeds) only for rooms used here.
      // The default room is never refused by the cap.
      await engine.createRoom(
        { room_id: defaultRoom, room_name: defaultRoom, created_by: 'server', created_ts: Date.now() },
        0,
      );
      const main = await this.load(defaultRoom);
      if (!main) throw new Error(`the default room ${defaultRoom} vanished from Redis at start`);
      main.keep = true;
      if (this.options.roomIdleExpiryMs > 0 && !this.expiryWired) {
        this.expiryWired = true;
        // Some node's sweep removed a room this node feeds: drop the actor (Redis has no record left).
        engine.on('expired', (roomId) => this.dropExpired(roomId));
        await engine.trackRooms();
      }
      this.startExpiry();
      return;
    }
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
        this.makeRoom(
          record.room_id,
          record.room_name,
          record.created_by,
          record.last_seq,
          record.created_ts,
          undefined,
          record.settings,
        ),
      );
    }
    let main = this.rooms.get(roomKey(defaultRoom));
    if (!main) {
      const createdTs = Date.now();
      await store.createRoom({
        room_id: defaultRoom,
        room_name: defaultRoom,
        created_by: 'server',
        created_ts: createdTs,
      });
      main = this.makeRoom(defaultRoom, defaultRoom, 'server', 0, createdTs, true);
      this.rooms.set(roomKey(defaultRoom), main);
    }
    main.keep = true;
    this.startExpiry();
  }

  private startExpiry(): void {
    const expiry = this.options.roomIdleExpiryMs;
    if (expiry > 0 && this.expiryTimer === undefined) {
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

  /** A room by id, in any case. */
  get(roomId: string): Room | undefined {
    return this.rooms.get(roomKey(roomId));
  }

  /**
   * The room, made here from the engine's record when another node created it (cluster mode);
   * undefined when no node did. On one node, the same as get.
   */
  async load(roomId: string): Promise<Room | undefined> {
    // Looked up without an await first: `await undefined` would yield, and a second join of the
    // same room in that turn would start a second actor (and a second feed) for it.
    const local = this.rooms.get(roomKey(roomId));
    if (local) return local;
    const pending = this.creating.get(roomKey(roomId));
    if (pending) return pending;
    const { engine } = this.options;
    if (!engine) return undefined;
    const made = (async () => {
      try {
        const record = await engine.getRoom(roomId);
        return record
          ? await this.openShared(
              engine,
              record.room_id,
              record.room_name,
              record.created_by,
              record.last_seq,
              record.created_ts,
            )
          : undefined;
      } finally {
        this.creating.delete(roomKey(roomId));
      }
    })();
    this.creating.set(roomKey(roomId), made);
    return made;
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
  pending(roomId: string): Promise<Room | undefined> | undefined {
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
    // In cluster mode the engine applies the cap to the whole cluster when the room is made.
    if (this.clustered) return;
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
  create(
    roomId: string,
    name: string,
    createdBy: string,
    keep: boolean,
    mustBeNew = false,
    creator?: Session,
  ): Promise<Room> {
    const key = roomKey(roomId);
    // A registered nick that makes a room owns it (`keep` is true exactly then, or for the server);
    // a guest's session is its operator while it stays (IRC's channel creator), never its nick.
    const settings = defaultSettings();
    if (keep && createdBy !== 'server') settings.owner = { key: nickKey(createdBy), nick: createdBy };
    else if (creator) settings.session_ops = [sessionRef(this.options.engine?.nodeId, creator)];
    const made = (async () => {
      try {
        if (this.options.engine)
          return await this.createShared(roomId, name, createdBy, keep, mustBeNew, settings);
        const createdTs = Date.now();
        await this.options.store.createRoom({
          room_id: roomId,
          room_name: name,
          created_by: createdBy,
          created_ts: createdTs,
          settings: storedSettings(settings),
        });
        const room = this.makeRoom(roomId, name, createdBy, 0, createdTs, keep, settings);
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

  /**
   * Cluster mode: makes the room in the engine (the cap is cluster-wide), or finds that another
   * node did: `room_exists` for create_room (`mustBeNew`), that room for a join.
   */
  private async createShared(
    roomId: string,
    name: string,
    createdBy: string,
    keep: boolean,
    mustBeNew: boolean,
    settings: RoomSettings,
  ): Promise<Room> {
    const engine = this.options.engine!;
    // The settings (the creator's ownership) go to Redis with the room, in one step.
    const createdTs = Date.now();
    const outcome = await engine.createRoom(
      { room_id: roomId, room_name: name, created_by: createdBy, created_ts: createdTs, settings },
      this.options.maxRooms,
    );
    if (outcome === 'full')
      throw new RequestError(
        'server_rooms_full',
        `the cluster holds ${this.options.maxRooms} rooms, its limit; join an existing room`,
      );
    if (outcome === 'exists' && mustBeNew)
      throw new RequestError('room_exists', `room ${roomId} exists already; join it`);
    const record = outcome === 'exists' ? await engine.getRoom(roomId) : undefined;
    const room = await this.openShared(
      engine,
      record?.room_id ?? roomId,
      record?.room_name ?? name,
      record?.created_by ?? createdBy,
      record?.last_seq ?? (await engine.head(roomId)) ?? 0,
      record?.created_ts ?? createdTs,
    );
    if (outcome === 'created') room.keep = keep;
    return room;
  }

  /**
   * Cluster mode: the room's actor here, fed from `lastSeq` on (the head read with its record),
   * with the settings Redis holds. They are read once the feed is subscribed, so a change made
   * meanwhile is either in what was read or in a notice the feed brings (the newer version wins).
   * One per room: a look-up (load) and a create racing for the same room on this node share the
   * actor the first of them opened (a second would ask the engine for a second feed of the room).
   */
  private openShared(
    engine: Engine,
    id: string,
    name: string,
    createdBy: string,
    lastSeq: number,
    createdTs: number,
  ): Promise<Room> {
    const key = roomKey(id);
    const existing = this.rooms.get(key);
    if (existing) return Promise.resolve(existing);
    const inFlight = this.opening.get(key);
    if (inFlight) return inFlight;
    const opened = (async () => {
      try {
        const room = this.makeRoom(id, name, createdBy, lastSeq, createdTs, undefined);
        room.maxMembers = this.options.maxMembersPerRoom;
        await room.attachFeed(engine);
        try {
          const shared = await engine.roomSettings(id);
          room.adoptSettings(shared.version, shared.settings);
        } catch (err) {
          await room.detach();
          throw err;
        }
        this.rooms.set(key, room);
        return room;
      } finally {
        this.opening.delete(key);
      }
    })();
    this.opening.set(key, opened);
    return opened;
  }

  /** Cluster mode, after Redis lost its data: drops every room actor and makes the default room again. */
  async reset(): Promise<void> {
    const old = [...this.rooms.values()];
    this.rooms.clear();
    await Promise.all(old.map((r) => r.detach()));
    await this.init();
  }

  /** Cluster mode: closes every room's feed (shutdown). */
  async detachAll(): Promise<void> {
    await Promise.all([...this.rooms.values()].map((r) => r.detach()));
  }

  /** `keep`: survives being empty (see Room.keep); undefined for rooms loaded from the store. */
  private makeRoom(
    id: string,
    name: string,
    createdBy: string,
    lastSeq: number,
    createdTs: number,
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
    room.policy = new RoomPolicy(settings, this.serverOperators, this.options.engine?.nodeId);
    room.epoch = Math.max(0, Math.trunc(createdTs)).toString(36);
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
      if (this.options.engine) return await this.expireShared(this.options.engine, idleMs);
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

  /**
   * Cluster mode: Redis knows who is present on every node and when each room last became idle;
   * this node adds what only it knows (its watchers: it stamps their rooms active), then asks
   * Redis to remove each room idle for the expiry time and not kept. EXPIRE_ROOM re-checks
   * presence and activity in the same step as the removal, so a join on any node either comes
   * first (the room stays) or is refused (`noroom`); every node feeding the room is told to drop
   * its actor. Any node may sweep; two sweeping at once remove a room once.
   */
  private async expireShared(engine: Engine, idleMs: number): Promise<void> {
    const now = Date.now();
    const local = [...this.rooms.values()];
    await engine.touchRooms(local.filter((r) => r.idleFor(now) === 0).map((r) => r.id));
    for (const id of await engine.idleRooms(idleMs, 100)) {
      const here = this.get(id);
      if (here && (here.keep === true || here.idleFor(now) < idleMs)) {
        if (here.keep === true) await engine.keepRoom(id);
        continue;
      }
      const record = await engine.getRoom(id);
      if (record && (record.created_by === 'server' || (await this.keeps(record.created_by)))) {
        // Kept (a registered nick's room, or the server's): not looked at again until a restart.
        await engine.keepRoom(id);
        continue;
      }
      await engine.expireRoom(id, idleMs);
    }
  }

  /** Cluster mode: a room removed from Redis by idle expiry; its actor here ends in its mailbox. */
  private dropExpired(roomId: string): void {
    const room = this.get(roomId);
    if (!room) return;
    const key = roomKey(roomId);
    room.post({
      kind: 'expire',
      idleMs: 0,
      force: true,
      remove: async () => {
        if (this.rooms.get(key) === room) this.rooms.delete(key);
        await room.detach();
      },
    });
  }
}
