import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import type { ChatMessage } from '../../protocol/events.js';
import { roomKey } from '../../protocol/room-key.js';
import { defaultSettings } from '../room-modes.js';
import type { RoomRecord, RoomSettings, UserRecord } from '../store/store-types.js';
import {
  asUnavailable,
  commandOptions,
  openRedis,
  subscriberOptions,
  type ConnectOptions,
} from './connect.js';
import type {
  ClusterStats,
  CommitOutcome,
  Draft,
  Engine,
  EngineState,
  EpochChange,
  FeedHandle,
  FeedNotice,
  FeedSink,
  NickClaim,
  Presence,
  SharedSettings,
  WhoisAnswer,
} from './engine.js';
import { EpochChangedError, NoSuchRoomError } from './errors.js';
import { keys } from './keys.js';
import {
  CLAIM_NICK,
  COMMIT,
  CREATE_ROOM,
  ENSURE_EPOCH,
  EXPIRE_ROOM,
  FLOOR,
  PRESENCE_JOIN,
  PRESENCE_LEAVE,
  PRESENCE_RENAME,
  RELEASE_NICK,
  SAVE_SETTINGS,
  SEND_DM,
  TOUCH_ROOMS,
  TRACK_ROOMS,
} from './lua.js';
import { checkRedisDurability, type RedisDurability } from './preflight.js';
import { parseRedisUrl, type RedisTarget } from './redis-url.js';
import { RoomFeed, type LiveBatch } from './room-feed.js';
import { LuaScript, loadScripts } from './script.js';
import { CommitRounds } from './commit-rounds.js';
import { NodeLeases } from './leases.js';

/** How a node opens its engine. */
export interface RedisEngineOptions extends ConnectOptions {
  /** `--redis` (any form parseRedisUrl takes) or a parsed target. */
  url: string | RedisTarget;
  /** This node's id: 1-32 of A-Z a-z 0-9 _ -; random when absent. */
  nodeId?: string;
  /** Messages kept per room stream (MAXLEN ~, so at least this many); 0 keeps all. Default 10,000. */
  retain?: number;
  /** Skip the refusal of a Redis without `appendonly yes` and `maxmemory-policy noeviction`. */
  unchecked?: boolean;
  /**
   * Keep a node lease of this many ms and reap nodes whose lease expired (leases.ts); 0 or absent:
   * no lease (engine tests). `chat serve --redis` uses DEFAULT_LEASE_MS.
   */
  leaseMs?: number;
  /** Entries a reap script frees per call (leases.ts DEFAULT_REAP_SLICE); tests make it small. */
  reapSlice?: number;
  /** Told about failures nobody awaits (feed reads); defaults to nothing. */
  onError?: (err: unknown, context: string) => void;
}

const scripts = {
  ensureEpoch: new LuaScript('ensure_epoch', ENSURE_EPOCH),
  commit: new LuaScript('commit', COMMIT),
  createRoom: new LuaScript('create_room', CREATE_ROOM),
  floor: new LuaScript('floor', FLOOR),
  claimNick: new LuaScript('claim_nick', CLAIM_NICK),
  releaseNick: new LuaScript('release_nick', RELEASE_NICK),
  presenceJoin: new LuaScript('presence_join', PRESENCE_JOIN),
  presenceLeave: new LuaScript('presence_leave', PRESENCE_LEAVE),
  presenceRename: new LuaScript('presence_rename', PRESENCE_RENAME),
  sendDm: new LuaScript('send_dm', SEND_DM),
  saveSettings: new LuaScript('save_settings', SAVE_SETTINGS),
  expireRoom: new LuaScript('expire_room', EXPIRE_ROOM),
  touchRooms: new LuaScript('touch_rooms', TOUCH_ROOMS),
  trackRooms: new LuaScript('track_rooms', TRACK_ROOMS),
};

const NODE_ID = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * Drafts per commit script call at most: a round bigger than this is several calls (sent at
 * once), so one call never holds Redis long (each draft is an XADD and some Lua: ~5 µs).
 */
const ROUND_DRAFTS = 1000;

/** One commit() call in a round: its room (folded key), drafts, and their script arguments. */
interface RoundCommit {
  room: string;
  size: number;
  /** Per draft: idempotency key ('' none), message JSON without its `{` and seq. */
  args: string[];
}

/** The commit script's reply for one room: 0 (no such room), or per draft {1, seq} | {0, seq, stored}. */
type RoomReply = 0 | [number, number, string?][];

/**
 * The Engine on Redis: Lua scripts for every shared decision, a stream per room for history,
 * pub/sub for live delivery (see docs/cluster.md). Open with {@link RedisEngine.open}.
 *
 * Two links: commands (no offline queue, no re-send, a timeout: see connect.ts) and a
 * subscriber. Events: `state` (up/down of the command link), `epoch` (Redis lost its data; the
 * node must tell its clients their history was replaced), `node`. After every reconnect of the
 * command link the engine raises each fed room's seq to at least what this node delivered (a
 * Redis that restarted after an `everysec` crash may have lost acknowledged writes) and has the
 * feeds read what they missed.
 */
export class RedisEngine extends EventEmitter implements Engine {
  private linkState: EngineState = 'up';
  private readonly feeds = new Map<string, RoomFeed>();
  private epochCheck: Promise<void> | undefined;
  private msgCounter = 0;
  private readonly msgPrefix: string;
  private closing = false;
  private leases: NodeLeases | undefined;
  /** Whois questions this node asked, by id, waiting for the other node's answer. */
  private readonly asked = new Map<string, (answer: WhoisAnswer | undefined) => void>();
  private askCounter = 0;
  /** This node's commits, sent to Redis a round at a time (commit-rounds.ts). */
  private readonly rounds = new CommitRounds<RoundCommit, RoomReply>(
    (commits) => this.commitRound(commits),
    ROUND_DRAFTS,
  );
  /** The head of every batch this node publishes (see COMMIT). */
  private readonly batchHead: string;
  /** How this node's own batches start, up to their first seq (see {@link routeOwnBatch}). */
  private readonly ownBatchStart: string;

  private constructor(
    readonly nodeId: string,
    private readonly cmd: Redis,
    private readonly sub: Redis,
    private epochId: string,
    private epochBase: number,
    /** What the start-up check found (for the start-up log). */
    readonly durability: RedisDurability,
    private readonly retain: number,
    private readonly onError: (err: unknown, context: string) => void,
    /** How long a whois waits for the other node (the command timeout). */
    private readonly answerMs: number,
  ) {
    super();
    this.msgPrefix = `${nodeId}-${Date.now().toString(36)}`;
    this.batchHead = `{"t":"batch","node":"${nodeId}"`;
    this.ownBatchStart = `${this.batchHead},"first":`;
  }

  /**
   * Connects both links, runs the durability check (RedisSetupError unless unchecked), and joins
   * the cluster epoch (creating it on an empty Redis). Rejects ClusterUnavailableError when Redis
   * cannot be reached; leaves nothing open on failure.
   */
  static async open(options: RedisEngineOptions): Promise<RedisEngine> {
    const target = typeof options.url === 'string' ? parseRedisUrl(options.url) : options.url;
    const nodeId = options.nodeId ?? randomBytes(5).toString('hex');
    if (!NODE_ID.test(nodeId)) throw new Error(`node id "${nodeId}" must be 1-32 of A-Z a-z 0-9 _ -`);
    const name = `chat:${nodeId}`;
    const cmd = await openRedis(target, commandOptions(target, { ...options, name }));
    let sub: Redis | undefined;
    try {
      const durability = await checkRedisDurability(cmd, options.unchecked);
      await loadScripts(cmd);
      sub = await openRedis(target, subscriberOptions(target, { ...options, name }));
      const [epoch, base] = await ensureEpoch(cmd, 0);
      const engine = new RedisEngine(
        nodeId,
        cmd,
        sub,
        epoch,
        base,
        durability,
        options.retain ?? 10_000,
        options.onError ?? (() => {}),
        options.commandTimeoutMs ?? 2000,
      );
      await engine.wire();
      if (options.leaseMs) {
        engine.leases = new NodeLeases(
          cmd,
          nodeId,
          options.leaseMs,
          engine.onError,
          (reaped) => {
            engine.onError(
              new Error('this node lost its lease (paused or cut off from Redis longer than the lease)'),
              reaped
                ? 'the node lease lapsed and another node reaped its nicks and presence: its sessions start over'
                : 'the node lease lapsed, but nobody reaped it meanwhile: nothing was lost',
            );
            if (reaped) engine.emit('lapsed');
          },
          options.reapSlice,
        );
        await engine.leases.start();
      }
      return engine;
    } catch (err) {
      cmd.disconnect();
      sub?.disconnect();
      throw asUnavailable(err, 'start-up');
    }
  }

  get state(): EngineState {
    return this.linkState;
  }

  /** The cluster epoch this node works in. */
  get epoch(): string {
    return this.epochId;
  }

  /** The seq base of rooms created in this epoch (0 for the first epoch of a cluster). */
  get base(): number {
    return this.epochBase;
  }

  /** Set by {@link timeWith}: channel messages are then held for the server's flush. */
  private releaseWhen: (() => void) | undefined;
  /** Channel messages held for the next flush, flat: channel, payload, channel, payload, ... */
  private held: string[] = [];

  private async wire(): Promise<void> {
    this.sub.on('message', (channel: string, payload: string) => {
      if (this.releaseWhen === undefined) return this.route(channel, payload);
      if (this.held.push(channel, payload) === 2) this.releaseWhen();
    });
    await this.sub.subscribe(keys.nodeChannel(this.nodeId), keys.nickEvents);
    // Registered after the first connection: these fire on reconnections only.
    this.cmd.on('close', () => this.setState('down'));
    this.cmd.on('ready', () => {
      this.setState('up');
      void loadScripts(this.cmd).catch((err: unknown) => this.onError(err, 'loading the Lua scripts'));
      void this.recheck().catch((err: unknown) =>
        this.onError(err, 'checking the cluster epoch after a reconnect'),
      );
    });
    this.sub.on('ready', () => void this.resubscribe());
  }

  private setState(state: EngineState): void {
    if (this.linkState === state || this.closing) return;
    this.linkState = state;
    this.emit('state', state);
  }

  // ---- epoch --------------------------------------------------------------------------------

  /**
   * After a reconnect: has Redis lost its data (epoch gone or different: adopt a new one and emit
   * `epoch`), or restarted on its data (raise each fed room's seq to what this node delivered, in
   * case an `everysec` crash lost acknowledged writes, then read what the feeds missed)?
   */
  private recheck(): Promise<void> {
    this.epochCheck ??= (async () => {
      try {
        const epoch = await this.cmd.hget(keys.cluster, 'epoch');
        if (epoch !== this.epochId) {
          await this.adoptEpoch();
          return;
        }
        for (const feed of this.feeds.values()) {
          // The script directly, not this.floor: its EPOCH mapping would wait for this very check.
          if (feed.delivered > 0) {
            await scripts.floor
              .run(this.cmd, [keys.cluster, keys.meta(feed.roomId)], [this.epochId, feed.delivered])
              .catch((err: unknown) => this.onError(err, `raising the seq floor of ${feed.roomId}`));
          }
          feed.catchUpNow();
        }
      } finally {
        this.epochCheck = undefined;
      }
    })();
    return this.epochCheck;
  }

  /**
   * Joins the epoch Redis holds now, creating one when Redis has none. This node knew an earlier
   * epoch, so a new one starts rooms at `now_ms * 1000`: above any seq the lost data could have
   * held (that would take 1,000 messages per ms per room since the earlier epoch began), and below 2^53.
   */
  private async adoptEpoch(): Promise<void> {
    const previous = this.epochId;
    const [epoch, base] = await ensureEpoch(this.cmd, Date.now() * 1000);
    if (epoch === previous) return;
    this.epochId = epoch;
    this.epochBase = base;
    const change: EpochChange = { previous, current: epoch, base };
    this.emit('epoch', change);
  }

  /** Maps a script's EPOCH / NOROOM replies and link failures to the engine's errors. */
  private async fail(err: unknown, what: string, roomId?: string): Promise<never> {
    if (err instanceof Error && err.name === 'ReplyError') {
      if (err.message.startsWith('EPOCH')) {
        const expected = this.epochId;
        const found = err.message.slice('EPOCH'.length).trim();
        await this.recheck().catch(() => {});
        throw new EpochChangedError(expected, found);
      }
      if (err.message.startsWith('NOROOM') && roomId !== undefined) throw new NoSuchRoomError(roomId);
    }
    throw asUnavailable(err, what);
  }

  // ---- messages ------------------------------------------------------------------------------

  async commit(roomId: string, drafts: Draft[]): Promise<CommitOutcome[]> {
    if (drafts.length === 0) return [];
    const pending: Omit<ChatMessage, 'seq'>[] = [];
    const args: string[] = [];
    for (const d of drafts) {
      const message: Omit<ChatMessage, 'seq'> = {
        room_id: roomId,
        id: `${this.msgPrefix}-${(this.msgCounter++).toString(36)}`,
        ts: Date.now(),
        user_name: d.userName,
        message: d.text,
        ...(d.clientMsgId !== undefined ? { client_msg_id: d.clientMsgId } : {}),
        ...(d.kind !== undefined ? { kind: d.kind } : {}),
      };
      pending.push(message);
      args.push(
        d.clientMsgId !== undefined ? `${d.senderKey}\0${d.clientMsgId}` : '',
        JSON.stringify(message).slice(1),
      );
    }
    let reply: RoomReply;
    try {
      reply = await this.rounds.add({ room: roomKey(roomId), size: drafts.length, args });
    } catch (err) {
      return this.fail(err, `commit to ${roomId}`, roomId);
    }
    if (reply === 0) throw new NoSuchRoomError(roomId);
    const out: CommitOutcome[] = [];
    const committed: ChatMessage[] = [];
    reply.forEach(([fresh, seq, stored], i) => {
      if (fresh === 1) {
        const message = { seq, ...pending[i]! } as ChatMessage;
        out.push({ duplicate: false, message });
        committed.push(message);
      } else {
        out.push({ duplicate: true, seq, message: stored ? (JSON.parse(stored) as ChatMessage) : undefined });
      }
    });
    if (committed.length > 0) this.feeds.get(roomKey(roomId))?.expect(committed);
    return out;
  }

  /**
   * One round's script call: the commits of every room in it, those of one room merged (in order)
   * so the room is one step of the script and one PUBLISH; each commit gets its share of its room's reply.
   */
  private async commitRound(commits: RoundCommit[]): Promise<RoomReply[]> {
    const rooms = new Map<string, RoundCommit[]>();
    for (const c of commits) {
      const same = rooms.get(c.room);
      if (same) same.push(c);
      else rooms.set(c.room, [c]);
    }
    const keyList: string[] = [keys.cluster];
    const args: (string | number)[] = [this.epochId, this.retain, this.batchHead, rooms.size];
    for (const [room, list] of rooms) {
      keyList.push(keys.meta(room), keys.log(room), keys.idem(room), keys.live(room));
      args.push(list.reduce((n, c) => n + c.size, 0));
      for (const c of list) for (const a of c.args) args.push(a);
    }
    const reply = (await scripts.commit.run(this.cmd, keyList, args)) as RoomReply[];
    const byCommit = new Map<RoundCommit, RoomReply>();
    [...rooms.values()].forEach((list, r) => {
      const roomReply = reply[r]!;
      let at = 0;
      for (const c of list) {
        byCommit.set(c, roomReply === 0 ? 0 : roomReply.slice(at, at + c.size));
        at += c.size;
      }
    });
    return commits.map((c) => byCommit.get(c)!);
  }

  since(roomId: string, afterSeq: number, limit: number): Promise<ChatMessage[]> {
    return this.range(roomId, afterSeq, undefined, limit);
  }

  /** Messages with afterSeq < seq <= toSeq (or to the end), ascending, at most `limit`. */
  async range(
    roomId: string,
    afterSeq: number,
    toSeq: number | undefined,
    limit: number,
  ): Promise<ChatMessage[]> {
    if (limit <= 0 || (toSeq !== undefined && toSeq <= afterSeq)) return [];
    try {
      const entries = await this.cmd.xrange(
        keys.log(roomId),
        `${afterSeq + 1}-0`,
        toSeq === undefined ? '+' : `${toSeq}-0`,
        'COUNT',
        limit,
      );
      return entries.map(parseEntry);
    } catch (err) {
      return this.fail(err, `reading ${roomId}`);
    }
  }

  async before(roomId: string, beforeSeq: number | undefined, limit: number): Promise<ChatMessage[]> {
    if (limit <= 0 || (beforeSeq !== undefined && beforeSeq <= 1)) return [];
    try {
      const entries = await this.cmd.xrevrange(
        keys.log(roomId),
        beforeSeq === undefined ? '+' : `${beforeSeq - 1}-0`,
        '-',
        'COUNT',
        limit,
      );
      return entries.map(parseEntry).reverse();
    } catch (err) {
      return this.fail(err, `reading ${roomId}`);
    }
  }

  async firstSeq(roomId: string): Promise<number | undefined> {
    try {
      const [entry] = await this.cmd.xrange(keys.log(roomId), '-', '+', 'COUNT', 1);
      return entry ? seqOf(entry[0]) : undefined;
    } catch (err) {
      return this.fail(err, `reading ${roomId}`);
    }
  }

  async head(roomId: string): Promise<number | undefined> {
    try {
      const seq = await this.cmd.hget(keys.meta(roomId), 'seq');
      return seq === null ? undefined : Number(seq);
    } catch (err) {
      return this.fail(err, `reading ${roomId}`);
    }
  }

  async floor(roomId: string, seq: number): Promise<number> {
    try {
      return Number(
        await scripts.floor.run(this.cmd, [keys.cluster, keys.meta(roomId)], [this.epochId, seq]),
      );
    } catch (err) {
      return this.fail(err, `raising the seq of ${roomId}`, roomId);
    }
  }

  // ---- rooms and users -----------------------------------------------------------------------

  async createRoom(
    room: Omit<RoomRecord, 'last_seq'>,
    maxRooms: number,
  ): Promise<'created' | 'exists' | 'full'> {
    const record = JSON.stringify({
      room_id: room.room_id,
      room_name: room.room_name,
      created_by: room.created_by,
      created_ts: room.created_ts,
    });
    try {
      return (await scripts.createRoom.run(
        this.cmd,
        [keys.cluster, keys.rooms, keys.meta(room.room_id), keys.settings(room.room_id)],
        [
          this.epochId,
          roomKey(room.room_id),
          record,
          maxRooms,
          JSON.stringify(room.settings ?? defaultSettings()),
        ],
      )) as 'created' | 'exists' | 'full';
    } catch (err) {
      return this.fail(err, `creating ${room.room_id}`);
    }
  }

  async getRoom(roomId: string): Promise<RoomRecord | undefined> {
    try {
      const [[, record], [, seq]] = (await this.cmd
        .multi()
        .hget(keys.rooms, roomKey(roomId))
        .hget(keys.meta(roomId), 'seq')
        .exec()) as [[Error | null, string | null], [Error | null, string | null]];
      return record === null ? undefined : roomRecord(roomId, record, seq);
    } catch (err) {
      return this.fail(err, `reading ${roomId}`);
    }
  }

  async roomSettings(roomId: string): Promise<SharedSettings> {
    try {
      const [v, json] = await this.cmd.hmget(keys.settings(roomId), 'v', 'json');
      return parseSettings(v ?? null, json ?? null);
    } catch (err) {
      return this.fail(err, `reading the settings of ${roomId}`);
    }
  }

  async saveSettings(
    roomId: string,
    version: number,
    settings: RoomSettings,
  ): Promise<{ saved: true; version: number } | { saved: false; current: SharedSettings }> {
    const json = JSON.stringify(settings);
    const head = `{"t":"notice","node":${JSON.stringify(this.nodeId)},"type":"settings","payload":{"room_id":${JSON.stringify(roomId)},"settings":${json},"version":`;
    try {
      const [saved, v, stored] = (await scripts.saveSettings.run(
        this.cmd,
        [keys.settings(roomId), keys.live(roomId)],
        [version, head, '}}', json],
      )) as [number, number, string?];
      if (saved === 1) return { saved: true, version: v };
      return { saved: false, current: parseSettings(String(v), stored || null) };
    } catch (err) {
      return this.fail(err, `storing the settings of ${roomId}`);
    }
  }

  async notify(roomId: string, notice: FeedNotice): Promise<void> {
    try {
      await this.cmd.publish(keys.live(roomId), JSON.stringify({ t: 'notice', ...notice }));
    } catch (err) {
      return this.fail(err, `telling the nodes of ${roomId}`);
    }
  }

  async listRooms(): Promise<RoomRecord[]> {
    try {
      const all = await this.cmd.hgetall(keys.rooms);
      const ids = Object.keys(all);
      if (ids.length === 0) return [];
      const pipeline = this.cmd.pipeline();
      for (const id of ids) pipeline.hget(keys.meta(id), 'seq');
      const seqs = (await pipeline.exec()) ?? [];
      return ids.map((id, i) => roomRecord(id, all[id]!, (seqs[i]?.[1] as string | null) ?? null));
    } catch (err) {
      return this.fail(err, 'listing rooms');
    }
  }

  async getUser(nickKey: string): Promise<UserRecord | undefined> {
    try {
      const h = await this.cmd.hgetall(keys.user(nickKey));
      if (!h.user_name || !h.password_hash) return undefined;
      return {
        nick_key: nickKey,
        user_name: h.user_name,
        password_hash: h.password_hash,
        created_ts: Number(h.created_ts),
      };
    } catch (err) {
      return this.fail(err, 'reading a user');
    }
  }

  async putUser(user: UserRecord): Promise<void> {
    try {
      await this.cmd.hset(keys.user(user.nick_key), {
        user_name: user.user_name,
        password_hash: user.password_hash,
        created_ts: String(user.created_ts),
      });
    } catch (err) {
      return this.fail(err, 'storing a user');
    }
  }

  // ---- nicks and presence --------------------------------------------------------------------

  async claimNick(
    nickKey: string,
    claim: { session: string; nick: string; tokenHash: string; presentedTokenHash?: string },
  ): Promise<NickClaim> {
    checkSession(claim.session);
    const kick = JSON.stringify({ t: 'kick', nick_key: nickKey, by: `${this.nodeId}:${claim.session}` });
    try {
      const [result, node, session] = (await scripts.claimNick.run(
        this.cmd,
        [keys.nick(nickKey), keys.nodeOwn(this.nodeId)],
        [
          this.nodeId,
          claim.session,
          claim.tokenHash,
          claim.nick,
          claim.presentedTokenHash ?? '',
          nickKey,
          kick,
        ],
      )) as [string, string?, string?];
      if (result === 'ok') return { result };
      // The old node and session are remembered in the result so a caller can kick a local holder
      // itself when it is this node (a PUBLISH to its own channel arrives too, later).
      if (result !== 'took_over' && result !== 'taken') throw new Error(`claim_nick returned ${result}`);
      return { result, node: node ?? '', session: session ?? '' };
    } catch (err) {
      return this.fail(err, 'claiming a nick');
    }
  }

  async sendDm(
    nickKey: string,
    dm: object,
  ): Promise<{ node: string; session: string; nick: string; away?: string } | undefined> {
    try {
      const held = (await scripts.sendDm.run(
        this.cmd,
        [keys.nick(nickKey)],
        [nickKey, JSON.stringify(dm)],
      )) as [string, string, string, string] | null;
      if (!held) return undefined;
      return { node: held[0], session: held[1], nick: held[2], ...(held[3] ? { away: held[3] } : {}) };
    } catch (err) {
      return this.fail(err, 'sending a DM');
    }
  }

  async holder(nickKey: string): Promise<{ node: string; session: string; nick: string } | undefined> {
    try {
      const value = await this.cmd.get(keys.nick(nickKey));
      const m = value === null ? null : /^([^|]*)\|([^|]*)\|[^|]*\|(.*)$/.exec(value);
      return m ? { node: m[1]!, session: m[2]!, nick: m[3]! } : undefined;
    } catch (err) {
      return this.fail(err, 'looking a nick up');
    }
  }

  async onlineNicks(test: (nick: string) => boolean, limit: number, maxScanned: number): Promise<string[]> {
    const found: string[] = [];
    let cursor = '0';
    let scanned = 0;
    try {
      // HSCAN in pages: Redis serves everybody else between them, and the walk stops at the bounds.
      do {
        const [next, flat] = await this.cmd.hscan(keys.online, cursor, 'COUNT', 500);
        cursor = next;
        for (let i = 1; i < flat.length && found.length < limit; i += 2) {
          const nick = flat[i]!;
          if (test(nick) && !found.includes(nick)) found.push(nick);
        }
        scanned += flat.length / 2;
      } while (cursor !== '0' && found.length < limit && scanned < maxScanned);
      return found;
    } catch (err) {
      return this.fail(err, 'listing nicks');
    }
  }

  async setAway(nickKey: string, message: string | undefined): Promise<void> {
    try {
      if (message === undefined) await this.cmd.hdel(keys.away, nickKey);
      else await this.cmd.hset(keys.away, nickKey, message);
    } catch (err) {
      return this.fail(err, 'storing an away message');
    }
  }

  async awayOf(nickKeys: string[]): Promise<(string | undefined)[]> {
    if (nickKeys.length === 0) return [];
    try {
      return (await this.cmd.hmget(keys.away, ...nickKeys)).map((m) => m ?? undefined);
    } catch (err) {
      return this.fail(err, 'reading away messages');
    }
  }

  async whois(
    node: string,
    question: { nick_key: string; session: string; rooms: string[] },
  ): Promise<WhoisAnswer | undefined> {
    const id = `${this.nodeId}-${(this.askCounter++).toString(36)}`;
    const answer = new Promise<WhoisAnswer | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.asked.delete(id);
        resolve(undefined);
      }, this.answerMs);
      timer.unref();
      this.asked.set(id, (a) => {
        clearTimeout(timer);
        this.asked.delete(id);
        resolve(a);
      });
    });
    try {
      await this.cmd.publish(
        keys.nodeChannel(node),
        JSON.stringify({ t: 'whois', id, from: this.nodeId, ...question }),
      );
    } catch (err) {
      this.asked.get(id)?.(undefined);
      return this.fail(err, 'asking another node');
    }
    return answer;
  }

  async tellNode(node: string, event: { t: string; [field: string]: unknown }): Promise<void> {
    try {
      await this.cmd.publish(keys.nodeChannel(node), JSON.stringify(event));
    } catch (err) {
      return this.fail(err, 'telling another node');
    }
  }

  async answerWhois(node: string, id: string, answer: WhoisAnswer | undefined): Promise<void> {
    try {
      await this.cmd.publish(
        keys.nodeChannel(node),
        JSON.stringify({ t: 'whois_answer', id, ...(answer ? { answer } : {}) }),
      );
    } catch (err) {
      return this.fail(err, 'answering another node');
    }
  }

  async releaseNick(nickKey: string, session: string): Promise<boolean> {
    try {
      return (
        (await scripts.releaseNick.run(
          this.cmd,
          [keys.nick(nickKey), keys.nodeOwn(this.nodeId)],
          [this.nodeId, session, nickKey],
        )) === 1
      );
    } catch (err) {
      return this.fail(err, 'releasing a nick');
    }
  }

  async joinPresence(
    roomId: string,
    session: string,
    nick: string,
    max: number,
    extra: { account?: string } = {},
  ): Promise<'joined' | 'already' | 'full' | 'noroom'> {
    checkSession(session);
    const notice: FeedNotice = {
      node: this.nodeId,
      type: 'user_joined',
      payload: {
        room_id: roomId,
        user_name: nick,
        ...(extra.account !== undefined ? { account: extra.account } : {}),
      },
      owner: `${this.nodeId}:${session}`,
    };
    try {
      return (await scripts.presenceJoin.run(
        this.cmd,
        [
          keys.presence(roomId),
          keys.presenceNicks(roomId),
          keys.roomCounts,
          keys.live(roomId),
          keys.nodeOwn(this.nodeId),
        ],
        [
          `${this.nodeId}:${session}`,
          nick,
          Date.now(),
          max,
          roomKey(roomId),
          JSON.stringify({ t: 'notice', ...notice }),
        ],
      )) as 'joined' | 'already' | 'full' | 'noroom';
    } catch (err) {
      return this.fail(err, `joining ${roomId}`);
    }
  }

  async leavePresence(
    roomId: string,
    session: string,
    nick: string,
    reason?: string,
    extra: { kicked_by?: string; quit?: boolean; killed_by?: string; except?: string } = {},
  ): Promise<boolean> {
    const notice: FeedNotice = {
      node: this.nodeId,
      type: 'user_left',
      payload: {
        room_id: roomId,
        user_name: nick,
        ...(reason ? { reason } : {}),
        ...(extra.kicked_by !== undefined ? { kicked_by: extra.kicked_by } : {}),
        ...(extra.quit ? { quit: true } : {}),
        ...(extra.killed_by !== undefined ? { killed_by: extra.killed_by } : {}),
      },
      ...(extra.except !== undefined ? { except: extra.except } : {}),
      owner: `${this.nodeId}:${session}`,
    };
    try {
      const left = await scripts.presenceLeave.run(
        this.cmd,
        [
          keys.presence(roomId),
          keys.presenceNicks(roomId),
          keys.roomCounts,
          keys.live(roomId),
          keys.nodeOwn(this.nodeId),
        ],
        [`${this.nodeId}:${session}`, roomKey(roomId), JSON.stringify({ t: 'notice', ...notice })],
      );
      return left === 1;
    } catch (err) {
      return this.fail(err, `leaving ${roomId}`);
    }
  }

  async renamePresence(roomId: string, session: string, oldNick: string, nick: string): Promise<boolean> {
    const notice: FeedNotice = {
      node: this.nodeId,
      type: 'nick_changed',
      payload: { room_id: roomId, old_name: oldNick, user_name: nick },
      owner: `${this.nodeId}:${session}`,
    };
    try {
      const renamed = await scripts.presenceRename.run(
        this.cmd,
        [keys.presence(roomId), keys.presenceNicks(roomId), keys.live(roomId)],
        [`${this.nodeId}:${session}`, nick, JSON.stringify({ t: 'notice', ...notice })],
      );
      return renamed === 1;
    } catch (err) {
      return this.fail(err, `renaming in ${roomId}`);
    }
  }

  async members(roomId: string): Promise<Presence[]> {
    try {
      const owners = await this.cmd.zrange(keys.presence(roomId), 0, -1);
      if (owners.length === 0) return [];
      const nicks = await this.cmd.hmget(keys.presenceNicks(roomId), ...owners);
      return owners.map((owner, i) => {
        const at = owner.indexOf(':');
        return { node: owner.slice(0, at), session: owner.slice(at + 1), nick: nicks[i] ?? '?' };
      });
    } catch (err) {
      return this.fail(err, `listing the members of ${roomId}`);
    }
  }

  async counts(): Promise<Map<string, number>> {
    try {
      const all = await this.cmd.hgetall(keys.roomCounts);
      return new Map(
        Object.entries(all)
          .map(([room, n]) => [room, Number(n)] as const)
          .filter(([, n]) => n > 0),
      );
    } catch (err) {
      return this.fail(err, 'counting members');
    }
  }

  async clusterStats(): Promise<ClusterStats> {
    try {
      const [[, nodes], [, rooms], [, counts]] = (await this.cmd
        .multi()
        .scard(keys.nodes)
        .hlen(keys.rooms)
        .hvals(keys.roomCounts)
        .exec()) as [[Error | null, number], [Error | null, number], [Error | null, string[]]];
      return { nodes, rooms, members: counts.reduce((sum, n) => sum + Math.max(0, Number(n)), 0) };
    } catch (err) {
      return this.fail(err, 'reading cluster figures');
    }
  }

  // ---- idle expiry ---------------------------------------------------------------------------

  async idleRooms(idleMs: number, limit: number): Promise<string[]> {
    try {
      // The node's clock only picks candidates; EXPIRE_ROOM decides on Redis's.
      return await this.cmd.zrangebyscore(keys.roomActive, '-inf', Date.now() - idleMs, 'LIMIT', 0, limit);
    } catch (err) {
      return this.fail(err, 'listing idle rooms');
    }
  }

  async touchRooms(roomIds: string[]): Promise<void> {
    if (roomIds.length === 0) return;
    try {
      await scripts.touchRooms.run(this.cmd, [keys.roomActive], roomIds.map(roomKey));
    } catch (err) {
      return this.fail(err, 'marking rooms active');
    }
  }

  async keepRoom(roomId: string): Promise<void> {
    try {
      await this.cmd.zrem(keys.roomActive, roomKey(roomId));
    } catch (err) {
      return this.fail(err, `keeping ${roomId}`);
    }
  }

  async trackRooms(): Promise<void> {
    try {
      await scripts.trackRooms.run(this.cmd, [keys.rooms, keys.roomActive], []);
    } catch (err) {
      return this.fail(err, 'tracking rooms for expiry');
    }
  }

  async expireRoom(roomId: string, idleMs: number): Promise<'expired' | 'busy' | 'gone'> {
    try {
      return (await scripts.expireRoom.run(
        this.cmd,
        [
          keys.rooms,
          keys.roomActive,
          keys.presence(roomId),
          keys.presenceNicks(roomId),
          keys.log(roomId),
          keys.idem(roomId),
          keys.live(roomId),
          keys.settings(roomId),
        ],
        // The rooms hash and the activity set are keyed by the folded room key.
        [roomKey(roomId), idleMs],
      )) as 'expired' | 'busy' | 'gone';
    } catch (err) {
      return this.fail(err, `expiring ${roomId}`);
    }
  }

  // ---- feeds ---------------------------------------------------------------------------------

  /**
   * Subscribes to the room's channel, waits for the confirmation, then takes the room's head as
   * the watermark (or `after`, reading the stream from there): a batch committed between the
   * two is either at or below the head (dropped, it is history) or above it (delivered). One
   * feed per room per engine: the room actor is the node's single deliverer.
   */
  async feed(roomId: string, sink: FeedSink, options: { after?: number } = {}): Promise<FeedHandle> {
    const fkey = roomKey(roomId);
    if (this.feeds.has(fkey)) throw new Error(`room ${roomId} already has a feed on this node`);
    let begin!: (seq: number) => void;
    let abort!: (err: unknown) => void;
    const start = new Promise<number>((resolve, reject) => {
      begin = resolve;
      abort = reject;
    });
    const feed = new RoomFeed(
      roomId,
      sink,
      this,
      start,
      async (f) => {
        if (this.feeds.get(fkey) === f) this.feeds.delete(fkey);
        await this.sub.unsubscribe(keys.live(roomId)).catch(() => {});
      },
      (err) => this.onError(err, `feeding ${roomId}`),
    );
    this.feeds.set(fkey, feed);
    try {
      await this.sub.subscribe(keys.live(roomId));
      const head = options.after ?? (await this.head(roomId));
      if (head === undefined) throw new NoSuchRoomError(roomId);
      begin(head);
    } catch (err) {
      abort(err);
      await feed.close();
      throw asUnavailable(err, `subscribing to ${roomId}`);
    }
    if (options.after !== undefined) feed.catchUpNow();
    return feed;
  }

  /** Feed counters for a room (tests, metrics), or undefined without a feed. */
  feedStats(roomId: string): RoomFeed['stats'] | undefined {
    return this.feeds.get(roomKey(roomId))?.stats;
  }

  /** After the subscriber reconnected: confirm every subscription, then read what was published meanwhile. */
  private async resubscribe(): Promise<void> {
    if (this.closing) return;
    try {
      const channels = [
        keys.nodeChannel(this.nodeId),
        keys.nickEvents,
        ...[...this.feeds.keys()].map((room) => keys.live(room)),
      ];
      await this.sub.subscribe(...channels);
      for (const feed of this.feeds.values()) {
        feed.catchUpNow();
        feed.resync();
      }
    } catch (err) {
      this.onError(err, 'resubscribing after a reconnect');
    }
  }

  /**
   * Hands the timing of this node's commit rounds and of what the channels bring to the caller:
   * the server runs {@link flushStep} as the first step of the WebSocket door's paced flush, as the
   * SQLite node commits there, and `request` is called when a round or a channel message waits.
   *
   * - Channel messages are held until {@link releaseHeld}: a batch reaches its room's members
   *   right before the write that carries it, not one paced interval earlier into queues that
   *   wait for that write anyway. Everything is held, not only room batches, so the channels keep
   *   their one order.
   * - Commits wait for the flush and go as one round: one script call, one reply and one
   *   published batch per room per flush under load, where a round per message arrived before.
   *   The flush waits for the round's answer (at most FIRST_STEP_WAIT_MS), so its deliveries
   *   and acknowledgements still leave in that flush.
   *
   * undefined: rounds at the end of the turn and messages routed as they arrive (and what waits, now).
   */
  timeWith(request: (() => void) | undefined): void {
    this.releaseWhen = request;
    this.rounds.timeWith(request);
    if (request === undefined) this.releaseHeld();
  }

  /**
   * A step of a flush (see {@link timeWith}; `step` counts from 1): routes what the channels
   * brought and, in the first step only, sends the waiting commits as a round. A promise (the
   * round's answer) when a round is in flight, else whether anything was routed.
   *
   * One round per flush: the second step used to send what rooms queued during the first
   * round's trip as another round, which doubled the script calls (each a script run, an fsync
   * with `appendfsync always`, a published batch per room and a wake-up on every node) and
   * halved the messages per call, for messages the write did not wait for anyway. They now open
   * the next flush: 4-5% less CPU per delivery over 100 rooms of 10, redis-server's share 13%
   * less, latency no worse (docs/performance.md).
   */
  flushStep(step = 1): Promise<void> | boolean {
    // Nothing is routed while a round is in flight: a batch it published could otherwise reach
    // its room before the answer that tells the room which of its senders to acknowledge. (The
    // flush waits for the answer and runs this again a turn later, which routes it then.)
    const busy = this.rounds.busy;
    const routed = !busy && this.releaseHeld();
    if (step > 1 && !busy) {
      // One round per flush, sent by its first step; this step routes what the answer brought.
      // What rooms queued meanwhile opens the next flush (the flush took this request's mark).
      if (this.rounds.queued > 0) this.releaseWhen?.();
      return routed;
    }
    const round = this.rounds.sendNow();
    // Held back behind the round: another flush routes them once it answered.
    if (busy && this.held.length > 0) void round?.then(() => this.releaseWhen?.());
    return round ?? routed;
  }

  /** Channel messages held for the next {@link releaseHeld} (tests). */
  get heldCount(): number {
    return this.held.length / 2;
  }

  /** Routes every channel message held since the last call; false when none was. */
  releaseHeld(): boolean {
    const held = this.held;
    if (held.length === 0) return false;
    this.held = [];
    for (let i = 0; i < held.length; i += 2) this.route(held[i]!, held[i + 1]!);
    return true;
  }

  private route(channel: string, payload: string): void {
    if (payload.startsWith(this.ownBatchStart) && this.routeOwnBatch(channel, payload)) return;
    let event: { t?: string };
    try {
      event = JSON.parse(payload) as { t?: string };
    } catch (err) {
      this.onError(err, `an unreadable message on ${channel}`);
      return;
    }
    if (channel === keys.nodeChannel(this.nodeId)) {
      if (event.t === 'whois_answer') {
        const { id, answer } = event as { id?: string; answer?: WhoisAnswer };
        if (typeof id === 'string') this.asked.get(id)?.(answer);
        return;
      }
      this.emit('node', event);
      return;
    }
    if (channel === keys.nickEvents) {
      const { nick, online } = event as { nick?: unknown; online?: unknown };
      if (typeof nick === 'string' && typeof online === 'boolean') this.emit('nick', { nick, online });
      return;
    }
    const feed = this.liveFeed(channel);
    if (!feed) return;
    if (event.t === 'batch') feed.pushBatch(event as LiveBatch);
    else if (event.t === 'expired') this.emit('expired', feed.roomId);
    else if (event.t === 'notice') {
      const { t: _t, ...notice } = event as FeedNotice & { t: string };
      feed.pushNotice(notice);
    }
  }

  /** The feed of the room whose live channel this is, if this node feeds it. */
  private liveFeed(channel: string): RoomFeed | undefined {
    const room = /^chat:\{r:(.*)\}:live$/.exec(channel)?.[1];
    return room === undefined ? undefined : this.feeds.get(room);
  }

  /**
   * A batch this node published comes back on the channel with messages the feed already holds
   * from the commit's answer ({@link RoomFeed.expect}): those are delivered without parsing the
   * batch (each node parsed every batch, a visible share of its CPU). Only its first and last
   * seq are read from the text; false (parse it) when the feed lacks any of them.
   */
  private routeOwnBatch(channel: string, payload: string): boolean {
    const feed = this.liveFeed(channel);
    if (!feed) return false;
    const at = this.ownBatchStart.length;
    const firstEnd = payload.indexOf(',"last":', at);
    const lastEnd = firstEnd < 0 ? -1 : payload.indexOf(',', firstEnd + 8);
    if (lastEnd < 0) return false;
    const batch = feed.ownBatch(
      this.nodeId,
      Number(payload.slice(at, firstEnd)),
      Number(payload.slice(firstEnd + 8, lastEnd)),
    );
    if (!batch) return false;
    feed.pushBatch(batch);
    return true;
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await this.leases?.stop();
    for (const feed of [...this.feeds.values()]) await feed.close().catch(() => {});
    this.cmd.disconnect();
    this.sub.disconnect();
  }
}

/** Joins the cluster epoch, creating it (with `base`) when Redis has none; returns [epoch, base]. */
async function ensureEpoch(redis: Redis, base: number): Promise<[string, number]> {
  const candidate = `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
  const [epoch, epochBase] = (await scripts.ensureEpoch.run(
    redis,
    [keys.cluster],
    [candidate, base, Date.now()],
  )) as [string, string, number];
  return [epoch, Number(epochBase)];
}

function seqOf(entryId: string): number {
  return Number(entryId.slice(0, entryId.indexOf('-')));
}

function parseEntry([, fields]: [string, string[]]): ChatMessage {
  return JSON.parse(fields[1]!) as ChatMessage;
}

/** `key` is the hash field (the folded room key); the record keeps the room's spelling. */
function roomRecord(key: string, json: string, seq: string | null): RoomRecord {
  const r = JSON.parse(json) as Omit<RoomRecord, 'room_id' | 'last_seq'> & { room_id?: string };
  return {
    room_id: r.room_id ?? key,
    room_name: r.room_name,
    created_by: r.created_by,
    created_ts: r.created_ts,
    last_seq: seq === null ? 0 : Number(seq),
  };
}

/** Session ids go into `node:session` owners and `|`-separated nick values. */
function checkSession(session: string): void {
  if (session.length === 0 || session.includes('|'))
    throw new Error(`session id "${session}" must be non-empty and without "|"`);
}

function parseSettings(v: string | null, json: string | null): SharedSettings {
  return {
    version: v === null ? 0 : Number(v),
    settings: json ? (JSON.parse(json) as RoomSettings) : undefined,
  };
}
