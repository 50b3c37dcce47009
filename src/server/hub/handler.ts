import { RequestError } from '../../protocol/errors.js';
import type { RequestPayload, RequestType } from '../../protocol/schema.js';
import type { CloseReason } from '../connection.js';
import type { Room } from '../room.js';
import type { Session } from '../session.js';
import type { ChargedLimit, Charges } from './charges.js';
import { assertIdentified, type IdentifiedSession, type Identities } from './identity.js';
import type { ResolvedHubOptions } from './options.js';
import type { RoomRegistry } from './rooms.js';

/** What the handlers work with: the hub's parts, never the hub itself. */
export interface HubContext {
  readonly options: ResolvedHubOptions;
  readonly rooms: RoomRegistry;
  readonly identities: Identities;
  readonly charges: Charges;
  readonly counters: HubCounters;
  /** Ends a session (the hub's disconnect): its rooms see a quit with the reason. */
  readonly disconnect: (session: Session, reason: CloseReason) => void;
}

/** Counters for stats and metrics. */
export interface HubCounters {
  messagesIn: number;
  framesIn: number;
  errorsOut: number;
  slowConsumers: number;
}

/**
 * What must hold before a handler runs, checked by {@link runHandler} in this order (the order of
 * the errors a client gets when several fail).
 */
export interface Needs {
  /** The session has a nick (`not_identified`); the handler gets an {@link IdentifiedSession}. */
  identity?: true;
  /** `payload.room_id` names a room (`no_such_room`); the handler gets the {@link Room}. */
  room?: true;
  /** The session is a member of that room (`not_in_room`, worded by this function). */
  member?: (roomId: string) => string;
  /**
   * The session is an operator of that room: its owner, an operator, or a server operator
   * (`not_operator`). A server operator needs no membership. A function: only when it returns
   * true for the payload (`mode` and `ban` only read without an argument).
   */
  operator?: true | ((payload: never) => boolean);
  /** The session is a server operator (`not_server_operator`). */
  serverOperator?: true;
  /** The limit charged (per connection and per address) once the checks above passed. */
  charge?: ChargedLimit;
}

/** One request as a handler sees it, typed by what its entry needs. */
export type Request<T extends RequestType, N extends Needs> = {
  session: N extends { identity: true } ? IdentifiedSession : Session;
  payload: RequestPayload<T>;
  ref: string | number | undefined;
} & (N extends { room: true } ? { room: Room } : unknown);

/** One entry of the handler table: a request type, its preconditions and its handler. */
export interface HandlerEntry<T extends RequestType = RequestType> {
  readonly type: T;
  readonly needs: Needs;
  readonly run: (request: Request<T, Needs> & { room?: Room }, hub: HubContext) => void | Promise<void>;
}

/**
 * Builds a table entry; the handler's request is typed by the type and needs given (`NoInfer`:
 * from the needs, not from the handler). `room` is refused at compile time for a request whose
 * payload names no room.
 */
export function handler<T extends RequestType, const N extends Needs>(
  type: T,
  needs: N &
    (N extends { room: true }
      ? RequestPayload<T> extends { room_id: string }
        ? unknown
        : { room: 'only for requests that name a room' }
      : unknown),
  run: (request: Request<T, NoInfer<N>>, hub: HubContext) => void | Promise<void>,
): HandlerEntry<T> {
  return { type, needs, run: run as HandlerEntry<T>['run'] };
}

/**
 * Checks an entry's preconditions, then runs its handler: the one place they are checked, so a
 * handler starts from what it declared. Throws a RequestError when one fails.
 */
export function runHandler<T extends RequestType>(
  entry: HandlerEntry<T>,
  hub: HubContext,
  session: Session,
  payload: RequestPayload<T>,
  ref: string | number | undefined,
): void | Promise<void> {
  const { needs } = entry;
  if (needs.identity) assertIdentified(session);
  if (!needs.room) return proceed(entry, hub, session, payload, ref, undefined);
  // Entries that need a room are those whose payload names one (see the table).
  const roomId = (payload as { room_id: string }).room_id;
  const local = hub.rooms.get(roomId);
  // Cluster mode: a room another node made gets its actor here first.
  if (!local && hub.rooms.clustered)
    return hub.rooms.load(roomId).then((room) => {
      if (!room) throw new RequestError('no_such_room', `there is no room ${roomId}`);
      return proceed(entry, hub, session, payload, ref, room);
    });
  return proceed(entry, hub, session, payload, ref, hub.rooms.require(roomId));
}

/** The rest of runHandler once the room (if any) is known: membership, the charge, the handler. */
function proceed<T extends RequestType>(
  entry: HandlerEntry<T>,
  hub: HubContext,
  session: Session,
  payload: RequestPayload<T>,
  ref: string | number | undefined,
  room: Room | undefined,
): void | Promise<void> {
  const { needs } = entry;
  if (room) {
    const operator =
      needs.operator === true || (needs.operator !== undefined && needs.operator(payload as never));
    // A server operator may act in a room it is not in.
    const outsider = operator && room.policy.isServerOperator(session);
    if (needs.member && !session.rooms.has(room.id) && !outsider)
      throw new RequestError('not_in_room', needs.member(room.id));
    if (operator && !room.policy.mayOperate(session))
      throw new RequestError('not_operator', `you are not an operator of ${room.id}`);
  }
  if (needs.serverOperator && !hub.rooms.isServerOperator(session))
    throw new RequestError('not_server_operator');
  if (needs.charge) hub.charges.charge(session, needs.charge);
  return entry.run({ session, payload, ref, room }, hub);
}
