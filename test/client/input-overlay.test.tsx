import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { mountApp, type MountedApp } from '../../src/client/tui/render-app.js';
import { joined, welcome } from '../helpers/client-events.js';
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
});
