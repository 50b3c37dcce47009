import { render } from 'ink';
import type { ChatConnection } from '../connection-types.js';
import { App, type AppProps } from './App.js';

/** Renders the App on the process's terminal and resolves when the user quits. */
export async function renderApp(
  connection: ChatConnection,
  nick: string,
  extra: Pick<AppProps, 'ignores' | 'alerts' | 'onStore'> = {},
): Promise<void> {
  const instance = render(<App connection={connection} nick={nick} {...extra} />, {
    // Ctrl+C is ours: quitting goes through the App so the terminal is restored in order.
    exitOnCtrlC: false,
    patchConsole: true,
    // Ink 6.8's incremental mode starts one row low when the frame ends in a newline (ours does:
    // see screenLayout) and scrolls the screen; the standard mode redraws the frame in one write.
    incrementalRendering: false,
    maxFps: 60,
  });
  await instance.waitUntilExit();
}
