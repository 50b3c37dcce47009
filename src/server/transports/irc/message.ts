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
const BARE_LAST = new Set(['JOIN', 'NICK', 'PART', 'BATCH', 'AUTHENTICATE', 'ACK', 'MODE']);

/**
 * Builds one wire line, CR LF included. Every middle parameter is made safe (no space, no
 * leading colon, never empty) and the last one is always written with a colon when it needs one,
 * so no value can add a parameter or a line. CR, LF and NUL never reach the wire: they are
 * removed from every part (text handed in should already be sanitised; this is the last guard).
 */
export function formatMessage(m: OutMessage): string {
  let line = '';
  if (m.tags) {
    const parts: string[] = [];
    for (const [key, value] of Object.entries(m.tags))
      parts.push(value === undefined || value === '' ? key : `${key}=${escapeTagValue(value)}`);
    if (parts.length > 0) line += `@${parts.join(';')} `;
  }
  const source = m.source === undefined ? '' : clean(m.source).replace(/\s/g, '');
  if (source !== '') line += `:${source} `;
  line += m.command;
  const last = m.params.length - 1;
  const colonAlways = !BARE_LAST.has(m.command);
  m.params.forEach((raw, i) => {
    const p = clean(raw);
    if (i === last && (colonAlways || p === '' || p.includes(' ') || p.startsWith(':'))) line += ` :${p}`;
    else line += ` ${p.replace(/ /g, '_').replace(/^:/, '_') || '*'}`;
  });
  return `${line}\r\n`;
}

/** The bytes of a formatted line that count against {@link MAX_LINE_BYTES}: all but its tags. */
export function untaggedBytes(line: string): number {
  const body = line.startsWith('@') ? line.slice(line.indexOf(' ') + 1) : line;
  return Buffer.byteLength(body, 'utf8');
}

function clean(text: string): string {
  return text.replace(/[\r\n\0]/g, '');
}
