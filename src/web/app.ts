/**
 * The browser client for chat: the page's entry module (web/app.js loads it as built, from
 * /dist/browser/web/app.js). Three layers, as in the terminal client:
 *   1. state/: the state model and how server events change it (no DOM, no sockets),
 *   2. connection/: the WebSocket, reconnect with backoff, requests and slash commands,
 *   3. view/: renders the state into index.html.
 * What every client shares comes from src/protocol (slash commands, sanitiser, nick keys) and
 * src/client (backoff, mention matching), compiled for the browser beside the page.
 *
 * Under Node (unit tests) this module only exports the pure parts; it boots when there is a
 * document.
 */
import { backoffDelay as sharedBackoffDelay, DEFAULT_BACKOFF } from '../client/backoff.js';
import { Client } from './connection/client.js';
import { View } from './view/view.js';

export { mentions } from '../client/state/mention.js';
export { COMMANDS, helpLines, lookupCommand, parseLine } from './command-parser.js';
export { Client } from './connection/client.js';
export { applyEvent, mergeHistory } from './state/events.js';
export {
  MAX_ITEMS,
  addItem,
  addNotice,
  createState,
  dmKey,
  ensureConv,
  removeConv,
  roomKey,
  selectConv,
  totalUnread,
} from './state/model.js';
export { cleanText } from './text.js';
export { formatTime, nickHue } from './view/format.js';

/** The delay before reconnect attempt `attempt`: the terminal client's (src/client/backoff.ts). */
export const backoffDelay = (attempt: number, random: () => number = Math.random): number =>
  sharedBackoffDelay(attempt, DEFAULT_BACKOFF, random);

declare global {
  interface Window {
    /** For debugging from the console and for tests; holds no secrets. */
    chatClient?: Client;
  }
}

function boot(): void {
  const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  const url = `${scheme}//${window.location.host}/ws`;
  let view: View | null = null;
  const client = new Client({ url, onChange: () => view?.schedule() });
  view = new View(client);
  try {
    const saved = window.localStorage?.getItem('chat.nick');
    if (saved) view.el.nickInput.value = saved;
  } catch {
    /* storage may be disabled */
  }
  view.render();
  view.el.nickInput.focus();
  window.chatClient = client;
}

if (typeof document !== 'undefined' && typeof window !== 'undefined') {
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
}
