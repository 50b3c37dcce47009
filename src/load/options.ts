/** `chat bench` settings after validation. */
export interface BenchOptions {
  /** A running server's WebSocket URL; undefined: start one. */
  url: string | undefined;
  clients: number;
  rooms: number;
  publishers: number;
  rate: number;
  durationS: number;
  size: number;
  json: boolean;
  /** Load through the IRC door (`--irc`) of the server started here, instead of WebSocket. */
  irc: boolean;
  /** For a server started here: keep nothing on disk (default: SQLite in a temporary directory). */
  memory: boolean;
  /** For a server started here: its per-connection message limit (`--msg-rate`; 0 = none). */
  msgRate: number;
  /** For a server started here: extra `chat serve` flags (--write-delay, --max-write-delay, --write-share, --msg-rate). */
  serveArgs: string[];
}

/** Above this many connections to one address the loader uses several source addresses. */
export const CONNECTIONS_PER_SOURCE = 20_000;

/** The server's default per-connection limit, messages per second after the burst. */
export const DEFAULT_MSG_RATE = 5;

/** A default publisher sends this share of the per-connection limit (4/s under the default 5/s). */
export const PUBLISHER_SHARE = 0.8;

export const BENCH_DEFAULTS = {
  clients: 1000,
  rooms: 1,
  publishers: 1,
  rate: 1000,
  duration: 10,
  size: 100,
} as const;

/** Hard bounds: the benchmark always ends and never floods more than the local machine. */
const LIMITS = {
  clients: [1, 200_000],
  rooms: [1, 100_000],
  publishers: [1, 100_000],
  rate: [0, 2_000_000],
  duration: [0.1, 3600],
  size: [20, 4000],
} as const;

function numberFlag(flags: Record<string, unknown>, name: keyof typeof LIMITS): number {
  const raw = flags[name] ?? BENCH_DEFAULTS[name];
  const value = typeof raw === 'string' ? Number(raw) : raw;
  const [min, max] = LIMITS[name];
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new Error(`--${name} must be a number from ${min} to ${max}, got ${String(raw)}`);
  }
  if (name !== 'duration' && name !== 'rate' && !Number.isInteger(value))
    throw new Error(`--${name} must be a whole number, got ${value}`);
  return value;
}

/** True for 127.0.0.0/8, ::1 and localhost: the benchmark only ever loads this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Validates the CLI flags; throws an Error whose message is meant for the user. */
export function parseBenchOptions(flags: Record<string, unknown>): BenchOptions {
  const clients = numberFlag(flags, 'clients');
  const rooms = numberFlag(flags, 'rooms');
  const rate = numberFlag(flags, 'rate');
  const msgRate = flags.msgRate === undefined ? DEFAULT_MSG_RATE : Number(flags.msgRate);
  if (!Number.isInteger(msgRate) || msgRate < 0 || msgRate > 1_000_000)
    throw new Error(`--msg-rate must be a whole number from 0 to 1000000, got ${String(flags.msgRate)}`);
  // By default enough publishers that each stays under the server's per-connection limit
  // (5 msgs/s after a burst of 10 unless --msg-rate says otherwise): a benchmark should measure
  // fan-out, not the flood guard. Without a limit, one publisher per room.
  const publishers =
    flags.publishers === undefined
      ? Math.min(clients, msgRate === 0 ? rooms : Math.max(1, Math.ceil(rate / (PUBLISHER_SHARE * msgRate))))
      : numberFlag(flags, 'publishers');
  if (rooms > clients) throw new Error(`--rooms (${rooms}) cannot exceed --clients (${clients})`);
  if (publishers > clients)
    throw new Error(`--publishers (${publishers}) cannot exceed --clients (${clients})`);
  const url = typeof flags.url === 'string' && flags.url !== '' ? flags.url : undefined;
  if (url !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error(`--url is not a URL: ${url}`);
    }
    if (parsed.protocol !== 'ws:')
      throw new Error(
        `--url must be ws://... (the benchmark speaks plain WebSocket), got ${parsed.protocol}`,
      );
    if (!isLoopbackHost(parsed.hostname))
      throw new Error(
        `chat bench only loads this machine: --url must point at 127.0.0.1, ::1 or localhost, got ${parsed.hostname}`,
      );
  }
  return {
    url,
    clients,
    rooms,
    publishers,
    rate,
    durationS: numberFlag(flags, 'duration'),
    size: numberFlag(flags, 'size'),
    json: flags.json === true,
    irc: flags.irc === true,
    memory: flags.memory === true,
    msgRate,
    serveArgs: [
      ...(msgRate !== DEFAULT_MSG_RATE ? ['--msg-rate', String(msgRate)] : []),
      ...(typeof flags.writeDelay === 'number' ? ['--write-delay', String(flags.writeDelay)] : []),
      ...(typeof flags.maxWriteDelay === 'number' ? ['--max-write-delay', String(flags.maxWriteDelay)] : []),
      ...(typeof flags.writeShare === 'number' ? ['--write-share', String(flags.writeShare)] : []),
    ],
  };
}

/** Source addresses for `clients` connections to `host`: one, or several 127.0.0.x past the per-address budget. */
export function sourceAddresses(host: string, clients: number): string[] {
  if (clients <= CONNECTIONS_PER_SOURCE || !/^127\./.test(host)) return [];
  const n = Math.ceil(clients / CONNECTIONS_PER_SOURCE);
  return Array.from({ length: n }, (_, k) => `127.0.0.${k + 1}`);
}
