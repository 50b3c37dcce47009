import type { Redis } from 'ioredis';
import { nickKey } from '../protocol/nick.js';
import { hashPassword } from '../server/auth/password.js';
import { commandOptions, openRedis } from '../server/cluster/connect.js';
import { keys } from '../server/cluster/keys.js';
import { parseRedisUrl } from '../server/cluster/redis-url.js';
import { checkPassword, validNick, type AccountRow, type AccountStore } from './accounts.js';

/** Sets the hash only when the user is not there yet: two operators creating one nick, one wins. */
const CREATE = `if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'user_name', ARGV[1], 'password_hash', ARGV[2], 'created_ts', ARGV[3])
return 1`;
/** Changes the password only of a user that is there (never makes a half user). */
const PASSWD = `if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'password_hash', ARGV[1])
return 1`;

/**
 * Registered nicks of a cluster (`chat account --redis URL`), in the `chat:user:<nick key>`
 * hashes the nodes read (keys.ts). Nodes read a user from Redis at every password check, so a
 * change holds for the next login on every node, whether nodes run or not.
 */
export class RedisAccounts implements AccountStore {
  private constructor(private readonly redis: Redis) {}

  /** Connects to the Redis of `url` (`redis://`, `rediss://`, `unix://`, a socket path). */
  static async open(url: string): Promise<RedisAccounts> {
    const target = parseRedisUrl(url);
    return new RedisAccounts(await openRedis(target, commandOptions(target, { name: 'chat:account' })));
  }

  async get(name: string): Promise<AccountRow | undefined> {
    const [userName, created] = await this.redis.hmget(keys.user(nickKey(name)), 'user_name', 'created_ts');
    return userName ? { user_name: userName, created_ts: Number(created) } : undefined;
  }

  async list(): Promise<AccountRow[]> {
    const rows: AccountRow[] = [];
    let cursor = '0';
    do {
      const [next, found] = await this.redis.scan(cursor, 'MATCH', keys.user('*'), 'COUNT', 500);
      cursor = next;
      for (const key of found) {
        const [userName, created] = await this.redis.hmget(key, 'user_name', 'created_ts');
        if (userName) rows.push({ user_name: userName, created_ts: Number(created) });
      }
    } while (cursor !== '0');
    return rows.sort((a, b) => (a.user_name < b.user_name ? -1 : a.user_name > b.user_name ? 1 : 0));
  }

  async create(name: string, password: string): Promise<void> {
    const nick = validNick(name);
    checkPassword(password);
    const hash = await hashPassword(password);
    const done = await this.redis.eval(CREATE, 1, keys.user(nickKey(nick)), nick, hash, String(Date.now()));
    if (done === 0)
      throw new Error(`${nick} is registered already (chat account passwd changes its password)`);
  }

  async passwd(name: string, password: string): Promise<void> {
    checkPassword(password);
    const hash = await hashPassword(password);
    if ((await this.redis.eval(PASSWD, 1, keys.user(nickKey(name)), hash)) === 0)
      throw new Error(`${name} is not registered`);
  }

  async delete(name: string): Promise<void> {
    if ((await this.redis.del(keys.user(nickKey(name)))) === 0) throw new Error(`${name} is not registered`);
  }

  close(): void {
    this.redis.disconnect();
  }
}
