import { createConnection } from './connection.js';
import { enterFullScreen } from './terminal.js';

/** What `chat connect` passes in. */
export interface ConnectOptions {
  /** WebSocket URL, e.g. ws://127.0.0.1:8080/ws */
  url: string;
  /** The nick to ask for; $USER when empty. */
  nick: string;
}

/**
 * Runs the terminal client: full screen, connected to `url` as `nick`, until the user quits
 * (Ctrl+C or /quit). The terminal is restored on every way out.
 */
export async function runConnect(options: ConnectOptions): Promise<void> {
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    process.stderr.write('chat connect: needs an interactive terminal (stdin and stdout must be a TTY)\n');
    process.exitCode = 2;
    return;
  }
  // Ink draws nothing but the last frame when it thinks it runs in CI (is-in-ci reads CI and
  // CONTINUOUS_INTEGRATION once, at import). A full-screen client on a real TTY is never CI
  // output, so clear them before Ink is loaded.
  delete process.env.CI;
  delete process.env.CONTINUOUS_INTEGRATION;
  // React picks its build when first loaded; the development one records a performance entry
  // per component render, which piles up and turns every keystroke into garbage collection.
  process.env.NODE_ENV ??= 'production';
  const { renderApp } = await import('./tui/render-app.js');

  const nick = options.nick || process.env.USER || process.env.USERNAME || 'guest';
  const connection = createConnection({ url: options.url, nick });
  const screen = enterFullScreen();
  try {
    await renderApp(connection, nick);
  } finally {
    connection.close();
    screen.restore();
  }
}
