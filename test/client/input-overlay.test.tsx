import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { mountApp, type MountedApp } from '../../src/client/tui/render-app.js';
import { ev, joined, msg, welcome } from '../helpers/client-events.js';
import { FakeConnection } from '../helpers/fake-connection.js';

/**
 * The input line drawn beside Ink (issue 15's keystroke target): through mountApp, as `chat
 * connect` runs, a letter typed re-draws its own row and nothing else; Ink does not render.
 */

/** A TTY-shaped stdout that keeps what is written. */
class Screen extends EventEmitter {
  readonly isTTY = true;
  columns = 120;
  rows = 20;
  written: string[] = [];
  write = (chunk: string) => {
    this.written.push(chunk);
    return true;
  };
}

/** A TTY-shaped stdin the test types into. */
class Keyboard extends EventEmitter {
  readonly isTTY = true;
  private data: string | null = null;
  setEncoding() {}
  setRawMode() {}
  resume() {}
  pause() {}
  ref() {}
  unref() {}
  read = () => {
    const d = this.data;
    this.data = null;
    return d;
  };
  type(key: string) {
    this.data = key;
    this.emit('readable');
  }
}

let mounted: MountedApp | undefined;
afterEach(() => {
  mounted?.instance.unmount();
  mounted = undefined;
});

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

describe('the input line beside Ink', () => {
  it('a letter typed writes only the input row, without an Ink frame; Enter still sends', async () => {
    const screen = new Screen();
    const keyboard = new Keyboard();
    const conn = new FakeConnection();
    mounted = mountApp(conn, 'alice', {
      stdout: screen as unknown as NodeJS.WriteStream,
      stdin: keyboard as unknown as NodeJS.ReadStream,
    });
    const { writer } = mounted;
    let inkFrames = 0;
    const frame = writer.frame.bind(writer);
    writer.frame = (output: string) => {
      inkFrames++;
      frame(output);
    };
    conn.status({ state: 'connected' });
    conn.emit(welcome('alice'), joined('lobby', ['alice', 'bob']));
    await until(() => screen.written.join('').includes('#lobby (2 users)'), 'the room');
    await until(() => screen.written.join('').includes('#lobby> '), 'the prompt');
    const framesBefore = inkFrames;
    const writesBefore = screen.written.length;
    for (const letter of 'hey') keyboard.type(letter);
    await until(() => screen.written.at(-1)!.includes('#lobby> \x1b[39m\x1b[22mhey'), 'the typed text');
    expect(inkFrames).toBe(framesBefore);
    const typed = screen.written.slice(writesBefore);
    // Each letter: its row on the bottom line (row 20), and the cursor after it.
    expect(typed).toHaveLength(3);
    for (const chunk of typed) {
      expect(chunk).toMatch(/^\x1b\[\?2026h\x1b\[\?25l\x1b\[\?7l\x1b\[20;1H\x1b\[2K/);
      expect(Buffer.byteLength(chunk)).toBeLessThan(100);
    }
    expect(typed.at(-1)).toContain('\x1b[20;12H');
    keyboard.type('\r');
    await until(() => conn.calls.some((c) => c.op === 'message' && c.text === 'hey'), 'the message sent');
  });

  it('keys typed before the server answers do not keep the rest of the screen from following it', async () => {
    const screen = new Screen();
    const keyboard = new Keyboard();
    const conn = new FakeConnection();
    mounted = mountApp(conn, 'alice', {
      stdout: screen as unknown as NodeJS.WriteStream,
      stdin: keyboard as unknown as NodeJS.ReadStream,
    });
    conn.status({ state: 'connecting' });
    await until(() => screen.written.join('').includes('connecting'), 'the first frame');
    for (const letter of 'early') keyboard.type(letter);
    await until(() => screen.written.join('').includes('early'), 'the typed text');
    conn.status({ state: 'connected' });
    conn.emit(welcome('alice'), joined('lobby', ['alice', 'bob']));
    await until(() => screen.written.join('').includes('#lobby (2 users)'), 'the room in the status bar');
  });

  /** Mounts the App through mountApp, counting Ink's frames, with #lobby (40 messages) and #dev open. */
  async function twoRooms() {
    const screen = new Screen();
    const keyboard = new Keyboard();
    const conn = new FakeConnection();
    mounted = mountApp(conn, 'alice', {
      stdout: screen as unknown as NodeJS.WriteStream,
      stdin: keyboard as unknown as NodeJS.ReadStream,
    });
    const { writer } = mounted;
    const counter = { inkFrames: 0 };
    const frame = writer.frame.bind(writer);
    writer.frame = (output: string) => {
      counter.inkFrames++;
      frame(output);
    };
    conn.status({ state: 'connected' });
    conn.emit(welcome('alice'), joined('lobby', ['alice', 'bob'], 40), joined('dev', ['alice', 'carol'], 1));
    const lobby = Array.from({ length: 40 }, (_, i) => msg('lobby', i + 1, 'bob', `lobby line ${i + 1}`));
    conn.emit(ev('history', { room_id: 'lobby', messages: lobby, has_more: false }));
    conn.emit(
      ev('history', { room_id: 'dev', messages: [msg('dev', 1, 'carol', 'dev line')], has_more: false }),
    );
    keyboard.type('\x1b1');
    await until(() => screen.written.join('').includes('lobby line 40'), 'the lobby pane');
    await until(() => screen.written.join('').includes('#lobby> '), 'the prompt');
    // Let any frame still on its way land.
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    return { screen, keyboard, conn, counter };
  }

  it('PgUp, End and a message arriving in the room on screen redraw the pane beside Ink, without an Ink frame', async () => {
    const { screen, keyboard, conn, counter } = await twoRooms();
    const framesBefore = counter.inkFrames;
    let before = screen.written.length;
    keyboard.type('\x1b[5~');
    await until(() => screen.written.join('').includes('more below: End to jump'), 'the page up');
    const paged = screen.written.slice(before).join('');
    expect(paged).toContain('lobby line 10');
    // The pane's cells only: each row is addressed at the pane's first column (after the sidebar), never at column 1.
    expect(paged).not.toMatch(/\x1b\[\d+;1H/);
    before = screen.written.length;
    keyboard.type('\x1b[F');
    await until(() => screen.written.slice(before).join('').includes('lobby line 40'), 'the live bottom');
    before = screen.written.length;
    conn.emit(ev('message', msg('lobby', 41, 'bob', 'a new one')));
    await until(() => screen.written.slice(before).join('').includes('a new one'), 'the message');
    expect(counter.inkFrames).toBe(framesBefore);
  });

  it('a room switch changes the prompt, the pane and the sidebar in one write', async () => {
    const { screen, keyboard, counter } = await twoRooms();
    const framesBefore = counter.inkFrames;
    const before = screen.written.length;
    keyboard.type('\x0e');
    await until(() => screen.written.join('').includes('#dev> '), 'the prompt');
    await until(() => counter.inkFrames > framesBefore, 'the Ink frame');
    await new Promise((r) => setImmediate(r));
    const writes = screen.written.slice(before);
    expect(writes).toHaveLength(1);
    expect(writes[0]).toContain('#dev> ');
    expect(writes[0]).toContain('dev line');
    expect(writes[0]).toContain('#dev (2 users)');
  });
});
