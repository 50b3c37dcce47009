import { saveConfig, type ClientConfig } from './config.js';
import type { ChatState } from './state/types.js';
import type { Store } from './state/state-store.js';

/**
 * The config as the state says it should now be: the rooms you are in (in sidebar order, plus
 * remembered ones whose join has not come back yet, so a slow start never forgets them) with the
 * newest seq held in each, and the ignore list. With `save_rooms: false` the room list stays
 * as written; its seqs still follow.
 */
export function nextConfig(
  config: ClientConfig,
  state: ChatState,
  waiting: ReadonlySet<string>,
): ClientConfig {
  const inState = state.order.filter((id) => state.conversations[id]?.kind === 'room');
  const rooms =
    config.save_rooms === false
      ? (config.rooms ?? [])
      : [...inState, ...(config.rooms ?? []).filter((id) => waiting.has(id) && !inState.includes(id))];
  const lastSeq: Record<string, number> = {};
  const epochs: Record<string, string> = {};
  for (const id of rooms) {
    const conv = state.conversations[id];
    // A seq and its epoch are kept together: from the state when it holds the room's messages,
    // else as remembered (a room whose join has not come back yet).
    const held = conv !== undefined && conv.newestSeq > 0;
    const seq = held ? conv.newestSeq : config.last_seq?.[id];
    const epoch = held ? conv.epoch : config.epochs?.[id];
    if (seq) lastSeq[id] = seq;
    if (seq && epoch !== undefined) epochs[id] = epoch;
  }
  const next: ClientConfig = { ...config, rooms, last_seq: lastSeq };
  if (Object.keys(epochs).length > 0 || config.epochs !== undefined) next.epochs = epochs;
  if (state.ignores.length > 0 || config.ignores !== undefined) next.ignores = [...state.ignores];
  return next;
}

/**
 * The config as a session with `url` starts from: `last_seq` is kept only when it was written
 * for that same server, and is from now on written for it. Seqs number one server's rooms: a
 * room of the same name on another server (or a server started afresh elsewhere) counts its
 * own, so rejoining it from a remembered seq would skip what came before that number, or take
 * a different server's newer messages for ones already seen. Without a match the rooms are
 * still joined, without `since_seq`: their latest page shows instead of a replay. A file
 * written before the server was recorded counts as another server, once.
 */
export function forServer(config: ClientConfig, url: string): ClientConfig {
  if (config.last_seq_server === url) return config;
  const { epochs: _forgotten, ...rest } = config;
  return { ...rest, last_seq: {}, last_seq_server: url };
}

/** What {@link followConfig} returns. */
export interface ConfigFollower {
  /** Writes a pending change now (on quit). */
  flush(): void;
  /** Flushes and stops following. */
  stop(): void;
}

/**
 * Keeps the config file in step with the store: a change (join, leave, ignore, new messages'
 * seqs) is written `delayMs` later, at most once per delay, and at once on `flush`.
 */
export function followConfig(
  store: Store,
  path: string,
  initial: ClientConfig,
  options: { delayMs?: number; save?: (path: string, config: ClientConfig) => void } = {},
): ConfigFollower {
  const delayMs = options.delayMs ?? 2_000;
  const save = options.save ?? saveConfig;
  const waiting = new Set(initial.rooms ?? []);
  let config = initial;
  let written = JSON.stringify(initial);
  let timer: NodeJS.Timeout | undefined;
  let lastError = '';

  const update = () => {
    const state = store.getState();
    for (const id of state.order) waiting.delete(id);
    config = nextConfig(config, state, waiting);
    if (JSON.stringify(config) !== written && timer === undefined) timer = setTimeout(flush, delayMs);
  };
  function flush(): void {
    clearTimeout(timer);
    timer = undefined;
    const text = JSON.stringify(config);
    if (text === written) return;
    try {
      save(path, config);
      written = text;
    } catch (err) {
      // A read-only or full disk must not take the chat down; the next change tries again.
      const text = `cannot save ${path}: ${(err as Error).message}`;
      if (text !== lastError) store.dispatch({ type: 'notice', text, tone: 'error', now: Date.now() });
      lastError = text;
    }
  }
  const unsubscribe = store.subscribe(update);
  return {
    flush,
    stop() {
      unsubscribe();
      update();
      flush();
    },
  };
}
