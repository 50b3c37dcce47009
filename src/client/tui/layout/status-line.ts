import type { ConnectionStatus } from '../../server-link-types.js';
import { hotItemText, type HotItem } from '../../state/hotlist.js';
import type { Conversation } from '../../state/types.js';
import type { Line, Segment } from './entry-lines.js';
import { cellWidth } from './wrap.js';

/** What the status bar shows. */
export interface StatusInput {
  server: string;
  nick: string;
  status: ConnectionStatus;
  conversation: Conversation | undefined;
  lagMs: number | null;
  width: number;
  choosingNick: boolean;
  /** Conversations with unread messages, mentions and DMs first ({@link hotlist}). */
  hot?: readonly HotItem[];
  /** The digits typed so far after Alt+J (`''` right after it), or null when no jump is waiting. */
  jump?: string | null;
  /** The bare view (Alt+L) is on. */
  bare?: boolean;
}

/**
 * A key mode the user is in, which changes what the next keys do: shown first, because typing
 * into it unawares sends digits to a jump instead of the input line.
 */
function modeText(jump: string | null, bare: boolean): string {
  const parts: string[] = [];
  if (jump !== null) parts.push(`jump to ${(jump + '__').slice(0, 2)}`);
  if (bare) parts.push('bare view (Alt+L)');
  return parts.join(', ');
}

function statusText(
  status: ConnectionStatus,
  now: number,
  choosingNick: boolean,
): { text: string; color: string; why?: string } {
  if (choosingNick) return { text: 'nick refused: choose another', color: 'red' };
  switch (status.state) {
    case 'connected':
      return { text: 'connected', color: 'green' };
    case 'connecting':
      return { text: 'connecting...', color: 'yellow' };
    case 'identifying':
      return { text: 'choosing a nick', color: 'yellow' };
    case 'reconnecting': {
      const seconds = Math.max(0, Math.ceil((status.retryAt - now) / 1000));
      return {
        text: seconds > 0 ? `reconnecting in ${seconds}s` : 'reconnecting...',
        color: 'yellow',
        ...(status.reason ? { why: ` (${status.reason})` } : {}),
      };
    }
    case 'closed':
      return { text: 'disconnected', color: 'red' };
  }
}

function where(conv: Conversation | undefined, short: boolean): string {
  if (!conv) return 'no room';
  if (conv.kind === 'dm') return `@${conv.name}`;
  if (short) return `#${conv.id}`;
  if (conv.joinRequest === 'pending') return `#${conv.id} (joining…)`;
  if (conv.joinRequest === 'failed') return `#${conv.id} (not joined)`;
  const n = conv.members.length;
  return `#${conv.id} (${n} ${n === 1 ? 'user' : 'users'})`;
}

/** One piece of the bar; `hot` pieces are the activity list. */
interface Part {
  key: string;
  text: string;
  color?: string;
  dim?: boolean;
  bold?: boolean;
  hot?: readonly HotItem[];
}

/** The activity list as WeeChat shows it: `[Act: 7(2!),12(1!),3]`. */
function actText(hot: readonly HotItem[]): string {
  return `[Act: ${hot.map(hotItemText).join(',')}]`;
}

/** Mentions and DMs in magenta and bold (as in the sidebar), the rest plain. */
function actSegments(hot: readonly HotItem[]): Segment[] {
  const out: Segment[] = [{ text: '[Act: ' }];
  hot.forEach((h, i) => {
    if (i > 0) out.push({ text: ',' });
    out.push(
      h.mentions > 0 ? { text: hotItemText(h), color: 'magenta', bold: true } : { text: hotItemText(h) },
    );
  });
  out.push({ text: ']' });
  return out;
}

/**
 * The status bar at `now` (the reconnect countdown): server, nick, link state (with the reason
 * while reconnecting), room, activity and lag. When that does not fit, the server address goes
 * first, then the lag, then the reason, then the room's member count, then activity without
 * mentions, then the nick: a narrow terminal still shows whether the link is up, where Enter
 * sends and that a DM or a mention is waiting.
 */
export function statusLine(
  {
    server,
    nick,
    status,
    conversation,
    lagMs,
    width,
    choosingNick,
    hot = [],
    jump = null,
    bare = false,
  }: StatusInput,
  now: number,
): Line {
  const state = statusText(status, now, choosingNick);
  const lag = lagMs === null ? 'lag -' : `lag ${lagMs} ms`;
  const urgent = hot.filter((h) => h.mentions > 0);
  const p = {
    server: { key: 'server', text: server, dim: true },
    nick: { key: 'nick', text: nick, bold: true },
    state: { key: 'state', text: state.text, color: state.color },
    stateWhy: { key: 'state', text: state.text + (state.why ?? ''), color: state.color },
    room: { key: 'room', text: where(conversation, false) },
    roomShort: { key: 'room', text: where(conversation, true) },
    act: { key: 'act', text: hot.length > 0 ? actText(hot) : '', hot },
    urgent: { key: 'act', text: urgent.length > 0 ? actText(urgent) : '', hot: urgent },
    lag: { key: 'lag', text: lag, dim: true },
    mode: { key: 'mode', text: modeText(jump, bare), color: 'cyan', bold: true },
  } satisfies Record<string, Part>;
  const candidates: Part[][] = [
    [p.mode, p.server, p.nick, p.stateWhy, p.room, p.act, p.lag],
    [p.mode, p.nick, p.stateWhy, p.room, p.act, p.lag],
    [p.mode, p.nick, p.stateWhy, p.room, p.act],
    [p.mode, p.nick, p.state, p.room, p.act],
    [p.mode, p.nick, p.state, p.roomShort, p.act],
    [p.mode, p.nick, p.state, p.roomShort, p.urgent],
    [p.mode, p.state, p.roomShort, p.urgent],
  ];
  const shown = (parts: Part[]) => parts.filter((part) => part.text !== '');
  const fits = (parts: Part[]) =>
    cellWidth(
      shown(parts)
        .map((x) => x.text)
        .join(' | '),
    ) <= width;
  const parts = shown(candidates.find(fits) ?? candidates[candidates.length - 1]!);
  const segments: Segment[] = [];
  parts.forEach((part, i) => {
    if (i > 0) segments.push({ text: ' | ', dim: true });
    if (part.hot) segments.push(...actSegments(part.hot));
    else {
      const segment: Segment = { text: part.text };
      if (part.color) segment.color = part.color;
      if (part.dim) segment.dim = true;
      if (part.bold) segment.bold = true;
      segments.push(segment);
    }
  });
  return { key: 'status', segments };
}
