import { resolveDataDir } from '../server/store/open.js';
import { Accounts, type AccountStore } from './accounts.js';

const USAGE =
  'usage: chat account create|passwd|delete NAME, or chat account list [--data-dir DIR | --redis URL]';

/** Where the accounts are: a data directory (SQLite), or a cluster's Redis (`--redis`, CHAT_REDIS_URL). */
export type AccountsAt = { dataDir: string | undefined } | { redis: string };

/**
 * `chat account create|passwd|delete|list [NAME]`: registered nicks on the data directory's
 * chat.db, whether a server runs on it or not (see Accounts). A password is read from the
 * terminal (asked twice, not echoed) or, when stdin is not a terminal, from its first line, so
 * it never has to be on the command line, where `ps` and shell history would show it.
 * With `--redis URL` (or CHAT_REDIS_URL and no --data-dir) they are the cluster's, in Redis.
 * Resolves with the exit code.
 */
export async function runAccount(args: string[], at: AccountsAt): Promise<number> {
  const [action, name, extra] = args;
  const needsName = action === 'create' || action === 'passwd' || action === 'delete';
  if (
    !(needsName || action === 'list') ||
    (needsName && name === undefined) ||
    (action === 'list' && name !== undefined) ||
    extra !== undefined
  ) {
    process.stderr.write(`chat: ${USAGE}\n`);
    return 2;
  }
  let accounts: AccountStore | undefined;
  try {
    accounts =
      'redis' in at
        ? await (await import('./redis-accounts.js')).RedisAccounts.open(at.redis)
        : await Accounts.open(at.dataDir ?? resolveDataDir(), action === 'create');
    switch (action) {
      case 'list':
        for (const a of await accounts.list())
          process.stdout.write(`${a.user_name}\t${new Date(a.created_ts).toISOString()}\n`);
        return 0;
      case 'delete':
        await accounts.delete(name!);
        process.stdout.write(`deleted ${name}\n`);
        return 0;
      case 'create':
        if (await accounts.get(name!))
          throw new Error(`${name} is registered already (chat account passwd changes its password)`);
        await accounts.create(name!, await readPassword(`password for ${name}: `));
        process.stdout.write(`created ${name}\n`);
        return 0;
      default:
        if (!(await accounts.get(name!))) throw new Error(`${name} is not registered`);
        await accounts.passwd(name!, await readPassword(`new password for ${name}: `));
        process.stdout.write(`changed the password of ${name}\n`);
        return 0;
    }
  } catch (err) {
    process.stderr.write(`chat: ${(err as Error).message}\n`);
    return 1;
  } finally {
    accounts?.close();
  }
}

/** A password: from the terminal without echo (twice), else the first line of stdin. */
async function readPassword(prompt: string): Promise<string> {
  if (!process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    const line = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
    if (line === '') throw new Error('no password on stdin');
    return line;
  }
  const first = await askHidden(prompt);
  const again = await askHidden('again: ');
  if (first !== again) throw new Error('the two passwords differ');
  return first;
}

function askHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    let text = '';
    const done = (result: string | Error): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done(text);
        if (ch === '\u0003') return done(new Error('cancelled'));
        if (ch === '\u007f' || ch === '\b') text = [...text].slice(0, -1).join('');
        else if (ch >= ' ') text += ch;
      }
    };
    stdin.on('data', onData);
  });
}
