import type { ChatMessage, ServerMessage } from '../protocol/events.js';
import { protocolError } from '../protocol/errors.js';
import { HISTORY_ON_JOIN } from '../protocol/limits.js';
import { outbound } from './outbound.js';
import type { Session } from './session.js';
import type { AppendRecord, Store } from './store/store.js';

type Ref = string | number | undefined;

/** The events a room's mailbox accepts. Only the room reads or changes its members and seq. */
export type RoomEvent =
  | { kind: 'join'; session: Session; sinceSeq?: number; ref: Ref }
  | { kind: 'leave'; session: Session; reason?: string; ref: Ref }
  | { kind: 'message'; session: Session; text: string; clientMsgId?: string; ref: Ref }
  | { kind: 'history'; session: Session; beforeSeq?: number; limit: number; ref: Ref }
  | { kind: 'users'; session: Session; ref: Ref }
  | { kind: 'rename'; session: Session; oldName: string }
  | { kind: 'watch'; session: Session; sinceSeq?: number }
  | { kind: 'unwatch'; session: Session };

/** Hooks the room reports through (metrics, message counters); all optional. */
export interface RoomObserver {
  onMessagesCommitted?(count: number, deliveries: number, commitMs: number): void;
}

/** Largest replay page sent in one history event when resuming with since_seq. */
const REPLAY_PAGE = 500;
/** How many recent idempotency keys a room remembers without asking the store. */
const RECENT_IDS = 1024;

let idCounter = 0;
const idPrefix = Date.now().toString(36);

/** A globally unique, roughly time-ordered message id. */
function newMessageId(): string {
  return `${idPrefix}-${(idCounter++).toString(36)}`;
}

/**
 * A room actor. Every request that touches the room becomes an event in its mailbox; the room
 * handles them one at a time, so its member set and its `seq` counter have one owner and
 * every member sees one order. Messages are acknowledged (broadcast, sender included) only
 * after the store committed them; consecutive messages in the mailbox are committed as one batch.
 */
export class Room {
  /** Members by session; the value is unused (a Set would do) but keeps insertion order. */
  private readonly members = new Set<Session>();
  /** Read-only subscribers (SSE): they get every broadcast but are not members (never listed or announced). */
  private readonly watchers = new Set<Session>();
  private readonly mailbox: RoomEvent[] = [];
  private draining = false;
  private readonly recentIds = new Map<string, ChatMessage>();
  private lastSeq: number;

  constructor(
    readonly id: string,
    public name: string,
    readonly createdBy: string,
    lastSeq: number,
    private readonly store: Store,
    private readonly observer: RoomObserver = {},
    /** Told about every failure the room answers with internal_error (the hub logs them). */
    private readonly onError: (err: unknown, context: string) => void = () => {},
  ) {
    this.lastSeq = lastSeq;
  }

  /** Members right now (for listings; may lag the mailbox by the events still queued). */
  get memberCount(): number {
    return this.members.size;
  }

  /** The highest seq acknowledged so far. */
  get seq(): number {
    return this.lastSeq;
  }

  /** Nicks of the members, in join order. */
  memberNames(): string[] {
    return [...this.members].map((s) => s.nick ?? '?');
  }

  /** True when nothing is queued and nobody is in: the hub may drop the actor. */
  get idle(): boolean {
    return this.members.size === 0 && this.watchers.size === 0 && this.mailbox.length === 0 && !this.draining;
  }

  /** Puts an event in the mailbox; handled after everything queued before it. */
  post(event: RoomEvent): void {
    this.mailbox.push(event);
    if (!this.draining) {
      // Start on a microtask: everything posted in this synchronous stretch (e.g. all the frames
      // one socket read delivered) is then in the mailbox and can share one commit.
      this.draining = true;
      queueMicrotask(() => void this.drain());
    }
  }

  /** Resolves once the mailbox is empty (used by shutdown and tests). */
  async settled(): Promise<void> {
    while (this.draining || this.mailbox.length > 0) await new Promise((r) => setImmediate(r));
  }

  private async drain(): Promise<void> {
    try {
      while (this.mailbox.length > 0) {
        if (this.mailbox[0]!.kind === 'message') {
          // Take the whole run of queued messages: one append (one commit) for all of them.
          const batch: Extract<RoomEvent, { kind: 'message' }>[] = [];
          while (this.mailbox[0]?.kind === 'message') batch.push(this.mailbox.shift() as (typeof batch)[number]);
          await this.guard(batch, () => this.handleMessages(batch));
        } else {
          const event = this.mailbox.shift()!;
          await this.guard([event], () => this.handle(event as Exclude<RoomEvent, { kind: 'message' }>));
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /** A failing handler answers its requesters with internal_error; the actor keeps going. */
  private async guard(events: RoomEvent[], fn: () => void | Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      // The cause goes to the log, not to clients: it may name files, tables or constraints.
      this.onError(err, `room ${this.id}: handling ${events.length} ${events[0]?.kind ?? 'event'} event(s)`);
      for (const e of events) {
        if ('ref' in e) e.session.send('error', protocolError('internal_error'), e.ref);
      }
    }
  }

  private handle(event: Exclude<RoomEvent, { kind: 'message' }>): void | Promise<void> {
    switch (event.kind) {
      case 'join':
        return this.handleJoin(event);
      case 'leave':
        return this.handleLeave(event);
      case 'history':
        return this.handleHistory(event);
      case 'users':
        event.session.send('users', { room_id: this.id, users: this.memberNames() }, event.ref);
        return;
      case 'watch':
        return this.handleWatch(event);
      case 'unwatch':
        this.watchers.delete(event.session);
        return;
      case 'rename':
        if (this.members.has(event.session)) {
          this.broadcast({
            type: 'nick_changed',
            payload: { room_id: this.id, old_name: event.oldName, user_name: event.session.nick ?? '?' },
          });
        }
        return;
    }
  }

  private async handleJoin(event: Extract<RoomEvent, { kind: 'join' }>): Promise<void> {
    const { session } = event;
    if (session.closed) return;
    const rejoin = this.members.has(session);
    this.members.add(session);
    session.send(
      'joined',
      { room_id: this.id, room_name: this.name, members: this.memberNames(), last_seq: this.lastSeq },
      event.ref,
    );
    // The actor does not take another event until the replay is written: nothing committed
    // in between can be missed or sent twice.
    if (event.sinceSeq !== undefined) await this.replaySince(session, event.sinceSeq);
    else await this.sendHistoryPage(session, undefined, HISTORY_ON_JOIN, undefined);
    if (!rejoin) this.broadcast({ type: 'user_joined', payload: { room_id: this.id, user_name: session.nick ?? '?' } }, session);
  }

  /** A watcher gets `joined`, then (with sinceSeq) the messages it missed, then every broadcast. */
  private async handleWatch(event: Extract<RoomEvent, { kind: 'watch' }>): Promise<void> {
    const { session } = event;
    if (session.closed) return;
    session.send('joined', { room_id: this.id, room_name: this.name, members: this.memberNames(), last_seq: this.lastSeq });
    // As for a join with since_seq: no other event is handled until the replay is queued.
    if (event.sinceSeq !== undefined) await this.replaySince(session, event.sinceSeq);
    if (!session.closed) this.watchers.add(session);
  }

  private async replaySince(session: Session, sinceSeq: number): Promise<void> {
    const first = await this.store.firstSeq(this.id);
    // Nothing missed, or the oldest kept message is the first one missed. A room with messages
    // after sinceSeq but none kept (retention dropped them all) has lost the whole gap.
    const recovered = sinceSeq >= this.lastSeq || (first !== undefined && first <= sinceSeq + 1);
    let after = sinceSeq;
    do {
      const page = await this.store.since(this.id, after, REPLAY_PAGE);
      const last = page[page.length - 1];
      const more = last !== undefined && last.seq < this.lastSeq;
      session.send('history', { room_id: this.id, messages: page, has_more: more, recovered });
      if (!last || !more) break;
      after = last.seq;
    } while (!session.closed);
  }

  private async sendHistoryPage(session: Session, beforeSeq: number | undefined, limit: number, ref: Ref): Promise<void> {
    const messages = await this.store.before(this.id, beforeSeq, limit);
    const oldest = messages[0];
    const first = oldest ? await this.store.firstSeq(this.id) : undefined;
    const hasMore = oldest !== undefined && first !== undefined && first < oldest.seq;
    session.send('history', { room_id: this.id, messages, has_more: hasMore }, ref);
  }

  private handleHistory(event: Extract<RoomEvent, { kind: 'history' }>): Promise<void> {
    return this.sendHistoryPage(event.session, event.beforeSeq, event.limit, event.ref);
  }

  private handleLeave(event: Extract<RoomEvent, { kind: 'leave' }>): void {
    const { session } = event;
    if (!this.members.has(session)) {
      if (event.ref !== undefined || !event.reason) session.send('error', protocolError('not_in_room', `you are not in ${this.id}`), event.ref);
      return;
    }
    const payload = { room_id: this.id, user_name: session.nick ?? '?', ...(event.reason ? { reason: event.reason } : {}) };
    this.members.delete(session);
    this.broadcast({ type: 'user_left', payload });
    if (!session.closed) session.send('user_left', payload, event.ref);
  }

  private async handleMessages(batch: Extract<RoomEvent, { kind: 'message' }>[]): Promise<void> {
    const records: AppendRecord[] = [];
    const accepted: { event: (typeof batch)[number]; record: AppendRecord }[] = [];
    const startSeq = this.lastSeq;
    for (const event of batch) {
      const { session } = event;
      const senderKey = session.nickKey ?? session.id;
      if (event.clientMsgId !== undefined) {
        const key = `${senderKey}\0${event.clientMsgId}`;
        const known =
          this.recentIds.get(key) ??
          records.find((r) => r.sender_key === senderKey && r.client_msg_id === event.clientMsgId) ??
          (await this.store.findByClientMsgId(this.id, senderKey, event.clientMsgId));
        if (known) {
          // A retry of something stored: acknowledge again, store and broadcast nothing.
          if (records.includes(known as AppendRecord)) accepted.push({ event, record: known as AppendRecord });
          else session.send('message', stripSender(known), event.ref);
          continue;
        }
      }
      const record: AppendRecord = {
        room_id: this.id,
        seq: ++this.lastSeq,
        id: newMessageId(),
        ts: Date.now(),
        user_name: session.nick ?? '?',
        message: event.text,
        sender_key: senderKey,
      };
      if (event.clientMsgId !== undefined) record.client_msg_id = event.clientMsgId;
      records.push(record);
      accepted.push({ event, record });
    }
    if (records.length === 0) return;
    const started = performance.now();
    try {
      await this.store.append(records);
    } catch (err) {
      this.lastSeq = startSeq;
      throw err;
    }
    const commitMs = performance.now() - started;
    let deliveries = 0;
    const broadcastOnce = new Set<AppendRecord>();
    for (const { event, record } of accepted) {
      if (record.client_msg_id !== undefined) this.remember(record);
      const message = stripSender(record);
      if (!broadcastOnce.has(record)) {
        broadcastOnce.add(record);
        deliveries += this.broadcast({ type: 'message', payload: message }, event.ref === undefined ? undefined : event.session);
      }
      // The sender's copy carries its ref so it can match the acknowledgement to its request.
      if (event.ref !== undefined && !event.session.closed) {
        event.session.send('message', message, event.ref);
        deliveries++;
      }
    }
    this.observer.onMessagesCommitted?.(records.length, deliveries, commitMs);
  }

  private remember(record: AppendRecord): void {
    this.recentIds.set(`${record.sender_key}\0${record.client_msg_id}`, stripSender(record));
    if (this.recentIds.size > RECENT_IDS) {
      const oldest = this.recentIds.keys().next().value;
      if (oldest !== undefined) this.recentIds.delete(oldest);
    }
  }

  /** Serialises the event once and queues it to every member but `except`. Returns deliveries. */
  private broadcast(message: ServerMessage, except?: Session): number {
    const out = outbound(message);
    let n = 0;
    for (const member of this.members) {
      if (member === except) continue;
      member.deliver(out);
      n++;
    }
    for (const watcher of this.watchers) {
      watcher.deliver(out);
      n++;
    }
    return n;
  }
}

function stripSender(record: ChatMessage & { sender_key?: string }): ChatMessage {
  const { sender_key: _drop, ...message } = record;
  return message;
}
