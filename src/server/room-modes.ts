import { RequestError } from '../protocol/errors.js';
import type { BanEntry, RoomModes, RoomRole, RoomTopic } from '../protocol/events.js';
import { banMatches, parseBanMask, type BanMask } from './moderation/ban-mask.js';
import type { Session } from './session.js';
import type { NickRef, RoomSettings } from './store/store-types.js';

/** Invitations one room remembers (oldest dropped first); they last only while the server runs. */
const MAX_INVITES = 1000;

/** A room's settings with nothing set. */
export function defaultSettings(): RoomSettings {
  return {
    modes: { topic_locked: false, invite_only: false, moderated: false },
    operators: [],
    voiced: [],
    bans: [],
  };
}

/**
 * Who may do what in one room: its settings (topic, owner, modes, roles, bans, as stored) and the
 * invitations of this run. Read by the hub's preconditions and the room; changed only by the room,
 * from its mailbox, and only after the store saved the new settings (see {@link replace}).
 *
 * Roles are kept by nick key. Owner and operator count only for a session that proved a registered
 * nick with its password (`Session.registered`), so taking a guest nick never grants them; voice
 * goes with the nick (a guest may be voiced). Session operators (a guest who made the room, IRC's
 * channel creator) are kept by session, never by nick: see {@link sessionRef}.
 */
export class RoomPolicy {
  private current: RoomSettings;
  private bans: { entry: BanEntry; mask: BanMask }[] = [];
  private readonly invites = new Set<string>();

  constructor(
    settings: RoomSettings | undefined,
    /** Nick keys of the server operators (`--operators`). */
    private readonly serverOperators: ReadonlySet<string>,
    /**
     * This process's part of a session reference: the cluster node id (random for each run), or
     * `local` on one node, where session operators are never stored and so die with the process.
     */
    private readonly node?: string,
  ) {
    this.current = settings ?? defaultSettings();
    this.parseBans();
  }

  /** The settings as stored (do not change the object: copy it, then {@link replace}). */
  get settings(): RoomSettings {
    return this.current;
  }

  get modes(): RoomModes {
    return this.current.modes;
  }

  get topic(): RoomTopic | undefined {
    return this.current.topic;
  }

  /** A copy to change and then {@link replace} with, once stored. */
  draft(): RoomSettings {
    return structuredClone(this.current);
  }

  /** Takes settings the store has saved. */
  replace(settings: RoomSettings): void {
    this.current = settings;
    this.parseBans();
  }

  /** True for a session that proved a nick named by `--operators`. */
  isServerOperator(session: Session): boolean {
    return session.registered && session.nickKey !== undefined && this.serverOperators.has(session.nickKey);
  }

  /**
   * What names one session for a session operator: `node:session`, as the cluster's presence
   * names members. Session ids are never reused within a run and node ids are random for each
   * run, so a later session (after a restart or a crash) never inherits it, whatever its nick.
   */
  sessionRef(session: Session): string {
    return sessionRef(this.node, session);
  }

  /** True for the session reference of a session operator (see {@link sessionRef}). */
  isSessionOperator(ref: string | undefined): boolean {
    return ref !== undefined && (this.current.session_ops?.includes(ref) ?? false);
  }

  /** The session's standing in the room (server operators have none of their own here). */
  roleOf(session: Session): RoomRole | undefined {
    // The reference is made only where session operators exist (checked on every message).
    const ref = this.current.session_ops ? this.sessionRef(session) : undefined;
    return this.roleOfKey(session.nickKey, session.registered, ref);
  }

  /**
   * The standing of a nick key (for a member on another node of a cluster: `registered` as looked
   * up); `ref`: the member's session reference (`node:session`), for session operators.
   */
  roleOfKey(key: string | undefined, registered: boolean, ref?: string): RoomRole | undefined {
    if (key === undefined) return undefined;
    if (registered && this.current.owner?.key === key) return 'owner';
    if (registered && hasKey(this.current.operators, key)) return 'operator';
    if (this.isSessionOperator(ref)) return 'operator';
    if (hasKey(this.current.voiced, key)) return 'voice';
    return undefined;
  }

  /** True for a nick key named by `--operators`, held by a session that proved it. */
  isServerOperatorKey(key: string, registered: boolean): boolean {
    return registered && this.serverOperators.has(key);
  }

  /** Owner, operator or server operator: may kick, ban, invite, set modes and voice. */
  mayOperate(session: Session): boolean {
    const role = this.roleOf(session);
    return role === 'owner' || role === 'operator' || this.isServerOperator(session);
  }

  /** May speak while the room is moderated (+m). */
  maySpeak(session: Session): boolean {
    return (
      !this.current.modes.moderated || this.roleOf(session) !== undefined || this.isServerOperator(session)
    );
  }

  /** The owner and server operators: an operator cannot kick, ban or demote them. */
  isProtected(session: Session): boolean {
    return this.roleOf(session) === 'owner' || this.isServerOperator(session);
  }

  /** The ban that keeps this client out, if any (the owner and server operators are never kept out). */
  banFor(session: Session, address: string): BanEntry | undefined {
    if (this.isProtected(session)) return undefined;
    return this.bans.find((b) => banMatches(b.mask, session.nickKey, address))?.entry;
  }

  /** The ban that covers an address whoever connects from it (a read-only stream has no nick). */
  banForAddress(address: string): BanEntry | undefined {
    return this.bans.find((b) => b.mask.kind !== 'nick' && banMatches(b.mask, undefined, address))?.entry;
  }

  /** Invited since the server started and not yet joined on it. */
  isInvited(session: Session): boolean {
    return session.nickKey !== undefined && this.invites.has(session.nickKey);
  }

  invite(key: string): void {
    this.invites.delete(key);
    this.invites.add(key);
    if (this.invites.size > MAX_INVITES) {
      const oldest = this.invites.values().next().value;
      if (oldest !== undefined) this.invites.delete(oldest);
    }
  }

  /** An invitation is used up by the join it let in. */
  useInvite(session: Session): void {
    if (session.nickKey !== undefined) this.invites.delete(session.nickKey);
  }

  /** Nicks with a standing role, for the `modes` reply (session operators are not nicks: not listed). */
  listed(): { owner: string | null; operators: string[]; voiced: string[] } {
    return {
      owner: this.current.owner?.nick ?? null,
      operators: this.current.operators.map((r) => r.nick),
      voiced: this.current.voiced.map((r) => r.nick),
    };
  }

  private parseBans(): void {
    this.bans = [];
    for (const entry of this.current.bans) {
      const mask = parseBanMask(entry.mask);
      if (mask) this.bans.push({ entry, mask });
    }
  }
}

function hasKey(list: NickRef[], key: string): boolean {
  return list.some((r) => r.key === key);
}

/**
 * Why this session may not enter the room (`banned`, `invite_only`), or undefined when it may.
 * Checked by the hub before a join or a one-shot post, and again by the room in its mailbox (a
 * ban may have been set while the join waited there). `member`: already in, so no invitation is needed.
 */
export function admissionError(
  policy: RoomPolicy,
  session: Session,
  roomId: string,
  member: boolean,
): RequestError | undefined {
  const ban = policy.banFor(session, session.conn.remoteAddress);
  if (ban) return new RequestError('banned', `you are banned from ${roomId} (${ban.mask})`);
  if (!member && policy.modes.invite_only && !policy.isInvited(session) && !policy.mayOperate(session))
    return new RequestError('invite_only', `${roomId} is invite-only; ask an operator for an /invite`);
  return undefined;
}

/** RoomPolicy.sessionRef for a cluster node's id, or `local` on one node (`node` undefined). */
export function sessionRef(node: string | undefined, session: Session): string {
  return `${node ?? 'local'}:${session.id}`;
}

/** The settings as a store keeps them: without session operators (they end with the process). */
export function storedSettings(settings: RoomSettings): RoomSettings {
  if (settings.session_ops === undefined) return settings;
  const stored = { ...settings };
  delete stored.session_ops;
  return stored;
}

/** A copy of `settings` without the session operator `ref` (undefined when it is not one). */
export function withoutSessionOp(settings: RoomSettings, ref: string): RoomSettings | undefined {
  if (!settings.session_ops?.includes(ref)) return undefined;
  const next = structuredClone(settings);
  next.session_ops = settings.session_ops.filter((r) => r !== ref);
  if (next.session_ops.length === 0) delete next.session_ops;
  return next;
}
