/** The server's public surface: start one, and the pieces tests drive directly. */
export { startServer, type RunningServer, type ServerOptions } from './server.js';
export { Hub, SERVER_VERSION, type HubOptions } from './hub.js';
export { Room } from './room.js';
export { Session } from './session.js';
export type { Connection, CloseReason, TransportKind } from './connection.js';
export { Outbound } from './outbound.js';
