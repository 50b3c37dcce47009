/** The wire protocol shared by the server, the TUI client and every transport. */
export * from './errors.js';
export * from './events.js';
export * from './schema.js';
export * from './codec.js';
export * from './limits.js';
export * from './nick.js';
export * from './sanitize.js';
export * from './commands.js';
