import type { RoomModes, RoomRole, ServerMessage } from '../../protocol/events.js';
import { addNotice, putConversation, updateConversation } from './conversations.js';
import { sameNick } from './mention.js';
import { takeReplyTarget } from './replies.js';
import type { ChatState } from './types.js';

/** The events of topics and room moderation (issue 14). */
export type ModerationEvent = Extract<
  ServerMessage,
  {
    type:
      'topic' | 'role_changed' | 'modes_changed' | 'ban_changed' | 'bans' | 'modes' | 'invited' | 'killed';
  }
>;

/** `@` for owner and operators, `+` for voice: how nick lists mark roles. */
export function rolePrefix(role: RoomRole | undefined): string {
  return role === 'owner' || role === 'operator' ? '@' : role === 'voice' ? '+' : '';
}

/** `+imt`, or `none`. */
export function modeText(modes: RoomModes): string {
  const letters = `${modes.invite_only ? 'i' : ''}${modes.moderated ? 'm' : ''}${modes.topic_locked ? 't' : ''}`;
  return letters === '' ? 'none' : `+${letters}`;
}

/**
 * A change in a room is said in that room; when our own command caused it (the event carries
 * our ref) and it was typed in another conversation, it is said there too, so the command never
 * seems to go unanswered.
 */
export function noticeInRoomAndWhereTyped(
  state: ChatState,
  ref: string | number | undefined,
  roomId: string,
  text: string,
  now: number,
): ChatState {
  const answered = ref !== undefined && String(ref) in state.replyTo;
  const reply = takeReplyTarget(state, ref);
  const inRoom = reply.state.conversations[roomId] !== undefined;
  const next = inRoom ? addNotice(reply.state, roomId, text, 'info', now) : reply.state;
  // A server operator acting on a room it is not in hears back where it typed.
  return (answered ? reply.target !== roomId : !inRoom)
    ? addNotice(next, reply.target, text, 'info', now)
    : next;
}

/**
 * The reply to our own command about `roomId`, said where the command was typed when that is
 * not the room itself (the room says it anyway). Takes the ref.
 */
export function noticeWhereTyped(
  state: ChatState,
  ref: string | number,
  roomId: string,
  text: string,
  now: number,
): ChatState {
  const reply = takeReplyTarget(state, ref);
  return reply.target === roomId || reply.target === null
    ? reply.state
    : addNotice(reply.state, reply.target, text, 'info', now);
}

/** Applies one moderation event: the room's roles, modes and topic, and a notice saying what changed. */
export function reduceModerationEvent(state: ChatState, event: ModerationEvent, now: number): ChatState {
  switch (event.type) {
    case 'topic': {
      const { room_id, topic } = event.payload;
      const next = updateConversation(state, room_id, (c) => {
        const { topic: _old, ...rest } = c;
        return topic ? { ...rest, topic } : rest;
      });
      const reply = takeReplyTarget(next, event.ref);
      const text = topic
        ? `topic of #${room_id}: ${topic.text} (set by ${topic.set_by})`
        : `#${room_id} has no topic`;
      return addNotice(reply.state, reply.target ?? room_id, text, 'info', now);
    }
    case 'role_changed': {
      const { room_id, user_name, role, by } = event.payload;
      const next = updateConversation(state, room_id, (c) => {
        const roles = { ...c.roles };
        if (role === null) delete roles[user_name];
        else roles[user_name] = role;
        return { ...c, roles };
      });
      const what =
        role === 'operator'
          ? `made ${user_name} an operator`
          : role === 'voice'
            ? `gave ${user_name} voice`
            : `took ${user_name}'s operator status or voice away`;
      return noticeInRoomAndWhereTyped(next, event.ref, room_id, `${by} ${what}`, now);
    }
    case 'modes_changed': {
      const { room_id, modes, by } = event.payload;
      const next = updateConversation(state, room_id, (c) => ({ ...c, modes }));
      return noticeInRoomAndWhereTyped(
        next,
        event.ref,
        room_id,
        `${by} set the modes: ${modeText(modes)}`,
        now,
      );
    }
    case 'ban_changed': {
      const { room_id, mask, banned, by } = event.payload;
      return noticeInRoomAndWhereTyped(
        state,
        event.ref,
        room_id,
        `${by} ${banned ? 'banned' : 'lifted the ban on'} ${mask}`,
        now,
      );
    }
    case 'bans': {
      const { room_id, bans } = event.payload;
      const reply = takeReplyTarget(state, event.ref);
      const lines =
        bans.length === 0
          ? [`#${room_id} has no bans`]
          : [`bans of #${room_id}:`, ...bans.map((b) => `  ${b.mask} (by ${b.set_by})`)];
      let next = reply.state;
      for (const line of lines) next = addNotice(next, reply.target ?? room_id, line, 'info', now);
      return next;
    }
    case 'modes': {
      const { room_id, modes, owner, operators, voiced } = event.payload;
      const next = updateConversation(state, room_id, (c) => ({ ...c, modes }));
      const reply = takeReplyTarget(next, event.ref);
      const text = `#${room_id}: modes ${modeText(modes)}; owner ${owner ?? 'none'}; operators ${operators.join(', ') || 'none'}; voiced ${voiced.join(', ') || 'none'}`;
      return addNotice(reply.state, reply.target ?? room_id, text, 'info', now);
    }
    case 'invited': {
      const { room_id, user_name, by } = event.payload;
      const text = sameNick(user_name, state.nick)
        ? `${by} invited you to #${room_id}: /join #${room_id}`
        : sameNick(by, state.nick)
          ? `you invited ${user_name} to #${room_id}`
          : `${by} invited ${user_name} to #${room_id}`;
      // The inviter's copy is the reply to /invite: where it was typed.
      const reply = takeReplyTarget(state, event.ref);
      return addNotice(reply.state, reply.target, text, 'info', now);
    }
    case 'killed': {
      const { user_name, reason } = event.payload;
      const reply = takeReplyTarget(state, event.ref);
      return addNotice(reply.state, reply.target, `${user_name} was disconnected (${reason})`, 'info', now);
    }
  }
}

/** Takes a `joined`'s topic, roles and modes into the room's conversation. */
export function roomInfo(
  state: ChatState,
  p: Extract<ServerMessage, { type: 'joined' }>['payload'],
): ChatState {
  const conv = state.conversations[p.room_id];
  if (!conv) return state;
  const { topic: _old, ...rest } = conv;
  return putConversation(state, {
    ...rest,
    ...(p.topic ? { topic: p.topic } : {}),
    roles: p.roles ?? {},
    ...(p.modes ? { modes: p.modes } : {}),
  });
}

/** A committed topic line updates the room's topic as well as showing in the history. */
export function topicLine(
  state: ChatState,
  m: Extract<ServerMessage, { type: 'message' }>['payload'],
): ChatState {
  if (m.kind !== 'topic') return state;
  return updateConversation(state, m.room_id, (c) => {
    const { topic: _old, ...rest } = c;
    return m.message === ''
      ? rest
      : { ...rest, topic: { text: m.message, set_by: m.user_name, set_ts: m.ts } };
  });
}

/** `bob was kicked by alice (spamming)`, or `you were kicked ...`; undefined for a plain leave. */
export function kickText(
  p: Extract<ServerMessage, { type: 'user_left' }>['payload'],
  me: string | null | undefined,
): string | undefined {
  if (p.kicked_by === undefined) return undefined;
  const who = sameNick(p.user_name, me ?? '') ? 'you were' : `${p.user_name} was`;
  return `${who} kicked from #${p.room_id} by ${p.kicked_by} (${p.reason ?? 'kicked'})`;
}
