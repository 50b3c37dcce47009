import type { RoomModes, RoomRole, ServerEventPayloads } from '../../../protocol/events.js';
import { nickKey } from '../../../protocol/nick.js';
import type { OutMessage } from './message.js';
import { channelOf, ircNick, sourceOf } from './names.js';

/** The IRC letter of a role: owners and operators are `o` (`@`), voiced users `v` (`+`). */
export function roleLetter(role: RoomRole | null | undefined): 'o' | 'v' | undefined {
  return role === 'owner' || role === 'operator' ? 'o' : role === 'voice' ? 'v' : undefined;
}

/** The NAMES/WHO prefix of a role. */
export function rolePrefix(role: RoomRole | null | undefined): string {
  const letter = roleLetter(role);
  return letter === 'o' ? '@' : letter === 'v' ? '+' : '';
}

/** `+imt`-style mode string of a room's modes (`+` alone when none is set). */
export function modeString(modes: RoomModes | undefined): string {
  if (!modes) return '+';
  return `+${modes.invite_only ? 'i' : ''}${modes.moderated ? 'm' : ''}${modes.topic_locked ? 't' : ''}`;
}

const LETTERS: [keyof RoomModes, string][] = [
  ['invite_only', 'i'],
  ['moderated', 'm'],
  ['topic_locked', 't'],
];

/**
 * What one IRC session knows of the channels it is in: their modes and the members' roles. The
 * server announces a role or mode change as the new state (`role: null`, every mode); IRC says
 * what changed (`-v bob`, `+t`), so the change is the difference from what this session was
 * told before. Rendered per session: these changes are rare.
 */
export class ChannelStates {
  private readonly rooms = new Map<string, { modes: RoomModes | undefined; roles: Map<string, 'o' | 'v'> }>();

  /** A `joined` (or a `users` answer): the modes and the roles of the members listed. */
  joined(roomId: string, modes: RoomModes | undefined, roles: Record<string, RoomRole> | undefined): void {
    const state = this.of(roomId);
    if (modes) state.modes = { ...modes };
    for (const [nick, role] of Object.entries(roles ?? {})) this.setRole(roomId, nick, role);
  }

  /** This session left the channel: nothing of it is kept. */
  left(roomId: string): void {
    this.rooms.delete(roomId);
  }

  modes(roomId: string): RoomModes | undefined {
    return this.rooms.get(roomId)?.modes;
  }

  /** The role letter this session knows `nick` to hold in the room. */
  letterOf(roomId: string, nick: string): 'o' | 'v' | undefined {
    return this.rooms.get(roomId)?.roles.get(nickKey(nick));
  }

  /** Notes a member's role (from `user_joined`); no line (the JOIN's MODE is shared). */
  setRole(roomId: string, nick: string, role: RoomRole | null | undefined): void {
    const letter = roleLetter(role);
    const roles = this.of(roomId).roles;
    if (letter) roles.set(nickKey(nick), letter);
    else roles.delete(nickKey(nick));
  }

  /**
   * A member changed nick: its role goes with it, as IRC clients move a prefix on NICK (a session
   * operator keeps its status across its own rename), so a later `-o` is said.
   */
  renamed(roomId: string, oldName: string, newName: string): void {
    const roles = this.rooms.get(roomId)?.roles;
    const letter = roles?.get(nickKey(oldName));
    if (!roles || letter === undefined) return;
    roles.delete(nickKey(oldName));
    roles.set(nickKey(newName), letter);
  }

  /** `MODE #c +o nick` / `-v nick`...: the lines of a role change, from who this session knew. */
  roleChanged(p: ServerEventPayloads['role_changed']): OutMessage[] {
    return this.changeRole(p.room_id, p.user_name, p.role, sourceOf(p.by));
  }

  /** The MODE line (from `source`) that takes `user` from the role this session knew to `role`; none when equal. */
  changeRole(roomId: string, user: string, role: RoomRole | null, source: string): OutMessage[] {
    const before = this.of(roomId).roles.get(nickKey(user));
    const after = roleLetter(role);
    this.setRole(roomId, user, role);
    const change = before === after ? '' : `${before ? `-${before}` : ''}${after ? `+${after}` : ''}`;
    if (change === '') return [];
    const nick = ircNick(user);
    return [
      {
        source,
        command: 'MODE',
        params: [channelOf(roomId), change, ...(before && after ? [nick, nick] : [nick])],
      },
    ];
  }

  /** `MODE #c +t-i`: the lines of a modes change, from what this session knew. */
  modesChanged(p: ServerEventPayloads['modes_changed']): OutMessage[] {
    const state = this.of(p.room_id);
    const before = state.modes;
    state.modes = { ...p.modes };
    let plus = '';
    let minus = '';
    for (const [key, letter] of LETTERS) {
      if (p.modes[key] && !before?.[key]) plus += letter;
      if (!p.modes[key] && before?.[key]) minus += letter;
    }
    const change = `${plus ? `+${plus}` : ''}${minus ? `-${minus}` : ''}`;
    if (change === '') return [];
    return [{ source: sourceOf(p.by), command: 'MODE', params: [channelOf(p.room_id), change] }];
  }

  private of(roomId: string): { modes: RoomModes | undefined; roles: Map<string, 'o' | 'v'> } {
    let state = this.rooms.get(roomId);
    if (!state) {
      state = { modes: undefined, roles: new Map() };
      this.rooms.set(roomId, state);
    }
    return state;
  }
}
