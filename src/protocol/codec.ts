import { protocolError, type ProtocolError } from './errors.js';
import type { ServerMessage } from './events.js';
import {
  MAX_HISTORY_PAGE,
  MAX_MESSAGE_CHARS,
  MAX_MESSAGE_LINES,
  MAX_REASON_CHARS,
  MAX_ROOM_NAME_CHARS,
  MAX_STATUS_CHARS,
  MAX_TOPIC_CHARS,
  ROOM_ID_PATTERN,
} from './limits.js';
import { checkNick } from './nick.js';
import { isTerminalSafe, sanitizeText } from './sanitize.js';
import { isRequestType, requestSchemas, type ClientMessage } from './schema.js';

/** The result of decoding one client frame: a request, or an error to answer with (and its ref). */
export type DecodeResult =
  { ok: true; message: ClientMessage } | { ok: false; error: ProtocolError; ref?: string | number };

/** Options for {@link decodeClientFrame}. */
export interface DecodeOptions {
  maxMessageChars?: number;
}

type Ref = string | number | undefined;

function readRef(value: unknown): Ref | null {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  // Echoed back verbatim, into terminals too: printable text only, like every other field.
  if (typeof value === 'string' && value.length <= 128 && isTerminalSafe(value)) return value;
  return null;
}

/** Counts code points without allocating, so a 64 KiB string is cheap to measure. */
export function codePointLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/**
 * Parses and validates one client frame. Never throws: every problem becomes a
 * {@link ProtocolError} with a stable code, carrying the frame's `ref` when it could be read.
 */
export function decodeClientFrame(text: string, options: DecodeOptions = {}): DecodeResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, error: protocolError('bad_json') };
  }
  return decodeClientValue(raw, options);
}

/** Validates an already-parsed JSON value as a client request (see {@link decodeClientFrame}). */
export function decodeClientValue(raw: unknown, options: DecodeOptions = {}): DecodeResult {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, error: protocolError('bad_frame') };
  }
  const frame = raw as Record<string, unknown>;
  const ref = readRef(frame.ref);
  if (ref === null)
    return {
      ok: false,
      error: protocolError(
        'invalid_payload',
        'ref must be a number or a string of at most 128 printable characters (no control characters)',
      ),
    };
  const fail = (error: ProtocolError): DecodeResult =>
    ref === undefined ? { ok: false, error } : { ok: false, error, ref };
  if (typeof frame.type !== 'string')
    return fail(protocolError('bad_frame', 'the frame has no string "type"'));
  const type = frame.type;
  if (!isRequestType(type))
    return fail(protocolError('unknown_type', `unknown type "${sanitizeText(type).slice(0, 40)}"`));
  const parsed = requestSchemas[type].safeParse(frame.payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'payload';
    return fail(protocolError('invalid_payload', `${type}: ${where}: ${issue?.message ?? 'invalid'}`));
  }
  const message = { type, payload: parsed.data ?? null } as ClientMessage;
  if (ref !== undefined) message.ref = ref;
  const domainError = checkDomain(message, options.maxMessageChars ?? MAX_MESSAGE_CHARS);
  return domainError ? fail(domainError) : { ok: true, message };
}

function checkRoomId(roomId: string): ProtocolError | undefined {
  return ROOM_ID_PATTERN.test(roomId)
    ? undefined
    : protocolError(
        'bad_room_id',
        `bad room id "${sanitizeText(roomId).slice(0, 64)}": use 1-64 letters, digits, "_", "-" or "."`,
      );
}

function checkText(text: string, maxChars: number): { text: string } | ProtocolError {
  if (text.length > maxChars * 2 || codePointLength(text) > maxChars) {
    return protocolError('message_too_long', `messages are at most ${maxChars} characters`);
  }
  const clean = foldBlankLines(sanitizeText(text, { keepNewlines: true }));
  if (clean.trim().length === 0) return protocolError('empty_message');
  const lines = clean.split('\n').length;
  if (lines > MAX_MESSAGE_LINES) {
    return protocolError(
      'too_many_lines',
      `messages are at most ${MAX_MESSAGE_LINES} lines (this one has ${lines}); split it or share a link`,
    );
  }
  return { text: clean };
}

/**
 * Blank lines at the start and end of a message are dropped and a run of blank lines inside it
 * becomes one empty line: the text reads the same, and 4,000 newlines cannot fill a screen.
 */
export function foldBlankLines(text: string): string {
  if (!text.includes('\n')) return text;
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const blank = line.trim() === '';
    if (blank && (out.length === 0 || out[out.length - 1] === '')) continue;
    out.push(blank ? '' : line);
  }
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out.join('\n');
}

/**
 * An away message or quit reason: one line (control characters and newlines become spaces),
 * trimmed, at most MAX_STATUS_CHARS. Empty means none: undefined.
 */
function checkStatus(text: string | undefined, field: string): { text?: string } | ProtocolError {
  if (text === undefined) return {};
  if (text.length > MAX_STATUS_CHARS * 2 || codePointLength(text) > MAX_STATUS_CHARS)
    return protocolError('bad_status', `${field}: at most ${MAX_STATUS_CHARS} characters`);
  const clean = sanitizeText(text.replace(/[\r\n]+/g, ' ')).trim();
  return clean === '' ? {} : { text: clean };
}

function normaliseNick(p: { user_name?: string }, field = 'user_name'): ProtocolError | undefined {
  if (p.user_name === undefined) return undefined;
  const check = checkNick(p.user_name);
  if (!check.ok) return protocolError('bad_nick', `${field}: ${check.reason}`);
  p.user_name = check.nick;
  return undefined;
}

/** Domain rules, applied in place (normalised nicks, cleaned text). Returns the first violation. */
function checkDomain(m: ClientMessage, maxChars: number): ProtocolError | undefined {
  switch (m.type) {
    case 'hello':
    case 'nick':
      return (
        normaliseNick(m.payload) ??
        (m.type === 'hello' && (m.payload.password?.length ?? 0) > 256
          ? protocolError('bad_password')
          : undefined)
      );
    case 'create_room': {
      const bad = checkRoomId(m.payload.room_id) ?? normaliseNick(m.payload);
      if (bad) return bad;
      if (m.payload.room_name !== undefined) {
        const name = sanitizeText(m.payload.room_name).trim();
        if (name.length === 0 || codePointLength(name) > MAX_ROOM_NAME_CHARS)
          return protocolError('bad_room_name');
        m.payload.room_name = name;
      }
      return undefined;
    }
    case 'join':
      return checkRoomId(m.payload.room_id) ?? normaliseNick(m.payload);
    case 'leave':
      return checkRoomId(m.payload.room_id) ?? checkReason(m.payload);
    case 'users':
      return checkRoomId(m.payload.room_id);
    case 'history':
      if (m.payload.limit !== undefined) m.payload.limit = Math.min(m.payload.limit, MAX_HISTORY_PAGE);
      return checkRoomId(m.payload.room_id);
    case 'message': {
      const bad = checkRoomId(m.payload.room_id);
      if (bad) return bad;
      // The key travels in every member's copy of the message: no terminal control may ride along.
      if (m.payload.client_msg_id !== undefined && !isTerminalSafe(m.payload.client_msg_id)) {
        return protocolError(
          'invalid_payload',
          'message: client_msg_id: control, escape and bidi characters are not allowed',
        );
      }
      const text = checkText(m.payload.message, maxChars);
      if ('code' in text) return text;
      m.payload.message = text.text;
      return undefined;
    }
    case 'dm': {
      const to = checkNick(m.payload.to);
      if (!to.ok) return protocolError('bad_nick', `to: ${to.reason}`);
      m.payload.to = to.nick;
      const text = checkText(m.payload.message, maxChars);
      if ('code' in text) return text;
      m.payload.message = text.text;
      return undefined;
    }
    case 'register':
      return m.payload.password.length < 8 || m.payload.password.length > 256
        ? protocolError('bad_password')
        : undefined;
    case 'away':
    case 'quit': {
      const field = m.type === 'away' ? 'message' : 'reason';
      const p = m.payload as { message?: string; reason?: string } | null;
      const status = checkStatus(p?.[field], field);
      if ('code' in status) return status;
      // Normalised to one shape: a payload object whose field is absent when there is no text.
      m.payload = status.text === undefined ? {} : { [field]: status.text };
      return undefined;
    }
    case 'whois': {
      const who = checkNick(m.payload.user_name);
      if (!who.ok) return protocolError('bad_nick', `user_name: ${who.reason}`);
      m.payload.user_name = who.nick;
      return undefined;
    }
    case 'rooms':
    case 'ping':
      return undefined;
    case 'topic': {
      const bad = checkRoomId(m.payload.room_id);
      if (bad || m.payload.topic === undefined) return bad;
      const topic = checkLine(m.payload.topic, MAX_TOPIC_CHARS, true);
      if (topic === undefined) return protocolError('bad_topic');
      m.payload.topic = topic;
      return undefined;
    }
    case 'role':
    case 'invite':
      return checkRoomId(m.payload.room_id) ?? normaliseNick(m.payload);
    case 'kick':
      return checkRoomId(m.payload.room_id) ?? normaliseNick(m.payload) ?? checkReason(m.payload);
    case 'kill':
      return normaliseNick(m.payload) ?? checkReason(m.payload);
    case 'ban':
    case 'unban': {
      const bad = checkRoomId(m.payload.room_id);
      if (bad || m.payload.mask === undefined) return bad;
      const mask = checkLine(m.payload.mask, 100, false);
      if (mask === undefined) return protocolError('bad_mask');
      m.payload.mask = mask;
      return undefined;
    }
    case 'mode': {
      const bad = checkRoomId(m.payload.room_id);
      if (bad || m.payload.modes === undefined) return bad;
      return MODES_PATTERN.test(m.payload.modes) ? undefined : protocolError('bad_modes');
    }
  }
}

/** `+t`, `-i`, `+tm-i`: signs, each followed by mode letters. */
const MODES_PATTERN = /^(?:[+-][tim]{1,3}){1,6}$/;

/**
 * One line of printable text (topic, reason, mask), cleaned and trimmed: undefined when it is too
 * long, or empty and `mayBeEmpty` is false.
 */
function checkLine(text: string, maxChars: number, mayBeEmpty: boolean): string | undefined {
  if (text.length > maxChars * 2) return undefined;
  const clean = sanitizeText(text).trim();
  if (codePointLength(clean) > maxChars || (!mayBeEmpty && clean.length === 0)) return undefined;
  return clean;
}

function checkReason(p: { reason?: string }): ProtocolError | undefined {
  if (p.reason === undefined) return undefined;
  const reason = checkLine(p.reason, MAX_REASON_CHARS, true);
  if (reason === undefined)
    return protocolError('invalid_payload', `reason: at most ${MAX_REASON_CHARS} printable characters`);
  p.reason = reason;
  return undefined;
}

/** Serialises a server event. Called once per room event, never once per member. */
export function encodeServerMessage(message: ServerMessage): string {
  return JSON.stringify(message);
}

/** Builds the frame a client sends; used by the TUI, the bench loader and tests. */
export function encodeClientMessage(message: ClientMessage): string {
  return JSON.stringify(message);
}
