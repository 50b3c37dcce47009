import type { ServerMessage } from '../../protocol/events.js';
import { sanitizeText } from '../../protocol/sanitize.js';

// Message bodies may be multi-line; every other string is one line.
const MULTILINE_KEYS = new Set(['message']);

function clean(value: unknown, key: string): unknown {
  if (typeof value === 'string') return sanitizeText(value, { keepNewlines: MULTILINE_KEYS.has(key) });
  if (Array.isArray(value)) return value.map((v) => clean(v, key));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = clean(v, k);
    return out;
  }
  return value;
}

/**
 * Returns the event with every string in it stripped of terminal control and escape sequences.
 * The reducer applies it to everything from the network, so nothing the TUI renders can move the
 * cursor, recolour the screen, ring the bell or set the title, whoever sent it.
 */
export function sanitizeEvent(event: ServerMessage): ServerMessage {
  return clean(event, '') as ServerMessage;
}
