import type { FeedNotice, Presence } from './engine.js';

/** A presence event a room tells its members (user_joined, user_left, nick_changed). */
export type PresenceEvent =
  | { type: 'user_joined'; payload: { room_id: string; user_name: string } }
  | { type: 'user_left'; payload: { room_id: string; user_name: string } }
  | { type: 'nick_changed'; payload: { room_id: string; old_name: string; user_name: string } };

/**
 * One room's members on other nodes as this node's members were last told of them, by owner
 * (`node:session`). Presence notices keep it current; a read of the shared presence (a join, or
 * the resync after the subscriber link came back, when notices published meanwhile were lost)
 * replaces it, and what changed is what the members must be told. Because both paths go through
 * it, a change seen first in a read and then in its (late) notice is told once.
 */
export class RemotePresence {
  private readonly known = new Map<string, string>();

  constructor(private readonly selfNode: string) {}

  /**
   * A presence notice from another node: true when the members must hear it. A notice without
   * an owner (from a node of an earlier version) is always told.
   */
  note(notice: FeedNotice): boolean {
    if (notice.type !== 'user_joined' && notice.type !== 'user_left' && notice.type !== 'nick_changed')
      return true;
    const { owner } = notice;
    if (owner === undefined) return true;
    switch (notice.type) {
      case 'user_joined':
        if (this.known.get(owner) === notice.payload.user_name) return false;
        this.known.set(owner, notice.payload.user_name);
        return true;
      case 'user_left':
        return this.known.delete(owner);
      case 'nick_changed':
        if (this.known.get(owner) === notice.payload.user_name) return false;
        this.known.set(owner, notice.payload.user_name);
        return true;
    }
  }

  /** Takes the shared presence just read; returns what the members were not told yet, leaves first. */
  sync(roomId: string, members: Presence[]): PresenceEvent[] {
    const now = new Map<string, string>();
    for (const m of members) if (m.node !== this.selfNode) now.set(`${m.node}:${m.session}`, m.nick);
    const out: PresenceEvent[] = [];
    for (const [owner, nick] of this.known)
      if (!now.has(owner)) out.push({ type: 'user_left', payload: { room_id: roomId, user_name: nick } });
    for (const [owner, nick] of now) {
      const was = this.known.get(owner);
      if (was === undefined) out.push({ type: 'user_joined', payload: { room_id: roomId, user_name: nick } });
      else if (was !== nick)
        out.push({ type: 'nick_changed', payload: { room_id: roomId, old_name: was, user_name: nick } });
    }
    this.known.clear();
    for (const [owner, nick] of now) this.known.set(owner, nick);
    return out;
  }
}
