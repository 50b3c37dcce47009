import { configPath, loadConfig } from './config.js';
import { followConfig, forServer } from './config-sync.js';
import { createConnection } from './server-link.js';
import { enterFullScreen } from './terminal.js';

/** What `chat connect` passes in. */
export interface ConnectOptions {
  /** WebSocket URL, e.g. ws://127.0.0.1:8080/ws; undefined: the config's server, else the default. */
  url?: string;
  /** The nick to ask for; undefined or empty: the config's, else $USER. */
  nick?: string;
  /** --config: the config file (default $XDG_CONFIG_HOME/chat/config.json). */
  config?: string;
}

/** Where `chat connect` goes when neither a flag nor the config says. */
export const DEFAULT_URL = 'ws://127.0.0.1:8080/ws';

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

  const path = configPath(options.config);
  let config;
  try {
    config = loadConfig(path);
  } catch (err) {
    process.stderr.write(`chat connect: ${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  const screen = enterFullScreen();
  // Raw mode from the first moment: keys typed while the screen code loads wait in the tty
  // unechoed and uncooked (Enter stays \r), to be read as keys once the App listens.
  process.stdin.setRawMode(true);
  const nick = options.nick || config.nick || process.env.USER || process.env.USERNAME || 'guest';
  const url = options.url ?? config.server ?? DEFAULT_URL;
  config = forServer(config, url);
  const connection = createConnection({ url, nick });
  // Remembered rooms are asked for before the first hello: they come after the default room,
  // in the order they were in, and replay what was missed since the seq remembered for each.
  for (const room of config.rooms ?? [])
    connection.joinRoom(room, config.last_seq?.[room], config.epochs?.[room]);
  // Connecting overlaps loading Ink and React (about half a second): the connection keeps what
  // it hears until the App subscribes.
  connection.start();
  try {
    const { renderApp } = await import('./tui/render-app.js');
    await renderApp(connection, nick, {
      ignores: config.ignores ?? [],
      alerts: { bell: config.bell !== false, write: (bytes) => process.stdout.write(bytes) },
      onStore: (store) => {
        const follower = followConfig(store, path, config);
        return () => follower.stop();
      },
    });
  } finally {
    connection.close();
    screen.restore();
  }
}
