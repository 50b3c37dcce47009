import { DEFAULT_ROOM } from '../protocol/limits.js';
import { MAX_CLIENTS_CEILING, RESERVED_FDS } from '../server/limits/fd-limit.js';
import { LOG_LEVELS } from '../server/log.js';
import type { OptionSpec } from './spec.js';

/**
 * The default of every `chat serve` setting that has a fixed one, in the flag's own unit (seconds,
 * minutes, percent, per second or per minute as the flag takes it). The one place these numbers
 * are written: the flags, `--help`, the server, the hub and the limiters read them from here.
 */
export const SERVE_DEFAULTS = {
  port: 8080,
  host: '0.0.0.0',
  defaultRoom: DEFAULT_ROOM,
  sync: 'normal',
  /** `--retain` is unset (all kept) on disk; the memory store keeps this many per room. */
  retainInMemory: 10_000,
  logLevel: 'info',
  writeDelay: 0,
  maxWriteDelay: 25,
  writeShare: 25,
  maxQueueBytes: 1024 * 1024,
  maxRoomsPerUser: 100,
  maxMembersPerRoom: 100_000,
  msgBurst: 10,
  msgRate: 5,
  maxRooms: 10_000,
  roomBurst: 10,
  roomsPerMinute: 10,
  roomBurstPerIp: 20,
  roomsPerMinutePerIp: 10,
  roomIdleExpiry: 60,
  readBurst: 20,
  readsPerSecond: 5,
  readBurstPerIp: 100,
  readsPerSecondPerIp: 20,
  presenceBurst: 50,
  presencePerMinute: 60,
  presenceBurstPerIp: 300,
  presencePerMinutePerIp: 600,
  passwordBurst: 10,
  passwordsPerMinute: 30,
  maxPerIp: 16,
  connectsPerMinute: 60,
  headerTimeout: 10,
  identifyTimeout: 30,
  shutdownTimeout: 5,
  filterMode: 'mask',
} as const;

const D = SERVE_DEFAULTS;
const SERVE = 'Server options';
const LIMITS = 'Limits and security';

/**
 * Every `chat serve` flag: `--help` and meow's flag definitions are built from this table, and
 * test/options/readme-options.test.ts checks the README's two options tables (one per section)
 * list exactly these flags with these defaults.
 */
export const SERVE_OPTIONS = [
  { section: SERVE, flag: 'port', arg: 'N', type: 'number', default: D.port, parseDefault: false, meaning: 'WebSocket + HTTP port (0 picks a free one)' },
  { section: SERVE, flag: 'host', arg: 'H', type: 'string', default: D.host, parseDefault: false, meaning: 'address to listen on' },
  { section: SERVE, flag: 'tcp-port', arg: 'N', type: 'number', shown: 'off', meaning: 'also serve plain TCP line clients (nc, telnet) on N (0 = a free port)' },
  { section: SERVE, flag: 'default-room', arg: 'ID', type: 'string', default: D.defaultRoom, meaning: 'the room everybody starts in' },
  { section: SERVE, flag: 'data-dir', arg: 'DIR', type: 'string', default: { computed: '$XDG_DATA_HOME/chat or ~/.local/share/chat' }, meaning: 'where history is kept' },
  { section: SERVE, flag: 'memory', type: 'boolean', default: false, meaning: 'keep nothing on disk' },
  { section: SERVE, flag: 'sync', arg: 'normal|full', type: 'string', choices: ['normal', 'full'], default: D.sync, meaning: 'SQLite synchronous mode (full survives power loss)' },
  { section: SERVE, flag: 'retain', arg: 'N', type: 'number', unit: 'messages', shown: `all (memory: ${D.retainInMemory})`, meaning: 'messages kept per room, older ones deleted' },
  { section: SERVE, flag: 'skip-db-check', type: 'boolean', default: false, meaning: 'start without PRAGMA quick_check of chat.db (it reads every page: for huge files); a damaged file is refused otherwise' },
  { section: SERVE, flag: 'log-level', arg: 'LEVEL', type: 'string', choices: LOG_LEVELS, default: D.logLevel, meaning: LOG_LEVELS.join('|') },
  { section: SERVE, flag: 'compression', type: 'boolean', default: false, meaning: 'permessage-deflate for WebSocket clients' },
  // The write pacing flags: `chat bench` passes them to the server it starts only when given.
  { section: SERVE, flag: 'write-delay', arg: 'MS', type: 'number', unit: 'ms', default: D.writeDelay, parseDefault: false, meaning: 'under sustained traffic, write each socket at most every MS ms, batching events into fewer syscalls (trades latency for CPU)' },
  { section: SERVE, flag: 'max-write-delay', arg: 'MS', type: 'number', unit: 'ms', default: D.maxWriteDelay, parseDefault: false, meaning: 'latency budget of the automatic write spacing: when writing takes more than --write-share of the event loop, flushes wait up to MS ms so each write carries more events (0 = off)' },
  { section: SERVE, flag: 'write-share', arg: 'PCT', type: 'number', unit: '%', default: D.writeShare, parseDefault: false, meaning: 'share of the event loop writing may take before spacing starts' },

  { section: LIMITS, flag: 'msg-burst', arg: 'N', type: 'number', unit: 'messages', default: D.msgBurst, meaning: 'messages a connection may send at once' },
  { section: LIMITS, flag: 'msg-rate', arg: 'N', type: 'number', unit: 'per second', default: D.msgRate, meaning: 'messages per second after the burst, per connection (POST /post: per address; 0 = no limit)' },
  { section: LIMITS, flag: 'password-burst', arg: 'N', type: 'number', default: D.passwordBurst, meaning: 'password checks (hello with a password, register) one address may make at once' },
  { section: LIMITS, flag: 'passwords-per-minute', arg: 'N', type: 'number', unit: 'per minute', default: D.passwordsPerMinute, meaning: 'password checks per address per minute after the burst (0 = no limit; loopback too)' },
  { section: LIMITS, flag: 'max-rooms', arg: 'N', type: 'number', default: D.maxRooms, meaning: 'rooms the server holds (past it: server_rooms_full)' },
  { section: LIMITS, flag: 'room-burst', arg: 'N', type: 'number', default: D.roomBurst, meaning: 'new rooms a connection may create at once' },
  { section: LIMITS, flag: 'rooms-per-minute', arg: 'N', type: 'number', unit: 'per minute', default: D.roomsPerMinute, meaning: 'new rooms per connection per minute after the burst (0 = no limit)' },
  { section: LIMITS, flag: 'room-burst-per-ip', arg: 'N', type: 'number', default: D.roomBurstPerIp, meaning: 'new rooms one address may create at once (loopback too)' },
  { section: LIMITS, flag: 'rooms-per-minute-per-ip', arg: 'N', type: 'number', unit: 'per minute', default: D.roomsPerMinutePerIp, meaning: 'new rooms per address per minute (0 = no limit)' },
  { section: LIMITS, flag: 'room-idle-expiry', arg: 'M', type: 'number', unit: 'min', default: D.roomIdleExpiry, meaning: 'delete a room empty for M minutes, with its history, unless a registered nick created it (0 = never)' },
  { section: LIMITS, flag: 'read-burst', arg: 'N', type: 'number', default: D.readBurst, meaning: 'reads (history, users, rooms) a connection may make at once' },
  { section: LIMITS, flag: 'reads-per-second', arg: 'N', type: 'number', unit: 'per second', default: D.readsPerSecond, meaning: 'reads per connection per second after the burst (0 = no limit)' },
  { section: LIMITS, flag: 'read-burst-per-ip', arg: 'N', type: 'number', default: D.readBurstPerIp, meaning: 'reads one address may make at once (loopback too)' },
  { section: LIMITS, flag: 'reads-per-second-per-ip', arg: 'N', type: 'number', unit: 'per second', default: D.readsPerSecondPerIp, meaning: 'reads per address per second (0 = no limit)' },
  { section: LIMITS, flag: 'presence-burst', arg: 'N', type: 'number', default: D.presenceBurst, meaning: 'joins, leaves and nick changes a connection may make at once' },
  { section: LIMITS, flag: 'presence-per-minute', arg: 'N', type: 'number', unit: 'per minute', default: D.presencePerMinute, meaning: 'of those per connection per minute (0 = no limit)' },
  { section: LIMITS, flag: 'presence-burst-per-ip', arg: 'N', type: 'number', default: D.presenceBurstPerIp, meaning: 'of those one address may make at once (loopback too)' },
  { section: LIMITS, flag: 'presence-per-minute-per-ip', arg: 'N', type: 'number', unit: 'per minute', default: D.presencePerMinutePerIp, meaning: 'of those per address per minute (0 = no limit)' },
  {
    section: LIMITS,
    flag: 'max-clients',
    arg: 'N',
    type: 'number',
    // Read at start: limits/fd-limit.ts.
    default: { computed: `what the open-file limit allows (ulimit -n less ${RESERVED_FDS}, less 10%), at most ${MAX_CLIENTS_CEILING}; the log says which at start` },
    meaning: 'connections server-wide, every door (HTTP too)',
  },
  { section: LIMITS, flag: 'max-per-ip', arg: 'N', type: 'number', default: D.maxPerIp, meaning: 'open connections per address, HTTP sockets included' },
  { section: LIMITS, flag: 'connects-per-minute', arg: 'N', type: 'number', unit: 'per minute', default: D.connectsPerMinute, meaning: 'new connections per address per minute' },
  { section: LIMITS, flag: 'limit-exempt', arg: 'CIDR', type: 'string', multiple: true, shown: '127.0.0.1 and ::1', meaning: 'exempt from per-address limits (repeatable)' },
  { section: LIMITS, flag: 'header-timeout', arg: 'S', type: 'number', unit: 's', default: D.headerTimeout, meaning: 'close HTTP connections that have not sent a whole request head within S seconds (answered 408)' },
  { section: LIMITS, flag: 'max-queue-bytes', arg: 'N', type: 'number', unit: 'bytes', default: D.maxQueueBytes, meaning: 'outbound bytes queued per client before it is cut' },
  { section: LIMITS, flag: 'identify-timeout', arg: 'S', type: 'number', unit: 's', default: D.identifyTimeout, meaning: 'close connections that send no hello within S seconds' },
  { section: LIMITS, flag: 'max-rooms-per-user', arg: 'N', type: 'number', default: D.maxRoomsPerUser, meaning: 'rooms one connection may be in at once' },
  { section: LIMITS, flag: 'max-members-per-room', arg: 'N', type: 'number', default: D.maxMembersPerRoom, meaning: 'members one room may hold' },
  { section: LIMITS, flag: 'allow-origin', arg: 'ORIGIN', type: 'string', multiple: true, shown: 'the server\'s own only', meaning: 'browser origin allowed besides the server\'s own (repeatable, * = any)' },
  { section: LIMITS, flag: 'public-url', shown: 'none', arg: 'URL', type: 'string', meaning: 'the URL people open (e.g. https://chat.example.com behind a proxy); its origin is the server\'s own besides the listen address' },
  { section: LIMITS, flag: 'tls-cert', shown: 'none', arg: 'FILE', type: 'string', meaning: 'PEM certificate: serve wss:// and https:// (and TLS on --tcp-port)' },
  { section: LIMITS, flag: 'tls-key', shown: 'none', arg: 'FILE', type: 'string', meaning: 'PEM private key for --tls-cert' },
  { section: LIMITS, flag: 'shutdown-timeout', arg: 'S', type: 'number', unit: 's', default: D.shutdownTimeout, meaning: 'on SIGINT/SIGTERM, exit within S seconds' },
  { section: LIMITS, flag: 'filter-words', shown: 'none', arg: 'FILE', type: 'string', meaning: 'moderation word list, one per line' },
  { section: LIMITS, flag: 'filter-mode', arg: 'MODE', type: 'string', choices: ['mask', 'refuse'], default: D.filterMode, meaning: 'mask|refuse listed words' },
  { section: LIMITS, flag: 'filter-module', shown: 'none', arg: 'FILE', type: 'string', meaning: 'an ES module default-exporting a message filter (see docs/moderation.md)' },
] as const satisfies readonly OptionSpec[];
