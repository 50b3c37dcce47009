/**
 * The browser page at GET /, in real headless Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core), against the real `chat serve` binary: two pages and a plain TCP client chat
 * in one room and see one order; hostile text stays text; rooms, unread counts and DMs work; and
 * the page reconnects by itself when the server restarts.
 *
 * Screenshots go to test-artifacts/browser-*.png (gitignored).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnChat, type ChatProcess } from '../helpers/chat-process.js';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const WAIT_MS = 15_000;

if (!HAVE_CHROMIUM) {
  console.warn(
    `browser.test.ts skipped: ${CHROMIUM} is missing (apt-get install -y chromium; .ci/run does this)`,
  );
}

// ---- the server ------------------------------------------------------------------------------

type Server = ChatProcess & { tcpPort: number };

/**
 * Starts `node bin/chat.js serve --port P --tcp-port 0 --memory`; its stop() is SIGTERM, then a
 * SIGKILL if the process is still there after 5 s.
 */
async function startServer(port = 0): Promise<Server> {
  const chat = await spawnChat(['--tcp-port', '0', '--memory'], { port, timeoutMs: WAIT_MS });
  return {
    ...chat,
    tcpPort: chat.tcpPort!,
    stop: async () => {
      const stopped = chat.stop();
      const killer = setTimeout(() => chat.child.kill('SIGKILL'), 5000);
      const how = await stopped;
      clearTimeout(killer);
      return how;
    },
  };
}

// ---- a plain TCP line client -----------------------------------------------------------------

class LineClient {
  private buffer = '';
  readonly lines: string[] = [];
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        this.lines.push(this.buffer.slice(0, nl).replace(/\r$/, ''));
        this.buffer = this.buffer.slice(nl + 1);
      }
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  static open(port: number): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new LineClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Everything received so far, including a prompt without a newline. */
  get text(): string {
    return this.lines.join('\n') + (this.buffer ? `\n${this.buffer}` : '');
  }

  send(line: string): void {
    this.socket.write(`${line}\n`);
  }

  /** Resolves once `done()` holds for what arrived, re-checked on every chunk. */
  async until(what: string, done: () => boolean, timeoutMs = WAIT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`TCP client: timed out waiting for ${what}; got:\n${this.text}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Room messages as printed: `[12:03] #lobby <alice> hello`. */
  messages(room: string): { nick: string; text: string }[] {
    const out: { nick: string; text: string }[] = [];
    for (const line of this.lines) {
      const m = /^\[\d\d:\d\d\] #(\S+) <([^>]+)> (.*)$/.exec(line);
      if (m && m[1] === room) out.push({ nick: m[2]!, text: m[3]! });
    }
    return out;
  }

  close(): void {
    this.socket.destroy();
  }
}

// ---- pages -----------------------------------------------------------------------------------

interface Watched {
  page: Page;
  problems: string[];
  dialogs: string[];
}

function watch(page: Page, name: string): Watched {
  const w: Watched = { page, problems: [], dialogs: [] };
  page.on('pageerror', (err) => w.problems.push(`${name}: page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') w.problems.push(`${name}: console error: ${msg.text()}`);
  });
  page.on('dialog', (dialog) => {
    w.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  return w;
}

const roomItem = (page: Page, room: string) => page.locator(`[data-testid="room-item"][data-room="${room}"]`);

async function signIn(page: Page, url: string, nick: string): Promise<void> {
  await page.goto(url);
  await page.getByTestId('nick-input').fill(nick);
  await page.getByTestId('nick-submit').click();
  await roomItem(page, 'lobby').and(page.locator('[data-current="true"]')).waitFor({ timeout: WAIT_MS });
  await page.locator('[data-testid="status"][data-state="connected"]').waitFor({ timeout: WAIT_MS });
}

/**
 * The little of the DOM that the in-page functions below use. Declared here, for this module
 * only, because the project's tsconfig has no DOM types; the functions run in the page (passed
 * as functions, not strings: the page's CSP forbids eval, which string predicates would need).
 */
interface PageElement {
  textContent: string | null;
  value?: string;
  dataset: Record<string, string | undefined>;
  querySelector(selector: string): PageElement | null;
  getBoundingClientRect(): { left: number };
}
declare const document: {
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement>;
};

async function say(page: Page, line: string): Promise<void> {
  const input = page.getByTestId('message-input');
  await input.fill(line);
  await input.press('Enter');
  // Enter sends and clears the line; a refused send keeps it.
  await page.waitForFunction(
    () => document.querySelector('[data-testid="message-input"]')?.value === '',
    null,
    {
      timeout: WAIT_MS,
    },
  );
}

/** The chat lines of the conversation on screen: nick, text and seq (null for DMs). */
function shownMessages(page: Page): Promise<{ nick: string; text: string; seq: number | null }[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll('[data-testid="message-list"] [data-testid="message"]')).map(
      (el) => ({
        nick: el.querySelector('[data-testid="message-nick"]')?.textContent ?? '',
        text: el.querySelector('[data-testid="message-text"]')?.textContent ?? '',
        seq: el.dataset.seq === undefined ? null : Number(el.dataset.seq),
      }),
    ),
  );
}

async function untilMessages(page: Page, count: number): Promise<void> {
  await page.waitForFunction(
    (n) => document.querySelectorAll('[data-testid="message-list"] [data-testid="message"]').length >= n,
    count,
    { timeout: WAIT_MS },
  );
}

const untilNotice = (page: Page, text: string) =>
  page.locator('[data-testid="notice"]', { hasText: text }).last().waitFor({ timeout: WAIT_MS });

// ---- the tests -------------------------------------------------------------------------------

describe.skipIf(!HAVE_CHROMIUM)(`browser page at GET / (real ${CHROMIUM})`, () => {
  let server: Server;
  let browser: Browser;
  let context: BrowserContext;
  let url: string;
  let alice: Watched;
  let bob: Watched;
  let carol: LineClient | undefined;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    server = await startServer();
    url = `http://127.0.0.1:${server.port}/`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
    alice = watch(await context.newPage(), 'alice');
    bob = watch(await context.newPage(), 'bob');
  }, 60_000);

  afterAll(async () => {
    carol?.close();
    await browser?.close();
    await server?.stop();
  }, 30_000);

  it('serves the page, its script and its stylesheet', async () => {
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toContain('data-testid="message-list"');
    for (const [path, type] of [
      ['app.js', /javascript/],
      ['style.css', /text\/css/],
    ] as const) {
      const asset = await fetch(new URL(path, url));
      expect(asset.status, path).toBe(200);
      expect(asset.headers.get('content-type'), path).toMatch(type);
    }
  });

  it('asks again when the nick is taken, then two pages and a TCP client chat in lobby in one order', async () => {
    await signIn(alice.page, url, 'alice');

    // Bob first tries alice's nick (case differs: nicks collide case-insensitively).
    await bob.page.goto(url);
    await bob.page.getByTestId('nick-input').fill('Alice');
    await bob.page.getByTestId('nick-submit').click();
    await bob.page.getByTestId('nick-error').waitFor({ timeout: WAIT_MS });
    expect(await bob.page.getByTestId('nick-error').textContent()).toMatch(/alice/i);
    await bob.page.screenshot({ path: `${ARTIFACTS}browser-nick-taken.png` });
    await bob.page.getByTestId('nick-input').fill('bob');
    await bob.page.getByTestId('nick-submit').click();
    await roomItem(bob.page, 'lobby').waitFor({ timeout: WAIT_MS });
    await untilNotice(alice.page, 'bob joined #lobby');

    // Carol on plain TCP: prompted for a nick, then every line is a message in lobby.
    carol = await LineClient.open(server.tcpPort);
    await carol.until('a nick prompt', () => carol!.text.length > 0);
    carol.send('carol');
    await untilNotice(alice.page, 'carol joined #lobby');
    await untilNotice(bob.page, 'carol joined #lobby');

    // All three talk at once; the server's order is the order everybody sees.
    const burst = (who: string) => [1, 2, 3].map((i) => `${who} says ${i}`);
    await Promise.all([
      (async () => {
        for (const line of burst('alice')) await say(alice.page, line);
      })(),
      (async () => {
        for (const line of burst('bob')) await say(bob.page, line);
      })(),
      (async () => {
        for (const line of burst('carol')) carol!.send(line);
      })(),
    ]);
    await untilMessages(alice.page, 9);
    await untilMessages(bob.page, 9);
    const seenByAlice = await shownMessages(alice.page);
    const seenByBob = await shownMessages(bob.page);
    expect(seenByAlice).toHaveLength(9);
    expect(seenByBob).toEqual(seenByAlice);
    expect(seenByAlice.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const who of ['alice', 'bob', 'carol']) {
      expect(seenByAlice.filter((m) => m.nick === who).map((m) => m.text)).toEqual(burst(who));
    }

    // The TCP client sees the same nine lines in the same order, its own included (the room
    // acknowledges a line client's message by broadcasting it to every member).
    await carol.until('all nine messages', () => carol!.messages('lobby').length >= 9);
    expect(carol.messages('lobby')).toEqual(seenByAlice.map(({ nick, text }) => ({ nick, text })));

    await alice.page.screenshot({ path: `${ARTIFACTS}browser-alice-lobby.png` });
    expect(alice.problems).toEqual([]);
    expect(bob.problems).toEqual([]);
  }, 60_000);

  it('renders markup and terminal escapes from any door as inert text', async () => {
    const hostile = '<img src=x onerror=alert(1)> \x1b[31mred\x1b[0m <script>alert(2)</script>';
    await say(alice.page, `from alice: ${hostile}`);
    carol!.send(`from carol: ${hostile}`);
    for (const { page } of [alice, bob]) {
      await page
        .locator('[data-testid="message"]', { hasText: 'from carol: <img' })
        .waitFor({ timeout: WAIT_MS });
      await page
        .locator('[data-testid="message"]', { hasText: 'from alice: <img' })
        .waitFor({ timeout: WAIT_MS });
      const texts = (await shownMessages(page)).map((m) => m.text).filter((t) => t.startsWith('from '));
      expect(texts).toHaveLength(2);
      for (const text of texts) {
        expect(text).toContain('<img src=x onerror=alert(1)>');
        expect(text).toContain('<script>alert(2)</script>');
        expect(text).toContain('red');
        expect(text).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
      }
      // Nothing became markup: no image, no script inside the messages, no dialog.
      expect(await page.locator('[data-testid="message-list"] img').count()).toBe(0);
      expect(await page.locator('[data-testid="message-list"] script').count()).toBe(0);
      expect(await page.locator('img').count()).toBe(0);
    }
    // The TCP client never gets control characters back either.
    await carol!.until('alice’s hostile line', () =>
      carol!.lines.some((l) => l.includes('from alice: <img')),
    );
    const line = carol!.lines.find((l) => l.includes('from alice: <img'))!;
    expect(line).not.toMatch(/\x1b/);
    expect(alice.dialogs).toEqual([]);
    expect(bob.dialogs).toEqual([]);
    await bob.page.screenshot({ path: `${ARTIFACTS}browser-bob-lobby.png` });
    expect(alice.problems).toEqual([]);
    expect(bob.problems).toEqual([]);
  }, 60_000);

  it('joins rooms, counts unread per room, and keeps DMs as their own conversation', async () => {
    // Bob joins #dev with the join field, alice with the slash command.
    await bob.page.getByTestId('join-input').fill('dev');
    await bob.page.getByTestId('join-submit').click();
    await roomItem(bob.page, 'dev')
      .and(bob.page.locator('[data-current="true"]'))
      .waitFor({ timeout: WAIT_MS });
    await say(alice.page, '/join #dev');
    await roomItem(alice.page, 'dev')
      .and(alice.page.locator('[data-current="true"]'))
      .waitFor({ timeout: WAIT_MS });
    await untilNotice(bob.page, 'alice joined #dev');

    // Alice goes back to lobby; bob's two lines in #dev become her unread count there.
    await roomItem(alice.page, 'lobby').getByRole('button').click();
    await roomItem(alice.page, 'lobby').and(alice.page.locator('[data-current="true"]')).waitFor();
    await say(bob.page, 'over here in dev');
    await say(bob.page, 'alice, are you around?');
    await roomItem(alice.page, 'dev')
      .and(alice.page.locator('[data-unread="2"]'))
      .waitFor({ timeout: WAIT_MS });
    expect(await roomItem(alice.page, 'dev').getByTestId('unread').textContent()).toBe('2');
    expect(await roomItem(alice.page, 'dev').getAttribute('data-mention')).toBe('true');

    // A DM from bob opens a conversation with him on alice's side, with its own unread count.
    await say(bob.page, '/msg alice psst, a secret');
    const dmItem = alice.page.locator('[data-testid="dm-item"][data-nick="bob"]');
    await dmItem.and(alice.page.locator('[data-unread="1"]')).waitFor({ timeout: WAIT_MS });
    await alice.page.screenshot({ path: `${ARTIFACTS}browser-alice-unread.png` });
    await dmItem.getByRole('button').click();
    await alice.page.getByTestId('conv-title').filter({ hasText: '@bob' }).waitFor();
    expect(await shownMessages(alice.page)).toEqual([{ nick: 'bob', text: 'psst, a secret', seq: null }]);
    // Plain text in a DM conversation answers the DM.
    await say(alice.page, 'hi bob, what is it?');
    await bob.page.locator('[data-testid="dm-item"][data-nick="alice"]').waitFor({ timeout: WAIT_MS });
    await bob.page.locator('[data-testid="dm-item"][data-nick="alice"]').getByRole('button').click();
    await untilMessages(bob.page, 2);
    expect((await shownMessages(bob.page)).map((m) => `${m.nick}: ${m.text}`)).toEqual([
      'bob: psst, a secret',
      'alice: hi bob, what is it?',
    ]);
    // The DM never leaked into a room.
    await roomItem(alice.page, 'dev').getByRole('button').click();
    expect((await shownMessages(alice.page)).map((m) => m.text)).toEqual([
      'over here in dev',
      'alice, are you around?',
    ]);
    expect(await roomItem(alice.page, 'dev').getAttribute('data-unread')).toBe('0');

    // Slash commands: /users lists the room, unknown commands get an inline hint.
    await say(alice.page, '/users');
    await untilNotice(alice.page, 'in #dev (2)');
    await say(alice.page, '/frobnicate');
    await untilNotice(alice.page, 'unknown command /frobnicate');

    // A topic is a line in the room and stays in the header under the room's name.
    await say(alice.page, '/topic ship it on friday');
    await alice.page
      .getByTestId('message-text')
      .filter({ hasText: 'set the topic: ship it on friday' })
      .waitFor({ timeout: WAIT_MS });
    await alice.page
      .getByTestId('conv-meta')
      .filter({ hasText: 'ship it on friday' })
      .waitFor({ timeout: WAIT_MS });
    expect(alice.problems).toEqual([]);
    expect(bob.problems).toEqual([]);
  }, 60_000);

  it('reconnects by itself after a server restart and rejoins its rooms', async () => {
    carol?.close();
    carol = undefined;
    const port = server.port;
    await server.stop();
    for (const { page } of [alice, bob]) {
      await page.locator('[data-testid="status"][data-state="reconnecting"]').waitFor({ timeout: WAIT_MS });
      await roomItem(page, 'dev').and(page.locator('[data-joined="false"]')).waitFor({ timeout: WAIT_MS });
    }
    await alice.page.screenshot({ path: `${ARTIFACTS}browser-reconnecting.png` });
    server = await startServer(port);
    for (const { page } of [alice, bob]) {
      await page.locator('[data-testid="status"][data-state="connected"]').waitFor({ timeout: WAIT_MS });
      for (const room of ['lobby', 'dev']) {
        await roomItem(page, room).and(page.locator('[data-joined="true"]')).waitFor({ timeout: WAIT_MS });
      }
    }
    await untilNotice(alice.page, 'rejoined #dev');
    // Both are back in #dev on the new server: a line from bob reaches alice.
    await bob.page.locator('[data-testid="room-item"][data-room="dev"]').getByRole('button').click();
    await say(bob.page, 'back after the restart');
    await alice.page
      .locator('[data-testid="message"]', { hasText: 'back after the restart' })
      .waitFor({ timeout: WAIT_MS });
    await alice.page.screenshot({ path: `${ARTIFACTS}browser-after-restart.png` });
    // While the server was down the browser logged each refused attempt; nothing else is allowed.
    for (const w of [alice, bob]) {
      const unexpected = w.problems.filter((p) => !/WebSocket connection to .* failed/.test(p));
      expect(unexpected).toEqual([]);
      w.problems.length = 0;
    }
  }, 60_000);

  it('looks right in dark mode and on a narrow screen', async () => {
    // Reduced motion turns the sidebar's slide off, so the screenshot needs no wait for it.
    await alice.page.bringToFront();
    await alice.page.emulateMedia({ colorScheme: 'dark', reducedMotion: 'reduce' });
    await roomItem(alice.page, 'lobby').getByRole('button').click();
    await alice.page.screenshot({ path: `${ARTIFACTS}browser-dark.png` });
    await alice.page.setViewportSize({ width: 390, height: 760 });
    const sidebarLeft = () =>
      alice.page.evaluate(
        () => document.querySelector('[data-testid="sidebar"]')?.getBoundingClientRect().left ?? NaN,
      );
    expect(await sidebarLeft()).toBeLessThan(0); // off-screen until the menu opens it
    await alice.page.getByTestId('menu-toggle').click();
    await alice.page.locator('[data-testid="app"][data-sidebar="open"]').waitFor();
    expect(await sidebarLeft()).toBe(0);
    await alice.page.screenshot({ path: `${ARTIFACTS}browser-narrow.png` });
    // Tapping the dimmed page beside the open sidebar closes it.
    await alice.page.getByTestId('scrim').click({ position: { x: 370, y: 400 } });
    await alice.page.locator('[data-testid="app"][data-sidebar="closed"]').waitFor();
    expect(alice.problems).toEqual([]);
  }, 60_000);
});
