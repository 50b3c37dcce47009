import { z } from 'zod';

/**
 * Shapes of client requests: which fields exist and their JSON types. Domain rules with their
 * own error codes (room id pattern, nick rules, message length) are checked by the codec after
 * the shape, so a client learns exactly what was wrong.
 */
const roomId = z.string();
const optionalUser = {
  user_id: z.string().max(256).optional(),
  user_name: z.string().optional(),
};
const seq = z.number().int().nonnegative();

export const requestSchemas = {
  hello: z.object({
    user_name: z.string(),
    password: z.string().optional(),
    user_id: z.string().max(256).optional(),
    /** The token from an earlier `welcome`: takes the nick over from a connection that died unnoticed. */
    resume_token: z.string().max(64).optional(),
  }),
  create_room: z.object({ room_id: roomId, room_name: z.string().optional(), ...optionalUser }),
  /**
   * `epoch`: the room's `joined.epoch` when `since_seq` was seen; a room whose history was made
   * anew since (another server, a new data directory, a room that expired and was made again)
   * answers with its latest page instead of a replay from a seq that meant something else.
   */
  join: z.object({
    room_id: roomId,
    since_seq: seq.optional(),
    epoch: z.string().min(1).max(32).optional(),
    ...optionalUser,
  }),
  /** `reason`: the leaver's words (IRC's PART message), shown to the room with `user_left`. */
  leave: z.object({ room_id: roomId, reason: z.string().optional() }),
  message: z.object({
    room_id: roomId,
    message: z.string(),
    client_msg_id: z.string().min(1).max(64).optional(),
    /** `action` for `/me waves`; absent for plain speech. */
    kind: z.literal('action').optional(),
  }),
  dm: z.object({ to: z.string(), message: z.string(), kind: z.literal('action').optional() }),
  nick: z.object({ user_name: z.string() }),
  rooms: z
    .object({
      /** Only rooms whose id or name contains this (ignoring case). */
      filter: z.string().max(100).optional(),
      /** The `next_cursor` of the previous page. */
      cursor: z.string().max(200).optional(),
      limit: z.number().int().positive().optional(),
    })
    .nullish(),
  users: z.object({ room_id: roomId }),
  ping: z.object({ ts: z.number().optional() }).nullish(),
  history: z.object({
    room_id: roomId,
    before_seq: seq.optional(),
    limit: z.number().int().positive().optional(),
  }),
  register: z.object({ password: z.string() }),
  /** Sets the away message; no message (or an empty one) means back. */
  away: z.object({ message: z.string().optional() }).nullish(),
  /** Ends the connection; others see a quit with the reason. */
  quit: z.object({ reason: z.string().optional() }).nullish(),
  whois: z.object({ user_name: z.string() }),
  /** Without `topic`: asks for the topic; with it: sets it (an empty string clears it). */
  topic: z.object({ room_id: roomId, topic: z.string().optional() }),
  /** Grants or removes a role: `operator` (owner only), `voice`, or `none`. */
  role: z.object({ room_id: roomId, user_name: z.string(), role: z.enum(['operator', 'voice', 'none']) }),
  kick: z.object({ room_id: roomId, user_name: z.string(), reason: z.string().optional() }),
  /** Without `mask`: lists the bans. */
  ban: z.object({ room_id: roomId, mask: z.string().optional() }),
  unban: z.object({ room_id: roomId, mask: z.string() }),
  invite: z.object({ room_id: roomId, user_name: z.string() }),
  /** Without `modes`: asks for them; with e.g. `"+tm"` or `"-i"`: changes them. */
  mode: z.object({ room_id: roomId, modes: z.string().optional() }),
  /** Server operators only: disconnects a user. */
  kill: z.object({ user_name: z.string(), reason: z.string().optional() }),
} as const;

/** Every request type a client may send. */
export type RequestType = keyof typeof requestSchemas;

/** The payload of request `T`, after validation. */
export type RequestPayload<T extends RequestType> = z.output<(typeof requestSchemas)[T]>;

/** A validated client request: a discriminated union over `type`. */
export type ClientMessage = {
  [T in RequestType]: { type: T; payload: RequestPayload<T>; ref?: string | number };
}[RequestType];

/** True when `type` names a request the server handles. */
export function isRequestType(type: string): type is RequestType {
  return Object.prototype.hasOwnProperty.call(requestSchemas, type);
}
