/**
 * Issue 15 rendered: the activity list in the status bar (also below 50 columns, where the
 * sidebar is gone), the sidebar scrolling with counts of what it hides, Alt+J, the bell and the
 * title, and the config file followed as rooms are joined and left.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { followConfig, forServer } from '../../src/client/config-sync.js';
import { loadConfig, saveConfig } from '../../src/client/config.js';
import type { Store } from '../../src/client/state/state-store.js';
import { App } from '../../src/client/tui/App.js';
import { ev, joined, msg, welcome } from '../helpers/client-events.js';
import { FakeConnection } from '../helpers/fake-connection.js';
import { plain, press, useInkApps, waitForFrame } from '../helpers/ink-app.js';

const { mount } = useInkApps();

/** alice in rooms r1..r15 (r1 on screen) in a terminal of the given size. */
async function fifteen(
  columns: number,
  rows: number,
  extra: { written?: string[]; onStore?: (s: Store) => () => void } = {},
) {
  const conn = new FakeConnection();
  const written = extra.written;
  const r = mount(
    <App
      connection={conn}
      nick="alice"
      size={{ columns, rows }}
      {...(written ? { alerts: { bell: true, write: (b: string) => void written.push(b) } } : {})}
      {...(extra.onStore ? { onStore: extra.onStore } : {})}
    />,
  );
  conn.status({ state: 'connected' });
  conn.emit(welcome('alice'), ...Array.from({ length: 15 }, (_, i) => joined(`r${i + 1}`, ['alice', 'bob'])));
  await waitForFrame(r, (f) => f.includes('#r1 (2 users)'), 'the first screen');
  return { conn, r };
}

describe('activity you can see (item 1)', () => {
  it('a mention in room 12 of 15 in an 80x12 terminal shows in the hotlist and the sidebar', async () => {
    const { conn, r } = await fifteen(80, 12);
    conn.emit(
      ev('message', msg('r12', 1, 'bob', 'alice: look here')),
      ev('message', msg('r3', 1, 'bob', 'plain')),
    );
    const frame = await waitForFrame(r, (f) => f.includes('[Act:'), 'the hotlist');
    expect(frame).toContain('[Act: 12(1!),3]');
    // The sidebar shows room 3 but cannot show room 12, so it says there is activity below.
    expect(frame).toMatch(/↓ 1 active/);
    expect(frame).not.toMatch(/#r12/);
    // Alt+J 1 2 goes there, the status bar saying what the digits are for meanwhile; the sidebar
    // scrolls to it and says what is above.
    expect(await press(r, '\x1bj')).toContain('jump to __');
    expect(await press(r, '1')).toContain('jump to 1_');
    const there = await press(r, '2');
    expect(there).not.toContain('jump to');
    expect(there).toMatch(/#r12 \(2 users\)/);
    expect(there).toMatch(/12 #r12/);
    expect(there).toMatch(/↑ 1 active/);
    expect(there).not.toContain('[Act: 12');
  });

  it('below 50 columns (no sidebar) a DM still shows in the status bar', async () => {
    const { conn, r } = await fifteen(40, 12);
    conn.emit(ev('dm', { id: 'd1', ts: Date.now(), from: 'carol', to: 'alice', message: 'psst' }));
    const frame = await waitForFrame(r, (f) => f.includes('[Act:'), 'the hotlist');
    expect(frame).toContain('[Act: 16(1!)]');
    expect(frame).not.toContain('│');
  });
});

describe('bell and title (item 10)', () => {
  it('rings on a mention and a DM, and counts mentions in the title', async () => {
    const written: string[] = [];
    const { conn, r } = await fifteen(100, 20, { written });
    expect(written).toEqual(['\x1b]2;chat\x07']);
    conn.emit(ev('message', msg('r2', 1, 'bob', 'no bell')));
    await waitForFrame(r, (f) => f.includes('[Act: 2]'), 'plain activity');
    expect(written.join('')).not.toContain('\x07\x1b]2;(');
    conn.emit(ev('message', msg('r2', 2, 'bob', 'alice: bell')));
    await waitForFrame(r, (f) => f.includes('[Act: 2(1!)]'), 'a mention');
    expect(written.at(-1)).toBe('\x07\x1b]2;(1) chat\x07');
  });
});

describe('the config file follows the rooms', () => {
  it('joins, leaves and seqs are written; a room not answered yet is kept', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chat-config-'));
    const path = join(dir, 'sub', 'config.json');
    saveConfig(path, { server: 'ws://example:1/ws', rooms: ['r2', 'later'], bell: false, extra_key: 1 });
    const initial = loadConfig(path);
    let follower: ReturnType<typeof followConfig> | undefined;
    const { conn, r } = await fifteen(100, 20, {
      onStore: (store) => {
        follower = followConfig(store, path, initial, { delayMs: 60_000 });
        return () => follower!.stop();
      },
    });
    conn.emit(ev('message', msg('r2', 7, 'bob', 'hello')));
    await waitForFrame(r, (f) => f.includes('[Act: 2]'), 'the message');
    await press(r, '/leave r3', '\r');
    follower!.flush();
    const saved = JSON.parse(readFileSync(path, 'utf8'));
    expect(saved.rooms).toEqual([
      ...Array.from({ length: 15 }, (_, i) => `r${i + 1}`).filter((x) => x !== 'r3'),
      'later',
    ]);
    expect(saved.last_seq).toEqual({ r2: 7 });
    expect(saved).toMatchObject({ server: 'ws://example:1/ws', bell: false, extra_key: 1 });
  });

  it('remembered seqs belong to the server they were seen on', () => {
    const a = 'ws://127.0.0.1:8080/ws';
    const b = 'ws://chat.example.org/ws';
    const seen = forServer(
      { rooms: ['lobby', 'dev'], last_seq: { lobby: 40, dev: 7 }, epochs: { lobby: 'k1' } },
      a,
    );
    // Written before the server was recorded: not trusted, but the rooms are still joined.
    expect(seen).toEqual({ rooms: ['lobby', 'dev'], last_seq: {}, last_seq_server: a });
    const saved = { ...seen, last_seq: { lobby: 41, dev: 7 }, epochs: { lobby: 'k2', dev: 'k3' } };
    expect(forServer(saved, a)).toBe(saved);
    // Another server's lobby counts its own seqs: joined afresh, and its seqs replace a's.
    expect(forServer(saved, b)).toEqual({ rooms: ['lobby', 'dev'], last_seq: {}, last_seq_server: b });
    const dir = mkdtempSync(join(tmpdir(), 'chat-config-'));
    const path = join(dir, 'config.json');
    saveConfig(path, saved);
    expect(loadConfig(path)).toEqual(saved);
  });

  it('refuses a broken file with the field named', () => {
    const dir = mkdtempSync(join(tmpdir(), 'chat-config-'));
    const path = join(dir, 'config.json');
    saveConfig(path, { rooms: ['ok', 'bad room'] });
    expect(() => loadConfig(path)).toThrow(/rooms\.1 is not a room name/);
    expect(loadConfig(join(dir, 'missing.json'))).toEqual({});
  });
});

describe('links and the bare view (item 9)', () => {
  const OSC8 = /\x1b\]8;;([^\x1b]*)\x1b\\([^\x1b]*)\x1b\]8;;\x1b\\/g;
  const URL = 'https://example.com/a/rather/long/path/that/wraps/over/rows?q=1';

  async function withLink(columns: number) {
    const conn = new FakeConnection();
    const r = mount(<App connection={conn} nick="alice" size={{ columns, rows: 12 }} />);
    conn.status({ state: 'connected' });
    conn.emit(welcome('alice'), joined('lobby', ['alice', 'bob']));
    conn.emit(
      ev('message', msg('lobby', 1, 'bob', `see ${URL}, and javascript:alert(1) or ftp://x.example/y`)),
    );
    await waitForFrame(r, (f) => f.replace(OSC8, '$2').includes('see https://'), 'the message');
    return r;
  }

  it('an http(s) URL is an OSC 8 link on every row it wraps to; other schemes are not', async () => {
    const r = await withLink(60);
    const frame = r.lastFrame() ?? '';
    const links = [...frame.matchAll(OSC8)];
    expect(links.length).toBeGreaterThanOrEqual(2);
    expect(new Set(links.map((m) => m[1]))).toEqual(new Set([URL]));
    // The pieces shown as links make up the URL, without the comma after it.
    expect(links.map((m) => m[2]!.trim()).join('')).toBe(URL);
    expect(frame).not.toMatch(/8;;(javascript|ftp)/);
    // Widths hold: no row is wider than the terminal once the escapes are taken out.
    for (const row of plain(frame).replace(OSC8, '$2').split('\n'))
      expect(row.length).toBeLessThanOrEqual(60);
  });

  it('Alt+L drops the sidebar and the hanging indent; Alt+L again brings them back', async () => {
    const r = await withLink(60);
    const indented = plain(r.lastFrame()).replace(OSC8, '$2');
    expect(indented).toContain('│');
    let frame = (await press(r, '\x1bl')).replace(OSC8, '$2');
    expect(frame).not.toContain('│');
    expect(frame).toContain('bare view (Alt+L)');
    expect(frame).not.toContain('Rooms');
    // Continuation rows start at the left edge.
    const rows = frame.split('\n');
    const first = rows.findIndex((l) => l.includes('see https://'));
    expect(rows[first]).toMatch(/^\d\d:\d\d <bob> see https:/);
    expect(rows[first + 1]).toMatch(/^\S/);
    frame = (await press(r, '\x1bl')).replace(OSC8, '$2');
    expect(frame).toContain('│');
    expect(frame).not.toContain('bare view');
  });
});
