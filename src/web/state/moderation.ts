import type { ChatMessage, RoomModes, RoomRole, ServerEventPayloads } from '../../protocol/events.js';
import { cleanText } from '../text.js';
import { addNotice, currentConv, isMe, roomKey } from './model.js';
import type { Conv, State } from './types.js';
import type { WireEvent } from './events.js';

/** The page's side of topics and room moderation (issue 14): roles, topics and notices. */

const oneLine = (value: unknown): string => cleanText(value, { keepNewlines: false });

/** `@` for owner and operators, `+` for voice. */
export function rolePrefix(role: RoomRole | undefined): string {
  return role === 'owner' || role === 'operator' ? '@' : role === 'voice' ? '+' : '';
}

function modeText(modes: RoomModes | undefined): string {
  if (!modes) return 'none';
  const letters = `${modes.invite_only ? 'i' : ''}${modes.moderated ? 'm' : ''}${modes.topic_locked ? 't' : ''}`;
  return letters === '' ? 'none' : `+${letters}`;
}

/** The topic a topic line sets (`null`: cleared). */
export function topicOf(m: ChatMessage): string | null {
  const text = oneLine(m.message);
  return text === '' ? null : text;
}

/** A `joined`'s roles and topic (the topic is said once, under the join). */
export function takeRoomInfo(conv: Conv, p: ServerEventPayloads['joined']): void {
  conv.roles = { ...(p.roles ?? {}) };
  const topic = p.topic ? oneLine(p.topic.text) : null;
  if (topic !== null && topic !== conv.topic && conv.joinNotice)
    conv.joinNotice += ` · topic: ${topic} (set by ${oneLine(p.topic?.set_by)})`;
  conv.topic = topic;
}

/** `bob was kicked by alice (spamming)`, or `you were kicked ...`. */
export function kickNotice(state: State, p: ServerEventPayloads['user_left']): string {
  const nick = oneLine(p.user_name);
  const who = isMe(state, nick) ? 'you were' : `${nick} was`;
  return `${who} kicked from #${p.room_id} by ${oneLine(p.kicked_by)} (${oneLine(p.reason ?? 'kicked')})`;
}

/** Applies a moderation event; false for any other type. */
export function applyModerationEvent(state: State, event: WireEvent): boolean {
  const p = (event.payload ?? {}) as Record<string, unknown>;
  const conv = typeof p.room_id === 'string' ? state.convs.get(roomKey(p.room_id)) : undefined;
  const here = conv ?? currentConv(state) ?? null;
  switch (event.type) {
    case 'topic': {
      const { topic } = p as ServerEventPayloads['topic'];
      if (conv) conv.topic = topic ? oneLine(topic.text) : null;
      addNotice(
        state,
        here,
        topic ? `topic: ${oneLine(topic.text)} (set by ${oneLine(topic.set_by)})` : 'no topic is set',
      );
      return true;
    }
    case 'role_changed': {
      const { user_name, role, by } = p as ServerEventPayloads['role_changed'];
      const nick = oneLine(user_name);
      if (conv) {
        conv.roles ??= {};
        if (role === null) delete conv.roles[nick];
        else conv.roles[nick] = role;
      }
      const what =
        role === 'operator'
          ? `made ${nick} an operator`
          : role === 'voice'
            ? `gave ${nick} voice`
            : `took ${nick}'s operator status or voice away`;
      addNotice(state, here, `${oneLine(by)} ${what}`);
      return true;
    }
    case 'modes_changed': {
      const { modes, by } = p as ServerEventPayloads['modes_changed'];
      addNotice(state, here, `${oneLine(by)} set the modes: ${modeText(modes)}`);
      return true;
    }
    case 'ban_changed': {
      const { mask, banned, by } = p as ServerEventPayloads['ban_changed'];
      addNotice(state, here, `${oneLine(by)} ${banned ? 'banned' : 'lifted the ban on'} ${oneLine(mask)}`);
      return true;
    }
    case 'bans': {
      const { bans } = p as ServerEventPayloads['bans'];
      const list = (bans ?? []).map((b) => `${oneLine(b.mask)} (by ${oneLine(b.set_by)})`);
      addNotice(state, here, list.length ? `bans:\n${list.join('\n')}` : 'no bans', 'info', {
        mono: list.length > 0,
      });
      return true;
    }
    case 'modes': {
      const m = p as ServerEventPayloads['modes'];
      const names = (list: string[] | undefined) => (list ?? []).map(oneLine).join(', ') || 'none';
      addNotice(
        state,
        here,
        `modes ${modeText(m.modes)}; owner ${m.owner ? oneLine(m.owner) : 'none'}; operators ${names(m.operators)}; voiced ${names(m.voiced)}`,
      );
      return true;
    }
    case 'invited': {
      const { room_id, user_name, by } = p as ServerEventPayloads['invited'];
      const text = isMe(state, oneLine(user_name))
        ? `${oneLine(by)} invited you to #${room_id}: /join #${room_id}`
        : isMe(state, oneLine(by))
          ? `you invited ${oneLine(user_name)} to #${room_id}`
          : `${oneLine(by)} invited ${oneLine(user_name)} to #${room_id}`;
      addNotice(state, currentConv(state) ?? null, text);
      return true;
    }
    case 'killed': {
      const { user_name, reason } = p as ServerEventPayloads['killed'];
      addNotice(
        state,
        currentConv(state) ?? null,
        `${oneLine(user_name)} was disconnected (${oneLine(reason)})`,
      );
      return true;
    }
    default:
      return false;
  }
}
