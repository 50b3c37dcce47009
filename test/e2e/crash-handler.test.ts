import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { spawnChat } from '../helpers/chat-process.js';
import { TestClient } from '../helpers/ws-client.js';

const BUG = fileURLToPath(new URL('../fixtures/bug-on-signal.mjs', import.meta.url));

describe('a bug that escapes every handler in chat serve', () => {
  it.each([
    ['an uncaught exception', 'SIGUSR2', 'uncaughtException', 'uncaught'],
    ['an unhandled rejection', 'SIGWINCH', 'unhandledRejection', 'unhandled rejection'],
  ] as const)(
    '%s: logged as fatal in the JSON log, clients told shutdown, exit 1',
    async (_what, signal, origin, text) => {
      const server = await spawnChat(['--memory'], { nodeArgs: ['--import', BUG] });
      const client = await TestClient.open(server.url);
      await client.hello('watcher');
      expect((await client.request('join', { room_id: 'lobby' })).type).toBe('joined');
      expect((await client.request('message', { room_id: 'lobby', message: 'before' })).type).toBe('message');
      server.child.kill(signal);
      const notice = await client.next((m) => m.type === 'shutdown');
      expect(notice.payload).toMatchObject({ reason: 'shutdown' });
      expect(await server.exited).toBe(1);
      const fatal = server
        .stderr()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { level: number; origin?: string; err?: { message?: string } })
        .find((l) => l.level === 60);
      expect(fatal).toMatchObject({ origin, err: { message: `a bug the test planted (${text})` } });
      client.close();
    },
  );
});
