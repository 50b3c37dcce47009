/**
 * The client's config file: `$XDG_CONFIG_HOME/chat/config.json` (`~/.config/chat/config.json`),
 * or the file `chat connect --config PATH` names. It holds the server and nick to use, the rooms
 * to join (kept up to date as you join and leave, unless `save_rooms` is false) with the last seq
 * seen in each (so a restart rejoins with `since_seq` and replays what was missed), the /ignore
 * list and the bell setting. Passwords are never written.
 */

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { ROOM_ID_PATTERN } from '../protocol/limits.js';

const Schema = z
  .object({
    /** WebSocket URL, e.g. ws://chat.example.org:8080/ws (flags win over it). */
    server: z
      .string()
      .regex(/^wss?:\/\//, 'must be a ws:// or wss:// URL')
      .optional(),
    nick: z.string().min(1).max(64).optional(),
    /** Rooms to join at start, in sidebar order. */
    rooms: z.array(z.string().regex(ROOM_ID_PATTERN, 'is not a room name')).max(500).optional(),
    /** Keep `rooms` (and `last_seq`) up to date as you join and leave (default true). */
    save_rooms: z.boolean().optional(),
    /** The last seq seen in each room: rejoined with since_seq. */
    last_seq: z.record(z.string(), z.number().int().nonnegative()).optional(),
    /** The server (URL) whose seqs `last_seq` holds: another server's rooms count their own. */
    last_seq_server: z.string().max(2048).optional(),
    /** Each room's `joined.epoch` when its `last_seq` was seen: the history that seq counts in. */
    epochs: z.record(z.string(), z.string().min(1).max(32)).optional(),
    ignores: z.array(z.string().min(1).max(64)).max(1000).optional(),
    /** Ring the terminal bell on a mention or a DM (default true). */
    bell: z.boolean().optional(),
  })
  // Keys this version does not know are kept as they are: a newer client may have written them.
  .passthrough();

/** The config file's content. */
export type ClientConfig = z.infer<typeof Schema>;

/** Where the config lives: `explicit` (--config), else under $XDG_CONFIG_HOME or ~/.config. */
export function configPath(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit) return explicit;
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'chat', 'config.json');
}

/**
 * Reads the config. A missing file is an empty config; a file that is not valid JSON or has
 * wrong values throws with a message naming the file and the field (the client refuses to start
 * rather than overwrite what the user wrote).
 */
export function loadConfig(path: string): ClientConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`cannot read ${path}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = Schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'the file';
    throw new Error(`${path}: ${where} ${issue?.message ?? 'is not valid'}`);
  }
  return parsed.data;
}

/** Writes the config atomically (a crash mid-write leaves the old file), readable by you alone. */
export function saveConfig(path: string, config: ClientConfig): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}
