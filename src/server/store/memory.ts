import { SERVE_DEFAULTS } from '../../options/serve.js';
import type { ChatMessage } from '../../protocol/events.js';
import type { AppendRecord, RoomRecord, RoomSettings, Store, UserRecord } from './store-types.js';

/** Options for {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /** Messages kept per room; older ones are dropped (a resume past them reports recovered: false). */
  retainPerRoom?: number;
}

interface RoomLog {
  room: RoomRecord;
  messages: ChatMessage[];
  byClientId: Map<string, ChatMessage>;
}

/** A Store that keeps everything in process memory (`chat serve --memory`); nothing survives exit. */
export class MemoryStore implements Store {
  private readonly rooms = new Map<string, RoomLog>();
  private readonly users = new Map<string, UserRecord>();
  private readonly retain: number;
  private closed = false;

  constructor(options: MemoryStoreOptions = {}) {
    this.retain = options.retainPerRoom ?? SERVE_DEFAULTS.retainInMemory;
  }

  async listRooms(): Promise<RoomRecord[]> {
    return [...this.rooms.values()].map((log) => {
      const { settings, ...room } = log.room;
      return settings ? { ...room, settings: structuredClone(settings) } : room;
    });
  }

  async createRoom(room: Omit<RoomRecord, 'last_seq'>): Promise<void> {
    if (!this.rooms.has(room.room_id)) {
      const record: RoomRecord = { ...room, last_seq: 0 };
      if (room.settings) record.settings = structuredClone(room.settings);
      this.rooms.set(room.room_id, { room: record, messages: [], byClientId: new Map() });
    }
  }

  async saveRoomSettings(roomId: string, settings: RoomSettings): Promise<void> {
    if (this.closed) throw new Error('store is closed');
    const log = this.rooms.get(roomId);
    if (!log) throw new Error(`no such room ${roomId}`);
    // A copy: the room keeps changing its own object, the store must keep what was saved.
    log.room.settings = structuredClone(settings);
  }

  async deleteRoom(roomId: string): Promise<void> {
    if (this.closed) throw new Error('store is closed');
    this.rooms.delete(roomId);
  }

  async append(records: AppendRecord[]): Promise<void> {
    if (this.closed) throw new Error('store is closed');
    // Validate the whole batch first so a rejected append stores nothing of it.
    const lastSeq = new Map<string, number>();
    const batchKeys = new Set<string>();
    for (const r of records) {
      const log = this.rooms.get(r.room_id);
      if (!log) throw new Error(`no such room ${r.room_id}`);
      const prev = lastSeq.get(r.room_id) ?? log.room.last_seq;
      if (r.seq <= prev) throw new Error(`duplicate seq ${r.seq} in ${r.room_id}`);
      if (r.client_msg_id !== undefined) {
        const key = `${r.sender_key}\0${r.client_msg_id}`;
        // The batch may carry the same key twice: check it against itself as well as the log.
        if (log.byClientId.has(key) || batchKeys.has(`${r.room_id}\0${key}`)) {
          throw new Error(`duplicate client_msg_id ${r.client_msg_id} in ${r.room_id}`);
        }
        batchKeys.add(`${r.room_id}\0${key}`);
      }
      lastSeq.set(r.room_id, r.seq);
    }
    for (const r of records) {
      const log = this.rooms.get(r.room_id)!;
      const { sender_key, ...message } = r;
      log.messages.push(message);
      log.room.last_seq = r.seq;
      if (r.client_msg_id !== undefined) log.byClientId.set(`${sender_key}\0${r.client_msg_id}`, message);
      if (log.messages.length > this.retain * 1.25) this.trim(log);
    }
  }

  private trim(log: RoomLog): void {
    // A Set, not Array#includes: a trim drops thousands of messages and scans every key.
    const dropped = new Set(log.messages.splice(0, log.messages.length - this.retain));
    for (const [key, m] of log.byClientId) if (dropped.has(m)) log.byClientId.delete(key);
  }

  async since(roomId: string, afterSeq: number, limit: number): Promise<ChatMessage[]> {
    const messages = this.rooms.get(roomId)?.messages ?? [];
    const start = lowerBound(messages, afterSeq + 1);
    return messages.slice(start, start + limit);
  }

  async before(roomId: string, beforeSeq: number | undefined, limit: number): Promise<ChatMessage[]> {
    const messages = this.rooms.get(roomId)?.messages ?? [];
    const end = beforeSeq === undefined ? messages.length : lowerBound(messages, beforeSeq);
    return messages.slice(Math.max(0, end - limit), end);
  }

  async firstSeq(roomId: string): Promise<number | undefined> {
    return this.rooms.get(roomId)?.messages[0]?.seq;
  }

  async findByClientMsgId(
    roomId: string,
    senderKey: string,
    clientMsgId: string,
  ): Promise<ChatMessage | undefined> {
    return this.rooms.get(roomId)?.byClientId.get(`${senderKey}\0${clientMsgId}`);
  }

  async getUser(nickKey: string): Promise<UserRecord | undefined> {
    const user = this.users.get(nickKey);
    return user ? { ...user } : undefined;
  }

  async putUser(user: UserRecord): Promise<void> {
    this.users.set(user.nick_key, { ...user });
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Index of the first message with seq >= target (messages are in ascending seq). */
function lowerBound(messages: ChatMessage[], target: number): number {
  let lo = 0;
  let hi = messages.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (messages[mid]!.seq < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
