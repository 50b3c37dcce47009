import type { RoomRole } from '../../protocol/events.js';
import { rolePrefix } from './moderation-events.js';
import { sameNick } from './mention.js';
import type { Conversation } from './types.js';

/** One row of the nick list. */
export interface NickRow {
  nick: string;
  /** `@` owner or operator, `+` voice, `` none. */
  prefix: string;
  away: boolean;
}

/** Owner and operators first, then voice, then everybody else. */
function rank(role: RoomRole | undefined): number {
  return role === 'owner' || role === 'operator' ? 0 : role === 'voice' ? 1 : 2;
}

/**
 * A member's role. Roles are keyed by the nick the server sent; a nick that comes back in
 * another case (or after a reconnect) still finds its role.
 */
export function roleOf(conv: Pick<Conversation, 'roles'>, nick: string): RoomRole | undefined {
  const roles = conv.roles;
  if (!roles) return undefined;
  const exact = roles[nick];
  if (exact !== undefined) return exact;
  for (const [name, role] of Object.entries(roles)) if (sameNick(name, nick)) return role;
  return undefined;
}

/** True when `nick` is marked away in the room. */
export function isAway(conv: Pick<Conversation, 'away'>, nick: string): boolean {
  return (conv.away ?? []).some((n) => sameNick(n, nick));
}

/**
 * The nick list of a room as WeeChat draws it: operators (`@`), then voiced members (`+`), then
 * the rest, each group in alphabetical order without case; away members flagged (drawn dimmed).
 */
export function nickRows(conv: Pick<Conversation, 'members' | 'roles' | 'away'>): NickRow[] {
  return conv.members
    .map((nick) => ({ nick, role: roleOf(conv, nick) }))
    .sort(
      (a, b) =>
        rank(a.role) - rank(b.role) || a.nick.localeCompare(b.nick, undefined, { sensitivity: 'base' }),
    )
    .map(({ nick, role }) => ({ nick, prefix: rolePrefix(role), away: isAway(conv, nick) }));
}

/** Marks `nick` away (or back) in the room. */
export function setAway(conv: Conversation, nick: string, away: boolean): Conversation {
  // Unchanged stays the same object, so the panes that draw it are not redrawn.
  if (isAway(conv, nick) === away) return conv;
  const rest = (conv.away ?? []).filter((n) => !sameNick(n, nick));
  return { ...conv, away: away ? [...rest, nick] : rest };
}

/** A member's away mark follows a nick change (away belongs to the person, not the nick). */
export function renameAway(conv: Conversation, oldName: string, newName: string): Conversation {
  if (!isAway(conv, oldName)) return conv;
  return setAway(setAway(conv, oldName, false), newName, true);
}

/**
 * The room with `nick`'s role set to `role` (none: taken off), whatever case it was keyed in. A
 * join says the role the member comes with and a leave ends it: a guest's operator status over a
 * room it made lasts only while its session stays (docs/moderation.md).
 */
export function withRole(conv: Conversation, nick: string, role: RoomRole | undefined): Conversation {
  const had = roleOf(conv, nick);
  if (had === role && (role === undefined || conv.roles?.[nick] === role)) return conv;
  const roles: Record<string, RoomRole> = {};
  for (const [name, r] of Object.entries(conv.roles ?? {})) if (!sameNick(name, nick)) roles[name] = r;
  if (role !== undefined) roles[nick] = role;
  return { ...conv, roles };
}

/** A member's new nick keeps its role, as an IRC client moves a prefix on NICK. */
export function renameRole(conv: Conversation, oldName: string, newName: string): Conversation {
  const role = roleOf(conv, oldName);
  return role === undefined ? conv : withRole(withRole(conv, oldName, undefined), newName, role);
}
