/**
 * The browser page's slash commands against a real server, under Node: the page's own `Client`
 * (as built into dist/browser/, so `npm run build` first) with `ws` as its WebSocket. What each
 * command sends comes from the shared table (src/protocol/commands.ts, `commandAction`); these
 * tests check what the page adds: its conversations, its room list and its notices.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { until } from '../helpers/wait.js';

interface Item {
  kind: string;
  text: string;
  tone?: string;
}
interface Conv {
  key: string;
  kind: 'room' | 'dm';
  id: string;
  joined?: boolean;
  items: Item[];
}
interface PageClient {
  state: { current: string | null; convs: Map<string, Conv>; conn: { state: string } };
  start(nick: string): void;
  submit(line: string): boolean;
  select(key: string): void;
  quit(): void;
}
interface WebApp {
  Client: new (options: { url: string; WebSocketImpl: unknown }) => PageClient;
}

// A path in a variable keeps TypeScript from type-checking the plain-JS module.
const appPath = '../../web/app.js';
const web = (await import(appPath)) as WebApp;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ rateLimit: false });
});
afterAll(async () => {
  await server.close();
});

async function page(nick: string): Promise<PageClient> {
  const client = new web.Client({ url: server.url, WebSocketImpl: WebSocket });
  client.start(nick);
  await until(() => [...client.state.convs.values()].some((c) => c.id === 'lobby' && c.joined === true));
  return client;
}

const conv = (c: PageClient, id: string): Conv | undefined =>
  [...c.state.convs.values()].find((v) => v.id === id);
const current = (c: PageClient): Conv | undefined =>
  c.state.current === null ? undefined : c.state.convs.get(c.state.current);
const notices = (v: Conv | undefined): string[] =>
  (v?.items ?? []).filter((i) => i.kind === 'notice').map((i) => i.text);

describe('the page runs slash commands through the shared table', () => {
  it('/users lists the current room; in a DM it says that is no room', async () => {
    const alice = await page('alice');
    const bob = await page('bob');
    expect(alice.submit('/users')).toBe(true);
    await until(() => notices(conv(alice, 'lobby')).some((t) => t.includes('alice') && t.includes('bob')));
    expect(alice.submit('/msg bob psst')).toBe(true);
    expect(current(alice)?.kind).toBe('dm');
    await until(() => (conv(bob, 'alice')?.items ?? []).some((i) => i.text === 'psst'));
    alice.submit('/users');
    expect(notices(current(alice))).toContain('/users: this is not a room; try /users <room>');
    alice.quit();
    bob.quit();
  });

  it('/leave closes a DM without asking the server, and leaves the current room', async () => {
    const carol = await page('carol');
    const dave = await page('dave');
    carol.submit('/join dev');
    await until(() => conv(carol, 'dev')?.joined === true);
    carol.submit('/msg dave hi');
    const dm = current(carol)!;
    expect(dm.kind).toBe('dm');
    carol.submit('/leave');
    expect(carol.state.convs.has(dm.key)).toBe(false);
    carol.select(conv(carol, 'dev')!.key);
    carol.submit('/leave');
    expect(conv(carol, 'dev')).toBeUndefined();
    // The server let her go: a second leave is refused as not in the room.
    carol.submit('/leave dev');
    await until(() => notices(current(carol)).some((t) => /not in/i.test(t)));
    carol.quit();
    dave.quit();
  });

  it('/rooms more with nothing more to list says so; /join of a room already joined just shows it', async () => {
    const erin = await page('erin');
    erin.submit('/rooms more');
    expect(notices(current(erin))).toContain('no more rooms to list; /rooms [filter] starts again');
    erin.submit('/join dev');
    await until(() => conv(erin, 'dev')?.joined === true);
    erin.select(conv(erin, 'lobby')!.key);
    erin.submit('/join dev');
    expect(current(erin)?.id).toBe('dev');
    erin.submit('/help leave');
    expect(notices(current(erin)).some((t) => t.includes('/leave [room]'))).toBe(true);
    erin.quit();
  });
});
