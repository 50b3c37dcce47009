import { EventEmitter } from 'node:events';
import { render, type Instance } from 'ink';
import type { ChatConnection } from '../server-link-types.js';
import type { Store } from '../state/state-store.js';
import { App, type AppProps } from './App.js';
import { FrameWriter } from './frame-writer.js';
import { startScreenOverlay } from './screen-overlay.js';
import type { ViewGate } from './view-gate.js';

/** The terminal the App is drawn on: stdout must be a TTY-shaped stream. */
export interface Terminal {
  stdout: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
}

/** A mounted App: Ink's instance and the writer that puts its frames on the terminal. */
export interface MountedApp {
  instance: Instance;
  writer: FrameWriter;
}

/**
 * What Ink writes to: it hands over each whole frame (Ink's debug mode renders every commit
 * synchronously and writes the frame as is), and the FrameWriter turns it into the few rows
 * that changed. Size and resizes are the real terminal's.
 */
class FrameStream extends EventEmitter {
  readonly isTTY = true;
  constructor(
    private readonly real: NodeJS.WriteStream,
    private readonly writer: FrameWriter,
  ) {
    super();
  }
  get columns(): number {
    return this.real.columns;
  }
  get rows(): number {
    return this.real.rows;
  }
  write = (frame: string): boolean => {
    this.writer.frame(frame);
    return true;
  };
}

/** Mounts the App on a terminal (the process's by default). */
export function mountApp(
  connection: ChatConnection,
  nick: string,
  terminal: Terminal = { stdout: process.stdout, stdin: process.stdin },
  props: Partial<AppProps> = {},
): MountedApp {
  const size = () => ({ columns: terminal.stdout.columns || 80, rows: terminal.stdout.rows || 24 });
  const writer = new FrameWriter(terminal.stdout, () => size().rows);
  const stream = new FrameStream(terminal.stdout, writer);
  let repaint = () => {};
  // The writer must know the screen is stale before Ink draws the resized frame.
  terminal.stdout.on('resize', () => {
    writer.invalidate();
    repaint();
    stream.emit('resize');
  });
  // The screen is drawn beside Ink, straight from the store: a keystroke writes its row, a PgUp
  // or a message the pane's cells, a room switch the rows that changed, without React
  // re-rendering or Ink re-serialising the screen (which is what costs 20-50 ms at 200x60).
  const screenOverlay = (store: Store, gate: ViewGate) => {
    const overlay = startScreenOverlay(store, writer, size, gate);
    repaint = overlay.paint;
    return () => {
      overlay.stop();
      repaint = () => {};
    };
  };
  const instance = render(
    <App
      connection={connection}
      nick={nick}
      onCursor={(at) => writer.setCursor(at)}
      screenOverlay={screenOverlay}
      {...props}
    />,
    {
      stdout: stream as unknown as NodeJS.WriteStream,
      stdin: terminal.stdin,
      // Frames come to the FrameWriter whole and unthrottled; it writes only what changed.
      debug: true,
      // Ctrl+C is ours: quitting goes through the App so the terminal is restored in order.
      exitOnCtrlC: false,
      // Console output would land inside a frame: nothing in the client logs to the console.
      patchConsole: false,
    },
  );
  return { instance, writer };
}

/** Renders the App on the process's terminal and resolves when the user quits. */
export async function renderApp(
  connection: ChatConnection,
  nick: string,
  extra: Pick<AppProps, 'ignores' | 'alerts' | 'onStore'> = {},
): Promise<void> {
  const { instance } = mountApp(connection, nick, undefined, extra);
  await instance.waitUntilExit();
}
