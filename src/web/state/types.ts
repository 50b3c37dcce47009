/**
 * The page's state: what it knows about the conversations and the connection. Plain data,
 * changed in place by the functions of this folder and read by the view.
 */

/** Where the connection is, as the status pill shows it. */
export type ConnState = 'offline' | 'connecting' | 'identifying' | 'connected' | 'reconnecting';

/** A chat line: a room message or a direct message. */
export interface MessageItem {
  kind: 'message' | 'dm';
  seq?: number;
  id?: string;
  ts: number;
  nick: string;
  text: string;
  mine: boolean;
  mention?: boolean;
  /** A topic change (`alice set the topic: ...`) or an action, not plain speech. */
  msgKind?: 'action' | 'topic';
}

/** A dim system line. `mono` keeps columns (help, room lists). */
export interface NoticeItem {
  kind: 'notice';
  tone: NoticeTone;
  mono: boolean;
  ts: number;
  text: string;
}

/** How a notice reads: information or an error. */
export type NoticeTone = 'info' | 'error';

/** One line of a conversation. */
export type Item = MessageItem | NoticeItem;

/** A room or a direct conversation. */
export interface Conv {
  /** '#room' for rooms, '@' and the nick's key for direct conversations. */
  key: string;
  kind: 'room' | 'dm';
  /** The room id, or the other person's nick as last seen. */
  id: string;
  name: string;
  items: Item[];
  /** Bumped whenever items change other than by appending, so the view rebuilds. */
  epoch: number;
  unread: number;
  mention: boolean;
  lastSeq: number;
  /** The room's `joined.epoch`: which history of the room `lastSeq` counts in. */
  historyEpoch?: string;
  firstSeq: number | null;
  hasMore: boolean;
  members: Set<string>;
  /** Roles of the members that have one, by nick (shown `@alice`, `+bob`). */
  roles?: Record<string, 'owner' | 'operator' | 'voice'>;
  /** The room's topic, when it has one. */
  topic?: string | null;
  joined: boolean;
  /** The "you joined" line, held until the history that follows `joined` is in. */
  joinNotice?: string | null;
}

/** One room of the server's room list. */
export interface ListedRoom {
  room_id: string;
  room_name: string;
  members: number;
}

/** Everything the page shows. */
export interface State {
  nick: string | null;
  defaultRoom: string;
  /** key -> conversation. Insertion order = sidebar order. */
  convs: Map<string, Conv>;
  current: string | null;
  serverRooms: ListedRoom[] | null;
  /** Where the next page of the room list starts (null: no more), and the filter it was asked with. */
  serverRoomsCursor: string | null;
  serverRoomsFilter: string;
  lagMs: number | null;
  conn: { state: ConnState; retryAt: number };
}

/** What the page remembers about a request it sent, to read the answer (matched by ref). */
export interface RequestMeta {
  type: string;
  /** Show the room once joined. */
  switchTo?: boolean;
  /** The room an error answer belongs to. */
  roomId?: string;
  /** The direct conversation an error answer belongs to. */
  dmTo?: string;
  /** An automatic rejoin after (re)identifying: "already in room" is no news. */
  rejoin?: boolean;
  /** A further page of the room list: appended to the list. */
  append?: boolean;
  /** A `/rooms` typed by the person: the list is printed in the conversation too. */
  announce?: boolean;
  /** The password of a `/register`, kept to identify again after a reconnect. */
  password?: string;
}
