import { RequestError } from '../../protocol/errors.js';
import { MAX_HISTORY_PAGE, MAX_NICK_CHARS } from '../../protocol/limits.js';
import { nickKey } from '../../protocol/nick.js';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { hashPassword, verifyPassword } from '../auth/password.js';
import type { CloseReason } from '../connection.js';
import { normaliseAddress } from '../limits/admission.js';
import { KeyedRateLimiters } from '../limits/keyed.js';
import type { Session } from '../session.js';
import type { Store } from '../store/store-types.js';
import type { Engine, NickClaim } from '../cluster/engine.js';
import type { ResolvedHubOptions } from './options.js';

/** Wrong passwords one connection may send before it is closed. */
const MAX_PASSWORD_FAILURES = 3;

/** The server version reported in `welcome`. */
export const SERVER_VERSION = '0.1.0';

/** A session that has a nick: every identity field is set (they are set together, in {@link Identities.bind}). */
export type IdentifiedSession = Session & {
  nick: string;
  nickKey: string;
  userId: string;
  resumeToken: string;
};

/** True once the session has a nick (and so every identity field). */
export function isIdentified(session: Session): session is IdentifiedSession {
  return session.identified;
}

/** The identity check of every request that needs a nick; narrows the session for the handler. */
export function assertIdentified(session: Session): asserts session is IdentifiedSession {
  if (!isIdentified(session)) throw new RequestError('not_identified', 'send hello {user_name} first');
}

type Ref = string | number | undefined;

/**
 * Who is who: the nicks online (one session each, by collision key), claiming one (`hello`, or
 * the identity a `join` carries), a reconnect taking over its own ghost by resume token,
 * renames, registration and the per-address limit on password checks.
 */
export class Identities {
  private readonly nicks = new Map<string, IdentifiedSession>();
  /** Password checks per client address (see HubOptions.passwordLimit). */
  private readonly passwordLimiters: KeyedRateLimiters | undefined;

  /** Where registered users are kept: the store, or the engine in cluster mode. */
  private readonly store: Pick<Store, 'getUser' | 'putUser'>;
  /** Cluster mode: nicks are claimed cluster-wide through it (the local map holds this node's). */
  private readonly engine: Engine | undefined;
  /**
   * Told when a nick comes online (claimed afresh, not taken over) or goes (MONITOR). On one node
   * only: in the cluster mode the engine's `nick` events tell every node's, this one's too.
   */
  onNick: ((nick: string, online: boolean) => void) | undefined;
  /** Cluster mode: nick releases under way (shutdown waits for them before the engine closes). */
  private readonly releasing = new Set<Promise<unknown>>();

  constructor(
    store: Store,
    private readonly options: ResolvedHubOptions,
    /** Closes a replaced ghost, or a connection out of password guesses (the hub's disconnect). */
    private readonly disconnect: (session: Session, reason: CloseReason) => void,
  ) {
    this.passwordLimiters = options.passwordLimit ? new KeyedRateLimiters(options.passwordLimit) : undefined;
    this.engine = options.engine;
    this.store = options.engine ?? store;
    // A client that took its nick over on another node with its resume token: drop the ghost here.
    this.engine?.on('node', (event) => {
      if (event.t !== 'kick' || typeof event.nick_key !== 'string') return;
      const ghost = this.nicks.get(event.nick_key);
      if (ghost && `${this.engine!.nodeId}:${ghost.id}` !== event.by)
        this.disconnect(ghost, { code: 'replaced', message: 'you connected again from elsewhere' });
    });
  }

  /** Identified users online: nicks in use. */
  get count(): number {
    return this.nicks.size;
  }

  /** The session holding a nick (compared as nicks collide: folded, look-alikes alike), if online. */
  online(name: string): IdentifiedSession | undefined {
    return this.nicks.get(nickKey(name));
  }

  /** The nicks held on this node. */
  *nicksHere(): IterableIterator<string> {
    for (const session of this.nicks.values()) if (session.nick !== undefined) yield session.nick;
  }

  /** The session of this node holding a nick key, if any (cluster DMs, kicks). */
  holding(key: string): IdentifiedSession | undefined {
    return this.nicks.get(key);
  }

  /** Frees the session's nick (it is going away). */
  release(session: Session): void {
    if (session.nickKey === undefined) return;
    if (this.nicks.get(session.nickKey) === session) {
      this.nicks.delete(session.nickKey);
      if (!this.engine && session.nick !== undefined) this.onNick?.(session.nick, false);
    }
    if (!this.engine) return;
    // Compare-and-delete: a client that took the nick over elsewhere keeps it.
    const released = this.engine
      .releaseNick(session.nickKey, session.id)
      .catch((err: unknown) => this.options.onInternalError?.(err, 'releasing a nick in Redis'))
      .finally(() => this.releasing.delete(released));
    this.releasing.add(released);
  }

  /** Resolves once every nick release sent to the engine has been answered (shutdown). */
  async settled(): Promise<void> {
    await Promise.all([...this.releasing]);
  }

  /** True when the nick is registered (a room its holder made outlives being empty). */
  async isRegistered(name: string): Promise<boolean> {
    let key: string;
    try {
      key = nickKey(name);
    } catch {
      return false;
    }
    return (await this.store.getUser(key)) !== undefined;
  }

  /**
   * Binds a nick to the session, checking collisions and registration. Undefined when the
   * session closed while the checks waited.
   */
  async bind(
    session: Session,
    userName: string,
    userId: string | undefined,
    password: string | undefined,
    resumeToken?: string,
  ): Promise<IdentifiedSession | undefined> {
    const key = nickKey(userName);
    const holder = this.nicks.get(key);
    // The nick's holder is this client's own earlier connection, proved by its resume token.
    const ownGhost = holder !== undefined && this.ownsGhost(holder, resumeToken);
    if (holder && holder !== session && !ownGhost) {
      throw new RequestError('nick_taken', `${holder.nick} is online already; pick another nick`);
    }
    const token = randomBytes(18).toString('base64url');
    // Cluster mode: the nick is claimed on every node before anything else (released if refused below).
    const claim = await this.claimShared(session, key, userName, token, resumeToken);
    try {
      return await this.bindClaimed(session, key, userName, userId, password, token, resumeToken, claim);
    } catch (err) {
      if (claim !== undefined)
        this.engine!.releaseNick(key, session.id).catch((e: unknown) =>
          this.options.onInternalError?.(e, 'releasing a refused nick claim'),
        );
      if (err instanceof SessionGone) return undefined;
      throw err;
    }
  }

  /** The rest of bind once the nick is claimed cluster-wide (`claim`; undefined on one node). */
  private async bindClaimed(
    session: Session,
    key: string,
    userName: string,
    userId: string | undefined,
    password: string | undefined,
    token: string,
    resumeToken: string | undefined,
    claim: NickClaim | undefined,
  ): Promise<IdentifiedSession | undefined> {
    const holder = this.nicks.get(key);
    const ownGhost = holder !== undefined && this.ownsGhost(holder, resumeToken);
    const user = await this.store.getUser(key);
    // A resume token proves the client is the holder's, who was let in (with its password if registered).
    const proved = (ownGhost && holder.registered) || claim?.result === 'took_over';
    if (user && !proved) {
      if (password === undefined)
        throw new RequestError(
          'nick_registered',
          `${user.user_name} is registered; send hello {user_name, password}`,
        );
      this.admitPasswordCheck(session);
      if (!(await verifyPassword(password, user.password_hash))) {
        // Each guess costs a full scrypt; a connection gets three before it is closed.
        if (++session.passwordFailures >= MAX_PASSWORD_FAILURES) {
          // After the error reply below has been queued, so the client reads why.
          setImmediate(() =>
            this.disconnect(session, { code: 'auth_failed', message: 'too many wrong passwords' }),
          );
          throw new RequestError(
            'nick_registered',
            `wrong password for ${user.user_name}; too many attempts, disconnecting`,
          );
        }
        throw new RequestError('nick_registered', `wrong password for ${user.user_name}`);
      }
    }
    // The checks above may have waited; the nick could have been taken meanwhile.
    const now = this.nicks.get(key);
    if (now && now !== session) {
      if (!this.ownsGhost(now, resumeToken))
        throw new RequestError('nick_taken', `${now.nick} is online already; pick another nick`);
      this.disconnect(now, { code: 'replaced', message: 'you connected again from elsewhere' });
    }
    if (session.closed) throw new SessionGone();
    clearTimeout(session.identifyTimer);
    session.identifyTimer = undefined; // frees the Timeout object of every identified session
    const bound = Object.assign(session, {
      resumeToken: token,
      nick: userName,
      nickKey: key,
      userId: userId ?? userName,
      registered: user !== undefined,
    });
    this.nicks.set(key, bound);
    if (!now && !this.engine) this.onNick?.(userName, true);
    return bound;
  }

  /**
   * Cluster mode: claims the nick for the session on every node (`nick_taken` when a session
   * elsewhere holds it and the client did not present that session's resume token). Undefined on
   * one node.
   */
  private async claimShared(
    session: Session,
    key: string,
    userName: string,
    token: string,
    resumeToken: string | undefined,
  ): Promise<NickClaim | undefined> {
    if (!this.engine) return undefined;
    const claim = await this.engine.claimNick(key, {
      session: session.id,
      nick: userName,
      tokenHash: sha256Hex(token),
      ...(resumeToken !== undefined ? { presentedTokenHash: sha256Hex(resumeToken) } : {}),
    });
    if (claim.result === 'taken')
      throw new RequestError('nick_taken', `${userName} is online already; pick another nick`);
    return claim;
  }

  /**
   * For join/create_room: binds the identity they carry (and welcomes it), or checks the one
   * bound already. Undefined when the session closed while binding.
   */
  async ensure(
    session: Session,
    userName: string | undefined,
    userId: string | undefined,
    ref: Ref,
  ): Promise<IdentifiedSession | undefined> {
    if (isIdentified(session)) {
      if (userName !== undefined && nickKey(userName) !== session.nickKey) {
        throw new RequestError(
          'already_identified',
          `this connection is ${session.nick}; use nick to rename`,
        );
      }
      return session;
    }
    if (userName === undefined)
      throw new RequestError('not_identified', 'send hello {user_name} first, or include user_name');
    const bound = await this.bind(session, userName, userId, undefined);
    if (bound) this.welcome(bound, ref);
    return bound;
  }

  /** Sends `welcome`: who the session is now, its resume token and the server's limits. */
  welcome(session: IdentifiedSession, ref: Ref): void {
    session.send(
      'welcome',
      {
        user_name: session.nick,
        user_id: session.userId,
        session_id: session.id,
        server_version: SERVER_VERSION,
        default_room: this.options.defaultRoom,
        registered: session.registered,
        resume_token: session.resumeToken,
        limits: {
          max_message_chars: this.options.maxMessageChars,
          max_nick_chars: MAX_NICK_CHARS,
          max_history_page: MAX_HISTORY_PAGE,
        },
      },
      ref,
    );
  }

  /**
   * Gives the session a new nick (not its current one): refused when somebody else holds it
   * or it is registered. A new spelling of the same nick (same key) keeps the claim.
   */
  async rename(session: IdentifiedSession, userName: string): Promise<void> {
    const key = nickKey(userName);
    if (key !== session.nickKey) {
      const holder = this.nicks.get(key);
      if (holder && holder !== session)
        throw new RequestError('nick_taken', `${holder.nick} is online already`);
      const user = await this.store.getUser(key);
      if (user)
        throw new RequestError(
          'nick_registered',
          `${user.user_name} is registered; reconnect with hello {user_name, password}`,
        );
      if (this.nicks.has(key)) throw new RequestError('nick_taken', `${userName} was just taken`);
      if (this.engine) {
        // The new nick is claimed on every node (with the session's own token), then the old one freed.
        await this.claimShared(session, key, userName, session.resumeToken, undefined);
        if (this.nicks.has(key) || session.closed) {
          await this.engine.releaseNick(key, session.id);
          throw new RequestError('nick_taken', `${userName} was just taken`);
        }
        this.release(session);
      }
      this.nicks.delete(session.nickKey);
      this.nicks.set(key, session);
      session.nickKey = key;
      session.registered = false;
      if (!this.engine) {
        this.onNick?.(session.nick, false);
        this.onNick?.(userName, true);
      }
    } else if (this.engine && userName !== session.nick) {
      // The same nick spelled anew: the claim keeps the spelling other nodes show (their WHOIS,
      // WHO masks through chat:online), so it is claimed again, as this session's, to change it.
      await this.claimShared(session, key, userName, session.resumeToken, undefined);
    }
    session.nick = userName;
  }

  /** Registers the session's nick with a password (or changes the password of its own). */
  async register(session: IdentifiedSession, password: string): Promise<void> {
    const existing = await this.store.getUser(session.nickKey);
    if (existing && !session.registered)
      throw new RequestError('nick_registered', `${existing.user_name} is registered by somebody else`);
    this.admitPasswordCheck(session);
    const hash = await hashPassword(password);
    await this.store.putUser({
      nick_key: session.nickKey,
      user_name: session.nick,
      password_hash: hash,
      created_ts: existing?.created_ts ?? Date.now(),
    });
    session.registered = true;
  }

  /**
   * True when `token` is the resume token the holder of a nick was given: the same person
   * reconnecting after a dropped link, whose old connection the server has not noticed is dead.
   */
  private ownsGhost(holder: Session, token: string | undefined): boolean {
    const expected = holder.resumeToken;
    if (token === undefined || expected === undefined) return false;
    // Digests are 32 bytes whatever the client sent: timingSafeEqual throws on unequal lengths,
    // and a string's length in UTF-16 units is not its length in UTF-8 bytes.
    return timingSafeEqual(digest(token), digest(expected));
  }

  /**
   * Charges one password check (a full scrypt) to the client's address, before it runs: a
   * client must not be able to keep the server's CPU busy hashing. Per address rather than per
   * connection, since a POST or a fresh connection would otherwise start with a full bucket.
   */
  private admitPasswordCheck(session: Session): void {
    if (!this.passwordLimiters) return;
    const decision = this.passwordLimiters.take(normaliseAddress(session.conn.remoteAddress));
    if (!decision.ok) {
      throw new RequestError(
        'rate_limited',
        `too many password attempts from your address; retry in ${decision.retryAfterMs} ms`,
        { retry_after_ms: decision.retryAfterMs },
      );
    }
  }
}

/** Thrown inside bind when the session closed while its checks waited: the claim is undone, nobody is told. */
class SessionGone extends Error {}

/** The resume token's digest as the engine keeps it with the nick (never the token itself). */
function sha256Hex(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** A fixed-length digest of a secret, so comparing two takes the same time whatever they hold. */
function digest(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}
