import { sanitizeText } from '../../../protocol/sanitize.js';

/**
 * IRC lines with IRCv3 message tags: parsing what a client sends and building what it reads.
 * Pure functions, no socket; the parser never throws (a line it cannot read is `undefined`).
 */

/** One IRC message. `params` holds every parameter, the trailing one included. */
export interface IrcMessage {
  tags: Map<string, string>;
  /** The prefix without its colon (clients may send one; it is ignored). */
  source: string | undefined;
  /** The verb, upper-cased; or a three-digit numeric. */
  command: string;
  params: string[];
}

/** Bytes of a line without its tags, CRLF included (RFC 1459, Modern IRC). */
export const MAX_LINE_BYTES = 512;
/** Bytes the tags of a client's line may take, `@` and the space after them included (IRCv3). */
export const MAX_CLIENT_TAG_BYTES = 4096;
/** Parameters a message may carry; later words belong to the last one. */
const MAX_PARAMS = 15;

const TAG_UNESCAPES: Record<string, string> = { ':': ';', s: ' ', '\\': '\\', r: '\r', n: '\n' };

/** Reads a tag value as the IRCv3 escaping rules say (unknown escapes drop the backslash). */
export function unescapeTagValue(raw: string): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = raw[++i];
    if (next === undefined) break;
    out += TAG_UNESCAPES[next] ?? next;
  }
  return out;
}

/**
 * Escapes a tag value for the wire: no `;`, space, backslash, CR or LF survives as itself; NUL
 * and whitespace other than the space are dropped.
 */
export function escapeTagValue(value: string): string {
  return value.replace(/[;\s\\\r\n\0]/g, (c) =>
    c === ';'
      ? '\\:'
      : c === ' '
        ? '\\s'
        : c === '\\'
          ? '\\\\'
          : c === '\r'
            ? '\\r'
            : c === '\n'
              ? '\\n'
              : '',
  );
}

/**
 * Parses one line (without its CR LF). Undefined when it carries no command. Leading spaces are
 * skipped, runs of spaces between parameters count as one, as Modern IRC allows.
 */
export function parseMessage(line: string): IrcMessage | undefined {
  let rest = line;
  const tags = new Map<string, string>();
  if (rest.startsWith('@')) {
    const end = rest.indexOf(' ');
    if (end === -1) return undefined;
    for (const part of rest.slice(1, end).split(';')) {
      if (part === '') continue;
      const eq = part.indexOf('=');
      const key = eq === -1 ? part : part.slice(0, eq);
      if (!/^\+?([A-Za-z0-9.-]+\/)?[A-Za-z0-9-]+$/.test(key)) continue;
      tags.set(key, eq === -1 ? '' : unescapeTagValue(part.slice(eq + 1)));
    }
    rest = rest.slice(end + 1);
  }
  rest = rest.replace(/^ +/, '');
  let source: string | undefined;
  if (rest.startsWith(':')) {
    const end = rest.indexOf(' ');
    if (end === -1) return undefined;
    source = rest.slice(1, end);
    rest = rest.slice(end + 1).replace(/^ +/, '');
  }
  const params: string[] = [];
  const commandEnd = rest.indexOf(' ');
  const command = (commandEnd === -1 ? rest : rest.slice(0, commandEnd)).toUpperCase();
  if (!/^([A-Z]+|\d{3})$/.test(command)) return undefined;
  rest = commandEnd === -1 ? '' : rest.slice(commandEnd + 1);
  while (rest.length > 0) {
    if (rest.startsWith(' ')) {
      rest = rest.replace(/^ +/, '');
      continue;
    }
    if (rest.startsWith(':') || params.length === MAX_PARAMS - 1) {
      params.push(rest.startsWith(':') ? rest.slice(1) : rest);
      break;
    }
    const end = rest.indexOf(' ');
    params.push(end === -1 ? rest : rest.slice(0, end));
    rest = end === -1 ? '' : rest.slice(end + 1);
  }
  return { tags, source, command, params };
}

/** What {@link formatMessage} writes: tags (`undefined` value: a tag without one), source, verb, params. */
export interface OutMessage {
  tags?: Record<string, string | undefined> | undefined;
  source?: string | undefined;
  command: string;
  params: readonly string[];
}

/**
 * Verbs whose last parameter is a name, not text: written with a colon only when it needs one
 * (`JOIN #lobby`). Every other last parameter (message text, numerics' text) always has one, as
 * most servers write it and some clients expect.
 */
const BARE_LAST = new Set([
  'JOIN',
  'NICK',
  'PART',
  'BATCH',
  'AUTHENTICATE',
  'ACK',
  'MODE',
  'INVITE',
  'ACCOUNT',
]);

/**
 * Builds one wire line, CR LF included, never longer than {@link MAX_LINE_BYTES} without its tags.
 * Every part goes through the terminal sanitiser (a CTCP's \x01 frame is kept around sanitised
 * text), so nothing a peer sent, echoed back in a numeric or relayed to others, carries a
 * control character, CR, LF or NUL. Middle parameters are made safe (no space, no leading
 * colon, never empty, at most 128 bytes: they are names), and the last one is cut to fit the
 * line (messages are split before they get here, so only echoed input is ever cut).
 */
export function formatMessage(m: OutMessage): string {
  let head = '';
  if (m.tags) {
    const parts: string[] = [];
    for (const [key, value] of Object.entries(m.tags))
      parts.push(value === undefined || value === '' ? key : `${key}=${escapeTagValue(sanitizeText(value))}`);
    if (parts.length > 0) head += `@${parts.join(';')} `;
  }
  let line = '';
  const source = m.source === undefined ? '' : sanitizeText(m.source).replace(/\s/g, '');
  if (source !== '') line += `:${source} `;
  line += m.command;
  const last = m.params.length - 1;
  const colonAlways = !BARE_LAST.has(m.command);
  for (let i = 0; i < last; i++) {
    const p = fitBytes(sanitizeText(m.params[i]!).replace(/ /g, '_').replace(/^:/, '_'), 128);
    line += ` ${p || '*'}`;
  }
  if (last >= 0) {
    const p = safeText(m.params[last]!);
    const colon = colonAlways || p === '' || p.includes(' ') || p.startsWith(':');
    const prefix = `${line} ${colon ? ':' : ''}`;
    line = prefix + fitBytes(p, MAX_LINE_BYTES - 2 - Buffer.byteLength(prefix, 'utf8'));
  }
  return `${head}${line}\r\n`;
}

/** Text for a last parameter: sanitised, a CTCP frame (`\x01VERB args\x01`) kept around it. */
function safeText(text: string): string {
  if (text.length >= 2 && text.startsWith('\x01') && text.endsWith('\x01'))
    return `\x01${sanitizeText(text.slice(1, -1))}\x01`;
  return sanitizeText(text);
}

/** `text` cut to at most `max` UTF-8 bytes, between code points. */
function fitBytes(text: string, max: number): string {
  if (Buffer.byteLength(text, 'utf8') <= max) return text;
  let bytes = 0;
  let end = 0;
  for (const ch of text) {
    const width = Buffer.byteLength(ch, 'utf8');
    if (bytes + width > Math.max(0, max)) break;
    bytes += width;
    end += ch.length;
  }
  return text.slice(0, end);
}

/** The bytes of a formatted line that count against {@link MAX_LINE_BYTES}: all but its tags. */
export function untaggedBytes(line: string): number {
  const body = line.startsWith('@') ? line.slice(line.indexOf(' ') + 1) : line;
  return Buffer.byteLength(body, 'utf8');
}
