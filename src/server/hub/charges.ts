import { protocolError, RequestError } from '../../protocol/errors.js';
import type { CloseReason } from '../connection.js';
import { RateLimiter, type RateDecision } from '../limits/rate-limit.js';
import { DualLimit } from '../limits/request-limit.js';
import { runFilters } from '../moderation/filters.js';
import type { Session } from '../session.js';
import type { ResolvedHubOptions } from './options.js';

/**
 * Reads, presence changes and new rooms of one connection refused `rate_limited` within one
 * event-loop turn after which it is cut: each refusal is cheap, but a client can pipeline
 * thousands in one socket read, and answering them all holds the event loop; no honest client
 * pipelines hundreds of those. Messages are left out (pasting many lines into a line client
 * pipelines them honestly); their rate limit's flood rule cuts a sustained flood.
 */
const MAX_REFUSALS_PER_TURN = 200;

/** A refusal by one of the limits of {@link Charges.charge}, counted by {@link Charges.noteRefusal}. */
export class LimitRefusal extends RequestError {
  constructor(message: string, retryAfterMs: number) {
    super('rate_limited', message, { retry_after_ms: retryAfterMs });
  }
}

/** A number that changes once per event-loop turn (bumped by an immediate, made only when asked). */
let turn = 0;
let turnBumpQueued = false;
function currentTurn(): number {
  if (!turnBumpQueued) {
    turnBumpQueued = true;
    setImmediate(() => {
      turn++;
      turnBumpQueued = false;
    });
  }
  return turn;
}

/** The limits kept per connection and per address that a request can be charged to. */
export type ChargedLimit = 'reads' | 'presence' | 'rooms';

/** Each limit: the session field holding the connection's bucket, and the words of its refusal. */
const LIMITS = {
  reads: { field: 'readRate', what: 'reads' },
  presence: { field: 'presenceRate', what: 'joins, leaves and nick changes' },
  rooms: { field: 'roomRate', what: 'new rooms' },
} as const satisfies Record<ChargedLimit, { field: 'readRate' | 'presenceRate' | 'roomRate'; what: string }>;

/**
 * What requests cost: the read, presence and room-creation limits (per connection and per
 * address), the message limit and the moderation filters every message passes, and the cut of
 * a connection that pipelines refused requests. Never holds a session; the buckets live on it.
 */
export class Charges {
  private readonly limits: Record<ChargedLimit, DualLimit>;

  constructor(
    private readonly options: ResolvedHubOptions,
    /** Cuts a flooding client (the hub's disconnect). */
    private readonly disconnect: (session: Session, reason: CloseReason) => void,
  ) {
    this.limits = {
      reads: new DualLimit({ perConnection: options.readLimit, perAddress: options.readAddressLimit }),
      presence: new DualLimit({
        perConnection: options.presenceLimit,
        perAddress: options.presenceAddressLimit,
      }),
      rooms: new DualLimit({
        perConnection: options.roomCreateLimit,
        perAddress: options.roomCreateAddressLimit,
      }),
    };
  }

  /**
   * Takes a token of a limit kept per connection and per address; refuses with `rate_limited`
   * (and `retry_after_ms`) without one, and disconnects a client that keeps on regardless
   * (the same flood rule as for messages).
   */
  charge(session: Session, limit: ChargedLimit): void {
    const { field, what } = LIMITS[limit];
    const decision: RateDecision = this.limits[limit].take(session, field, session.conn.remoteAddress);
    if (decision.ok) return;
    if (decision.flooding) this.cut(session);
    throw new LimitRefusal(`too many ${what}; retry in ${decision.retryAfterMs} ms`, decision.retryAfterMs);
  }

  /** Spends a token when there is one but never refuses (a leave: the way out stays open). */
  spend(session: Session, limit: ChargedLimit): void {
    this.limits[limit].take(session, LIMITS[limit].field, session.conn.remoteAddress);
  }

  /**
   * The gate every message and DM passes: the sender's rate limit, then the moderation
   * filters. Returns the text to send; throws a RequestError to refuse.
   */
  admitMessage(session: Session, user: string, text: string, target: string): string {
    if (this.options.rateLimit) {
      const limiter = (session.messageRate ??= new RateLimiter(this.options.rateLimit));
      const decision = limiter.take();
      if (!decision.ok) {
        if (decision.flooding) this.cut(session);
        throw new RequestError('rate_limited', `too many messages; retry in ${decision.retryAfterMs} ms`, {
          retry_after_ms: decision.retryAfterMs,
        });
      }
    }
    if (this.options.filters.length === 0) return text;
    const verdict = runFilters(this.options.filters, { user, target, text });
    if (verdict.action === 'refuse') throw new RequestError('message_refused', verdict.reason);
    return verdict.text;
  }

  /** Cuts a connection refused more than {@link MAX_REFUSALS_PER_TURN} times in one turn. */
  noteRefusal(session: Session): void {
    const now = currentTurn();
    if (session.refusalsTurn !== now) {
      session.refusalsTurn = now;
      session.refusals = 0;
    }
    if (++session.refusals > MAX_REFUSALS_PER_TURN && !session.closed) {
      session.send(
        'error',
        protocolError(
          'rate_limited',
          `more than ${MAX_REFUSALS_PER_TURN} refused requests at once; disconnected`,
        ),
      );
      this.disconnect(session, { code: 'rate_limited', message: 'sustained flooding' });
    }
  }

  private cut(session: Session): void {
    session.send('error', protocolError('rate_limited', 'sustained flooding; disconnected'));
    this.disconnect(session, { code: 'rate_limited', message: 'sustained flooding' });
  }
}
