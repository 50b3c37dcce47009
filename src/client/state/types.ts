import type { MessageKind, RoomModes, RoomRole, RoomTopic } from '../../protocol/events.js';
import type { ConnectionStatus } from '../server-link-types.js';

/** One line-producing item in a conversation: a chat message or a local/system notice. */
export type Entry =
  | {
      kind: 'message';
      /** Stable React key and line-cache identity. */
      key: string;
      /** Per-room seq; null for direct messages (they have none). */
      seq: number | null;
      ts: number;
      nick: string;
      text: string;
      self: boolean;
      /** The text names us (or it is a DM to us). */
      mention: boolean;
      /** Ours and not acknowledged by the server yet (shown dimmed). */
      pending?: boolean;
      /** From a nick on the /ignore list: kept (its seq counts) but never drawn or counted. */
      hidden?: boolean;
      /** Not plain speech: an action (`/me waves`, drawn `* nick waves`) or a topic change (`-- alice set the topic: ...`). */
      msgKind?: MessageKind;
    }
  | {
      kind: 'notice';
      key: string;
      ts: number;
      text: string;
      /** `info` notices are dimmed; `error` ones stand out. */
      tone: 'info' | 'error';
      /**
       * A join or leave of somebody who had not spoken in the room for a while: hidden by the
       * smart filter unless the user shows them (see `ChatState.showQuiet`).
       */
      quiet?: boolean;
      /** About an ignored nick: never drawn. */
      hidden?: boolean;
    };

/** A message typed while the server had not acknowledged it yet. */
export interface PendingMessage {
  clientMsgId: string;
  text: string;
  ts: number;
  /** A `/me` action: drawn `* nick text` while it waits too. */
  action?: true;
}

/**
 * Where the viewport's bottom edge sits when scrolled up: `below` entries are hidden under the
 * bottom, and `skip` lines of the bottom-most visible entry are hidden too. Counting from the end
 * keeps the view still while older history is prepended, and new messages only bump `below`.
 */
export interface ScrollAnchor {
  below: number;
  skip: number;
}

/** A room we are in, or a direct-message conversation with one nick. */
export interface Conversation {
  /** Room id, or `@` + the nick key for a DM. */
  id: string;
  kind: 'room' | 'dm';
  /** Display name: the room name, or the partner's nick. */
  name: string;
  entries: readonly Entry[];
  /** Highest and lowest seq held (0 when none): dedupe is "outside this range or drop". */
  newestSeq: number;
  /** The room's `joined.epoch`: the history its seqs count in (kept in the config with them). */
  epoch?: string;
  oldestSeq: number;
  /**
   * Index of the first entry of the server's current history. Above it: messages from before a
   * server restart that lost its history (seq started again at 1); they stay readable, but
   * seq-based merging only ever looks below it.
   */
  epochStart: number;
  /** Older history exists on the server. */
  hasMore: boolean;
  loadingOlder: boolean;
  members: readonly string[];
  /** False while the connection is down and the room has not been rejoined yet. */
  joined: boolean;
  /**
   * A room we asked to join and are not in yet: `pending` from /join until the server's
   * `joined` (it is on screen at once and lines typed into it wait), `failed` when the server
   * refused (a rejoin after a reconnect can fail too). Null otherwise.
   */
  joinRequest: 'pending' | 'failed' | null;
  unread: number;
  mentions: number;
  /** Null while following live traffic. */
  scroll: ScrollAnchor | null;
  /** Messages that arrived while scrolled up. */
  newBelow: number;
  /**
   * Key of the first entry that arrived while you were elsewhere: the `-- unread --` line is
   * drawn above it until Alt+U or /markread. Null: no marker.
   */
  unreadFrom: string | null;
  pending: readonly PendingMessage[];
  /** A room's topic (absent: none, or not known yet). */
  topic?: RoomTopic;
  /** Roles of the members that have one, by nick (`@` owner/operator, `+` voice in lists). */
  roles?: Readonly<Record<string, RoomRole>>;
  modes?: RoomModes;
  /** Members known to be away (from `user_away` and `/users`), for the nick list. */
  away?: readonly string[];
}

/** Tab completion in progress: repeated Tab cycles through `matches`. */
export interface Completion {
  /** The line and cursor before the first Tab, so each Tab rewrites from there. */
  baseText: string;
  start: number;
  end: number;
  matches: readonly string[];
  index: number;
}

/** The input line, its cursor and the Up/Down history. */
export interface InputState {
  text: string;
  /** Cursor position as a UTF-16 index into `text`. */
  cursor: number;
  /** Oldest first. */
  history: readonly string[];
  /** Position while browsing history (an index into `history`), or null when editing. */
  historyIndex: number | null;
  /** What was being typed before browsing history started. */
  draft: string;
  completion: Completion | null;
  /** The last text killed (Ctrl+K, Ctrl+U, Ctrl+W), for Ctrl+Y. */
  kill: string;
}

/** Everything the TUI renders. */
export interface ChatState {
  server: string;
  /** Our nick: the requested one until `welcome`, then the server's. */
  nick: string;
  identified: boolean;
  status: ConnectionStatus;
  lagMs: number | null;
  /** Sidebar order: rooms first (in join order), then DMs (in open order). */
  order: readonly string[];
  conversations: Readonly<Record<string, Conversation>>;
  current: string | null;
  /** Notices shown while no conversation is open. */
  system: readonly Entry[];
  input: InputState;
  /** Set when the server refused our nick: the input line asks for another. */
  nickPrompt: { nick: string; message: string; needsPassword: boolean } | null;
  /** Room ids seen in /rooms, for completion. */
  knownRooms: readonly string[];
  /** Where the next page of the last /rooms listing starts (`/rooms more`); null after the last page. */
  roomsCursor: string | null;
  /** Counter for notice keys. */
  nextKey: number;
  /** The conversation shown before the current one (Alt+A goes back to it when nothing is unread). */
  previous: string | null;
  /** Digits typed after Alt+J so far (null: not jumping). */
  jump: string | null;
  /** Show the joins and leaves the smart filter hides. */
  showQuiet: boolean;
  /** The bare view (Alt+L): no sidebar, no hanging indent, so a selection copies only text. */
  bare: boolean;
  /** The nick list on the right (Alt+N, /nicklist); drawn only when the terminal is wide enough. */
  nicklist: boolean;
  /** Nicks whose messages, DMs, joins and leaves are not shown (client side, kept in the config). */
  ignores: readonly string[];
  /** Counts incoming mentions and DMs (live ones): the terminal rings the bell when it grows. */
  alerts: number;
  /** Where the reply to a request goes: ref → the conversation the command was typed in. */
  replyTo: Readonly<Record<string, string | null>>;
}
