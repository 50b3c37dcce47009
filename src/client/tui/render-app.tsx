import { render } from 'ink';
import type { ChatConnection } from '../connection-types.js';
import { App } from './App.js';

/** Renders the App on the process's terminal and resolves when the user quits. */
export async function renderApp(connection: ChatConnection, nick: string): Promise<void> {
  const instance = render(<App connection={connection} nick={nick} />, {
    // Ctrl+C is ours: quitting goes through the App so the terminal is restored in order.
    exitOnCtrlC: false,
    patchConsole: true,
    // Rewrite only the rows that changed: no flicker, little output per keystroke.
    incrementalRendering: true,
    maxFps: 60,
  });
  await instance.waitUntilExit();
}
