import type Database from 'better-sqlite3';
import type { RoomModes } from '../../protocol/events.js';
import type { RoomSettings } from './store-types.js';

interface SettingsRow {
  room_id: string;
  topic: string | null;
  topic_by: string | null;
  topic_ts: number | null;
  owner_key: string | null;
  owner_name: string | null;
  modes: string;
}

interface RoleRow {
  room_id: string;
  nick_key: string;
  user_name: string;
  role: 'operator' | 'voice';
}

interface BanRow {
  room_id: string;
  mask: string;
  set_by: string;
  set_ts: number;
}

/**
 * The SQLite side of {@link RoomSettings} (schema step 4): topic, owner and modes are columns of
 * `rooms`; operators and voiced nicks rows of `room_roles`; bans rows of `room_bans`. A save
 * replaces all of a room's settings in one transaction (the lists are short: see
 * MAX_BANS_PER_ROOM, MAX_ROLES_PER_ROOM).
 */
export class SqliteRoomSettings {
  private readonly stmt;
  /** Replaces a room's settings; throws for an unknown room. */
  readonly save: (roomId: string, settings: RoomSettings) => void;

  constructor(db: Database.Database) {
    this.stmt = {
      all: db.prepare<[], SettingsRow>(
        'SELECT room_id, topic, topic_by, topic_ts, owner_key, owner_name, modes FROM rooms',
      ),
      roles: db.prepare<[], RoleRow>(
        'SELECT room_id, nick_key, user_name, role FROM room_roles ORDER BY rowid',
      ),
      bans: db.prepare<[], BanRow>('SELECT room_id, mask, set_by, set_ts FROM room_bans ORDER BY rowid'),
      update: db.prepare<Omit<SettingsRow, never>>(
        `UPDATE rooms SET topic = @topic, topic_by = @topic_by, topic_ts = @topic_ts,
           owner_key = @owner_key, owner_name = @owner_name, modes = @modes WHERE room_id = @room_id`,
      ),
      deleteRoles: db.prepare<[string]>('DELETE FROM room_roles WHERE room_id = ?'),
      deleteBans: db.prepare<[string]>('DELETE FROM room_bans WHERE room_id = ?'),
      insertRole: db.prepare<RoleRow>(
        'INSERT INTO room_roles (room_id, nick_key, user_name, role) VALUES (@room_id, @nick_key, @user_name, @role)',
      ),
      insertBan: db.prepare<BanRow>(
        'INSERT INTO room_bans (room_id, mask, set_by, set_ts) VALUES (@room_id, @mask, @set_by, @set_ts)',
      ),
    };
    this.save = db.transaction((roomId: string, s: RoomSettings) => {
      const changed = this.stmt.update.run({
        room_id: roomId,
        topic: s.topic?.text ?? null,
        topic_by: s.topic?.set_by ?? null,
        topic_ts: s.topic?.set_ts ?? null,
        owner_key: s.owner?.key ?? null,
        owner_name: s.owner?.nick ?? null,
        modes: modeLetters(s.modes),
      }).changes;
      if (changed === 0) throw new Error(`no such room ${roomId}`);
      this.forget(roomId);
      for (const r of s.operators)
        this.stmt.insertRole.run({ room_id: roomId, nick_key: r.key, user_name: r.nick, role: 'operator' });
      for (const r of s.voiced)
        this.stmt.insertRole.run({ room_id: roomId, nick_key: r.key, user_name: r.nick, role: 'voice' });
      for (const b of s.bans) this.stmt.insertBan.run({ room_id: roomId, ...b });
    });
  }

  /** Deletes a room's role and ban rows (before the room itself: they reference it). */
  forget(roomId: string): void {
    this.stmt.deleteRoles.run(roomId);
    this.stmt.deleteBans.run(roomId);
  }

  /** Every room's settings that are not all defaults, by room id (see RoomRecord.settings). */
  loadAll(): Map<string, RoomSettings> {
    const out = new Map<string, RoomSettings>();
    for (const row of this.stmt.all.all()) {
      const settings: RoomSettings = {
        modes: parseModeLetters(row.modes),
        operators: [],
        voiced: [],
        bans: [],
      };
      if (row.topic !== null)
        settings.topic = { text: row.topic, set_by: row.topic_by ?? '', set_ts: row.topic_ts ?? 0 };
      if (row.owner_key !== null)
        settings.owner = { key: row.owner_key, nick: row.owner_name ?? row.owner_key };
      out.set(row.room_id, settings);
    }
    for (const r of this.stmt.roles.all()) {
      const list = r.role === 'operator' ? out.get(r.room_id)?.operators : out.get(r.room_id)?.voiced;
      list?.push({ key: r.nick_key, nick: r.user_name });
    }
    for (const b of this.stmt.bans.all())
      out.get(b.room_id)?.bans.push({ mask: b.mask, set_by: b.set_by, set_ts: b.set_ts });
    for (const [roomId, s] of out) if (isDefault(s)) out.delete(roomId);
    return out;
  }
}

/** `{topic_locked, invite_only, moderated}` as sorted letters (`imt`). */
export function modeLetters(modes: RoomModes): string {
  return `${modes.invite_only ? 'i' : ''}${modes.moderated ? 'm' : ''}${modes.topic_locked ? 't' : ''}`;
}

/** The inverse of {@link modeLetters}. */
export function parseModeLetters(letters: string): RoomModes {
  return {
    topic_locked: letters.includes('t'),
    invite_only: letters.includes('i'),
    moderated: letters.includes('m'),
  };
}

/** Nothing set: the record carries no settings then (as the memory store gives it). */
function isDefault(s: RoomSettings): boolean {
  return (
    s.topic === undefined &&
    s.owner === undefined &&
    modeLetters(s.modes) === '' &&
    s.operators.length === 0 &&
    s.voiced.length === 0 &&
    s.bans.length === 0
  );
}
