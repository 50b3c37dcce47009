import type { OptionSpec } from './spec.js';

const CONNECT = 'Connect options';

/** The defaults of `chat connect` (the config file's server, when it names one, comes first). */
export const CONNECT_DEFAULTS = { host: '127.0.0.1', port: 8080 } as const;

/**
 * Every `chat connect` flag. `--port` and `--host` are `chat serve`'s flags too (meow holds one
 * definition, from the serve table); here they have the client's defaults.
 */
export const CONNECT_OPTIONS = [
  {
    section: CONNECT,
    flag: 'port',
    arg: 'N',
    type: 'number',
    default: CONNECT_DEFAULTS.port,
    parseDefault: false,
    meaning: 'server port to connect to',
  },
  {
    section: CONNECT,
    flag: 'host',
    arg: 'H',
    type: 'string',
    default: CONNECT_DEFAULTS.host,
    parseDefault: false,
    meaning: 'server to connect to',
  },
  {
    section: CONNECT,
    flag: 'url',
    arg: 'URL',
    type: 'string',
    meaning: 'full WebSocket URL instead of host and port',
  },
  {
    section: CONNECT,
    flag: 'nick',
    arg: 'NAME',
    type: 'string',
    default: { computed: '$USER' },
    meaning: 'your nick',
  },
  {
    section: CONNECT,
    flag: 'config',
    arg: 'PATH',
    type: 'string',
    default: { computed: '$XDG_CONFIG_HOME/chat/config.json' },
    meaning: 'config file (server, nick, rooms, ignores, bell)',
  },
] as const satisfies readonly OptionSpec[];
