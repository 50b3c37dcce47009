/**
 * Neutralises terminal control in text that came from the network.
 *
 * Whatever a peer sends, the result can be written to a terminal without moving the cursor,
 * changing colours, ringing the bell, setting the title or reordering text (bidi overrides):
 * escape sequences are removed whole, then every remaining C0/C1 control, DEL and bidi
 * control character is dropped. Tabs become a space; newlines survive only when asked.
 */

// Whole escape sequences first, so their printable tails (e.g. "[31m") do not leak through.
const ESCAPE_SEQUENCES = new RegExp(
  [
    '\\x1b\\][^\\x07\\x1b\\x9c]*(?:\\x07|\\x1b\\\\|\\x9c)?', // OSC ... BEL | ST
    '\\x1b[PX^_][^\\x1b\\x9c]*(?:\\x1b\\\\|\\x9c)?', // DCS, SOS, PM, APC ... ST
    '\\x1b\\[[\\x30-\\x3f]*[\\x20-\\x2f]*[\\x40-\\x7e]?', // CSI
    '\\x9b[\\x30-\\x3f]*[\\x20-\\x2f]*[\\x40-\\x7e]?', // 8-bit CSI
    '\\x9d[^\\x07\\x1b\\x9c]*(?:\\x07|\\x1b\\\\|\\x9c)?', // 8-bit OSC
    '[\\x90\\x98\\x9e\\x9f][^\\x1b\\x9c]*(?:\\x1b\\\\|\\x9c)?', // 8-bit DCS, SOS, PM, APC
    '\\x1b[\\x20-\\x2f]*[\\x30-\\x7e]?', // any other ESC sequence (and a lone ESC)
  ].join('|'),
  'g',
);

// C0 except \n and \t, DEL, C1, bidi embeddings/overrides/isolates and marks, line/paragraph separators.
const CONTROL_CHARS =
  /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Options for {@link sanitizeText}. */
export interface SanitizeOptions {
  /** Keep `\n` (multi-line messages); otherwise newlines become a space. */
  keepNewlines?: boolean;
}

/** Returns `text` with every terminal control and escape sequence removed. */
export function sanitizeText(text: string, options: SanitizeOptions = {}): string {
  let out = text.replace(ESCAPE_SEQUENCES, '').replace(CONTROL_CHARS, '').replace(LONE_SURROGATE, '\ufffd');
  out = out.replace(/\r\n?/g, '\n').replace(/\t/g, ' ');
  if (!options.keepNewlines) out = out.replace(/\n/g, ' ');
  return out;
}

/** True when `text` holds no character that {@link sanitizeText} would remove or change. */
export function isTerminalSafe(text: string, options: SanitizeOptions = {}): boolean {
  return sanitizeText(text, options) === text;
}
