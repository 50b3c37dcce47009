import type { ChatMessage, ServerEventPayloads } from '../../../protocol/events.js';
import { sanitizeText } from '../../../protocol/sanitize.js';
import type { Outbound } from '../../outbound.js';
import { renderKey, type Cap } from './caps.js';
import { formatMessage, MAX_LINE_BYTES, type OutMessage } from './message.js';
import { channelOf, ircBanMask, ircNick, sourceOf } from './names.js';
import { splitText } from './split.js';

/** The events shared by every member of a room that the table below renders. */
type SharedType =
  'message' | 'user_joined' | 'user_left' | 'nick_changed' | 'user_away' | 'user_account' | 'ban_changed';

/**
 * Server events to IRC lines: one entry per event a room broadcasts. An entry depends only on
 * the event and the reader's caps (never on who reads it), so its result is cached on the event
 * per caps key (see {@link sharedLines}). A topic line is a `message` (kind `topic`: TOPIC), a
 * kick a `user_left` with `kicked_by` (KICK). Role and mode changes are rendered by each session
 * (irc-session.ts): their IRC lines depend on what that session knew before.
 */
export const EVENT_LINES: {
  [T in SharedType]: (payload: ServerEventPayloads[T], caps: ReadonlySet<Cap>) => OutMessage[];
} = {
  message: (m, caps) => messageLines(m, channelOf(m.room_id), caps),
  user_joined: (p, caps) => [
    {
      source: sourceOf(p.user_name),
      command: 'JOIN',
      // extended-join: the account (`*`: not logged in) and the real name (chat has none: the nick).
      params: caps.has('extended-join')
        ? [channelOf(p.room_id), p.account !== undefined ? ircNick(p.account) : '*', ircNick(p.user_name)]
        : [channelOf(p.room_id)],
    },
  ],
  user_left: (p) => {
    if (p.kicked_by !== undefined)
      return [
        {
          source: sourceOf(p.kicked_by),
          command: 'KICK',
          params: [channelOf(p.room_id), ircNick(p.user_name), sanitizeText(p.reason ?? 'kicked')],
        },
      ];
    // A quit is the user's connection ending: IRC says QUIT, once (see IrcSession.skipRepeat).
    if (p.quit === true)
      return [
        {
          source: sourceOf(p.user_name),
          command: 'QUIT',
          params: [quitText(p.reason ?? 'quit', p.killed_by)],
        },
      ];
    const reason = p.reason === undefined ? [] : [sanitizeText(p.reason)];
    return [{ source: sourceOf(p.user_name), command: 'PART', params: [channelOf(p.room_id), ...reason] }];
  },
  // away-notify: `AWAY :message` when a user goes away, a bare `AWAY` when they come back.
  user_away: (p, caps) =>
    caps.has('away-notify')
      ? [
          {
            source: sourceOf(p.user_name),
            command: 'AWAY',
            params: p.message === undefined ? [] : [sanitizeText(p.message)],
          },
        ]
      : [],
  // account-notify: `ACCOUNT name` when a member logs in (registers its nick), `ACCOUNT *` when out.
  user_account: (p, caps) =>
    caps.has('account-notify')
      ? [
          {
            source: sourceOf(p.user_name),
            command: 'ACCOUNT',
            params: [p.account !== undefined ? ircNick(p.account) : '*'],
          },
        ]
      : [],
  ban_changed: (p) => [
    {
      source: sourceOf(p.by),
      command: 'MODE',
      params: [channelOf(p.room_id), p.banned ? '+b' : '-b', ircBanMask(p.mask)],
    },
  ],
  nick_changed: (p) => [{ source: sourceOf(p.old_name), command: 'NICK', params: [ircNick(p.user_name)] }],
};

/**
 * A quit reason as IRC servers word it: `Quit` for none, `Killed (alice (spamming))` for a
 * server operator's /kill (the hub's `killed_by` and its reason `killed by alice: spamming`),
 * else `Quit: <reason>`. The `Quit: ` in front of everything else is what makes a kill
 * unmistakable: words a user chose (`/quit Killed (root (bye))`) can never read like one.
 */
export function quitText(reason: string, killedBy?: string): string {
  const text = sanitizeText(reason);
  if (killedBy !== undefined) {
    const by = sanitizeText(killedBy);
    const prefix = `killed by ${by}: `;
    return `Killed (${ircNick(by)} (${text.startsWith(prefix) ? text.slice(prefix.length) : text}))`;
  }
  return text === 'quit' ? 'Quit' : `Quit: ${text}`;
}

/** True for the events {@link EVENT_LINES} renders. */
export function isShared(type: string): type is SharedType {
  return Object.prototype.hasOwnProperty.call(EVENT_LINES, type);
}

/**
 * The wire bytes of a shared event for readers with these caps (`key`: their {@link renderKey}):
 * built by the first such reader, then taken from the event's cache, so a room's message costs
 * one rendering, and one Buffer, per caps set; every member's socket is handed the same bytes.
 */
export function sharedBytes(out: Outbound, key: string, caps: ReadonlySet<Cap>): Buffer {
  return out.render(key, () => {
    const m = out.message;
    if (!isShared(m.type)) return EMPTY;
    const build = EVENT_LINES[m.type] as (p: unknown, c: ReadonlySet<Cap>) => OutMessage[];
    return Buffer.from(build(m.payload, caps).map(formatMessage).join(''), 'utf8');
  });
}

const EMPTY = Buffer.alloc(0);

/** {@link sharedBytes} as text (tests, and readers that need a string). */
export function sharedLines(out: Outbound, caps: ReadonlySet<Cap>): string {
  return sharedBytes(out, renderKey(caps), caps).toString('utf8');
}

/** The tags a chat message carries for readers with these caps: its time and its id. */
export function messageTags(
  m: { ts: number; id: string },
  caps: ReadonlySet<Cap>,
  piece = 0,
): Record<string, string> | undefined {
  const tags: Record<string, string> = {};
  if (caps.has('server-time')) tags.time = new Date(m.ts).toISOString();
  // Each piece of a split message needs an id of its own; `~2` names the second (see msgidBase).
  if (caps.has('message-tags')) tags.msgid = piece === 0 ? m.id : `${m.id}~${piece + 1}`;
  return Object.keys(tags).length > 0 ? tags : undefined;
}

/** The message id a piece's msgid names (a split message's later pieces end in `~N`). */
export function msgidBase(msgid: string): string {
  return msgid.replace(/~\d+$/, '');
}

const ACTION_OVERHEAD = '\x01ACTION \x01'.length;

/**
 * A chat message as PRIVMSG lines to `target`: sanitised, split at its newlines and at word
 * boundaries so each line fits 512 bytes with its source (never cut short), an action as CTCP
 * ACTION, a topic line as TOPIC.
 */
export function messageLines(
  m: Pick<ChatMessage, 'ts' | 'id' | 'user_name' | 'message' | 'kind'>,
  target: string,
  caps: ReadonlySet<Cap>,
): OutMessage[] {
  const source = sourceOf(m.user_name);
  const text = sanitizeText(m.message, { keepNewlines: true });
  if (m.kind === 'topic')
    return [
      { tags: messageTags(m, caps), source, command: 'TOPIC', params: [target, text.replace(/\n/g, ' ')] },
    ];
  const overhead =
    Buffer.byteLength(`:${source} PRIVMSG ${target} :\r\n`, 'utf8') +
    (m.kind === 'action' ? ACTION_OVERHEAD : 0);
  return splitText(text, MAX_LINE_BYTES - overhead).map((piece, i) => ({
    tags: messageTags(m, caps, i),
    source,
    command: 'PRIVMSG',
    params: [target, m.kind === 'action' ? `\x01ACTION ${piece}\x01` : piece],
  }));
}
