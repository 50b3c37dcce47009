import { RequestError } from '../protocol/errors.js';
import type { ServerEventPayloads, ServerMessage } from '../protocol/events.js';
import { MAX_BANS_PER_ROOM, MAX_ROLES_PER_ROOM } from '../protocol/limits.js';
import { nickKey } from '../protocol/nick.js';
import type { BanMask } from './moderation/ban-mask.js';
import type { RoomPolicy } from './room-modes.js';
import type { Session } from './session.js';
import type { RoomSettings } from './store/store-types.js';

type Ref = string | number | undefined;

/** A change an operator asked for; checked (who may) by the hub, applied by the room. */
export type ModAction =
  | { op: 'role'; user_name: string; role: 'operator' | 'voice' | 'none' }
  | { op: 'kick'; user_name: string; reason?: string }
  | { op: 'ban'; mask: BanMask }
  | { op: 'unban'; mask: string }
  /** `target`: a session here, or (cluster mode) a nick held on another node. */
  | { op: 'invite'; target: Session | RemoteUser }
  | { op: 'modes'; change: string };

/** What moderation needs of a room; the room hands it in from its mailbox. */
export interface ModeratedRoom {
  readonly id: string;
  readonly policy: RoomPolicy;
  /** The member with this nick key. */
  member(key: string): Session | undefined;
  members(): Iterable<Session>;
  /** Stores the settings, then makes them the policy's. */
  save(settings: RoomSettings): Promise<void>;
  /** To every member and watcher but `actor`, then to `actor` with its ref (member or not). */
  announce(message: ServerMessage, actor: Session, ref: Ref): void;
  /** Tells the room's operators of an invitation (IRC's invite-notify), but those in `skip`. */
  tellOperators(payload: ServerEventPayloads['invited'], skip: readonly Session[]): void;
  /** Takes the member out and tells the room and it (`user_left` with `kicked_by`), all but `except`. */
  remove(member: Session, payload: ServerEventPayloads['user_left'], except?: Session): void;
  /**
   * Cluster mode: the member with this nick key on another node (`owner` is its `node:session`;
   * `registered`: the nick is a registered one, which only its password holder can hold).
   */
  elsewhere(key: string): Promise<RemoteMember | undefined>;
  /** Cluster mode: every node's room lets the nick in once; a user on another node is told there. */
  inviteElsewhere(key: string, payload: ServerEventPayloads['invited'], to?: RemoteUser): Promise<void>;
  /** Cluster mode: has the member's node take it out, as `remove` does here. */
  removeElsewhere(
    member: RemoteMember,
    payload: ServerEventPayloads['user_left'],
    actor: Session,
  ): Promise<void>;
}

/** An online user connected to another node of the cluster. */
export interface RemoteUser {
  key: string;
  nick: string;
  node: string;
  session: string;
}

/** A member of the room connected to another node of the cluster. */
export interface RemoteMember {
  key: string;
  nick: string;
  owner: string;
  registered: boolean;
}

/** Whom an action names: a member here (`local`), or on another node (`remote`). */
interface Target {
  key: string;
  nick: string;
  registered: boolean;
  local?: Session;
  remote?: RemoteMember;
}

/**
 * Applies one operator's change in the room's mailbox: the checks that depend on the target
 * (who it is, its standing), the store write, then the announcement. Throws a RequestError to
 * refuse; nothing changed then.
 */
export async function moderate(
  room: ModeratedRoom,
  actor: Session,
  action: ModAction,
  ref: Ref,
): Promise<void> {
  const by = actor.nick ?? '?';
  const { policy } = room;
  const asServer = policy.isServerOperator(actor);
  switch (action.op) {
    case 'role': {
      const target = await requireMember(room, action.user_name);
      const sref = target.local ? policy.sessionRef(target.local) : target.remote?.owner;
      const standing = policy.roleOfKey(target.key, target.registered, sref);
      if (standing === 'owner' || (policy.isServerOperatorKey(target.key, target.registered) && !asServer))
        throw new RequestError('protected_user', `${target.nick} is the owner or a server operator`);
      const owner = policy.roleOf(actor) === 'owner' || asServer;
      const standingOp = target.registered && policy.settings.operators.some((r) => r.key === target.key);
      // Operator status for good goes to registered nicks, from the owner. In a room without an
      // owner (a guest's, the server's) any operator gives it as IRC chanops do: to the session
      // only, ending when it leaves (see docs/moderation.md).
      const forSession = action.role === 'operator' && !(owner && target.registered);
      if (forSession && policy.settings.owner !== undefined)
        throw owner
          ? new RequestError('not_registered', `${target.nick} is not a registered nick`)
          : new RequestError('not_owner', `only the owner of ${room.id} grants operator status`);
      if (standingOp && action.role !== 'operator' && !owner)
        throw new RequestError('not_owner', `only the owner of ${room.id} removes operator status`);
      if (action.role === 'operator' && !forSession && !owner)
        throw new RequestError('not_owner', `only the owner of ${room.id} grants operator status`);
      const next = policy.draft();
      const { key } = target;
      // (Only the owner gets here about a standing operator but to give it operator status again.)
      if (owner) next.operators = next.operators.filter((r) => r.key !== key);
      next.voiced = next.voiced.filter((r) => r.key !== key);
      if (sref !== undefined) next.session_ops = next.session_ops?.filter((r) => r !== sref);
      const ref_ = { key, nick: target.nick };
      if (
        action.role !== 'none' &&
        !forSession &&
        next.operators.length + next.voiced.length >= MAX_ROLES_PER_ROOM
      )
        throw new RequestError(
          'list_full',
          `${room.id} has ${MAX_ROLES_PER_ROOM} operators and voiced nicks`,
        );
      if (forSession && sref !== undefined && !standingOp) (next.session_ops ??= []).push(sref);
      else if (action.role === 'operator') next.operators.push(ref_);
      if (action.role === 'voice') next.voiced.push(ref_);
      if (next.session_ops?.length === 0) delete next.session_ops;
      await room.save(next);
      const role = action.role === 'none' ? null : action.role;
      announce(room, 'role_changed', { room_id: room.id, user_name: ref_.nick, role, by }, actor, ref);
      return;
    }
    case 'kick': {
      const target = await requireMember(room, action.user_name);
      if (isProtected(policy, target) && !asServer)
        throw new RequestError('protected_user', `${target.nick} is the owner or a server operator`);
      const payload = {
        room_id: room.id,
        user_name: target.nick,
        reason: action.reason || 'kicked',
        kicked_by: by,
      };
      // The kicker's copy (member or server operator outside the room) is its reply.
      if (target.local) room.remove(target.local, payload, actor);
      else await room.removeElsewhere(target.remote!, payload, actor);
      actor.send('user_left', payload, ref);
      return;
    }
    case 'ban': {
      const { mask } = action;
      if (mask.kind === 'nick') {
        const target = await findMember(room, mask.key);
        if (target && isProtected(policy, target) && !asServer)
          throw new RequestError('protected_user', `${target.nick} is the owner or a server operator`);
      }
      const next = policy.draft();
      if (!next.bans.some((b) => b.mask === mask.mask)) {
        if (next.bans.length >= MAX_BANS_PER_ROOM)
          throw new RequestError('list_full', `${room.id} has ${MAX_BANS_PER_ROOM} bans; lift one first`);
        next.bans.push({ mask: mask.mask, set_by: by, set_ts: Date.now() });
        await room.save(next);
      }
      announce(room, 'ban_changed', { room_id: room.id, mask: mask.mask, banned: true, by }, actor, ref);
      // A ban also removes the members it covers, as a kick would (one ban, no second command).
      for (const member of [...room.members()]) {
        const ban = policy.banFor(member, member.conn.remoteAddress);
        if (ban?.mask === mask.mask)
          room.remove(member, {
            room_id: room.id,
            user_name: member.nick ?? '?',
            reason: 'banned',
            kicked_by: by,
          });
      }
      return;
    }
    case 'unban': {
      const next = policy.draft();
      const before = next.bans.length;
      next.bans = next.bans.filter((b) => b.mask !== action.mask);
      if (next.bans.length !== before) await room.save(next);
      announce(room, 'ban_changed', { room_id: room.id, mask: action.mask, banned: false, by }, actor, ref);
      return;
    }
    case 'invite': {
      const { target } = action;
      if ('node' in target) {
        policy.invite(target.key);
        const payload = { room_id: room.id, user_name: target.nick, by };
        await room.inviteElsewhere(target.key, payload, target);
        room.tellOperators(payload, [actor]);
        actor.send('invited', payload, ref);
        return;
      }
      if (target.nickKey === undefined || target.closed)
        throw new RequestError('no_such_user', 'that user is no longer online');
      policy.invite(target.nickKey);
      const payload = { room_id: room.id, user_name: target.nick ?? '?', by };
      // The invited client may reconnect through another node before it joins.
      await room.inviteElsewhere(target.nickKey, payload);
      if (target !== actor) target.send('invited', payload);
      room.tellOperators(payload, [actor, target]);
      actor.send('invited', payload, ref);
      return;
    }
    case 'modes': {
      const next = policy.draft();
      let on = true;
      for (const c of action.change) {
        if (c === '+' || c === '-') on = c === '+';
        else if (c === 't') next.modes.topic_locked = on;
        else if (c === 'i') next.modes.invite_only = on;
        else if (c === 'm') next.modes.moderated = on;
      }
      await room.save(next);
      announce(room, 'modes_changed', { room_id: room.id, modes: next.modes, by }, actor, ref);
      return;
    }
  }
}

function announce<T extends 'role_changed' | 'ban_changed' | 'modes_changed'>(
  room: ModeratedRoom,
  type: T,
  payload: ServerEventPayloads[T],
  actor: Session,
  ref: Ref,
): void {
  room.announce({ type, payload } as ServerMessage, actor, ref);
}

async function requireMember(room: ModeratedRoom, nick: string): Promise<Target> {
  const target = await findMember(room, nickKey(nick));
  if (!target) throw new RequestError('no_such_user', `${nick} is not in ${room.id}`);
  return target;
}

/** The member with this nick key, here or (cluster mode) on another node. */
async function findMember(room: ModeratedRoom, key: string): Promise<Target | undefined> {
  const local = room.member(key);
  if (local) return { key, nick: local.nick ?? '?', registered: local.registered, local };
  const remote = await room.elsewhere(key);
  return remote && { key, nick: remote.nick, registered: remote.registered, remote };
}

/** The owner and server operators: an operator cannot kick, ban or demote them. */
function isProtected(policy: RoomPolicy, target: Target): boolean {
  return (
    policy.roleOfKey(target.key, target.registered) === 'owner' ||
    policy.isServerOperatorKey(target.key, target.registered)
  );
}
