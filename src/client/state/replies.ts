import type { ChatState } from './types.js';

/** Requests whose reply target is remembered at most: older ones fall back to the current room. */
const MAX_REMEMBERED = 64;

/**
 * Remembers that the reply to request `ref` belongs in `target` (where the command was typed),
 * so `/users dev` typed in #lobby answers in #lobby even if the user switched meanwhile.
 */
export function rememberReply(state: ChatState, ref: string, target: string | null): ChatState {
  const entries = Object.entries(state.replyTo);
  const kept =
    entries.length >= MAX_REMEMBERED ? entries.slice(entries.length - MAX_REMEMBERED + 1) : entries;
  return { ...state, replyTo: { ...Object.fromEntries(kept), [ref]: target } };
}

/**
 * Where a reply goes: the conversation its command was typed in (when it is still open), else
 * the current one. Returns the state without the remembered ref.
 */
export function takeReplyTarget(
  state: ChatState,
  ref: string | number | undefined,
): { state: ChatState; target: string | null } {
  const key = ref === undefined ? undefined : String(ref);
  if (key === undefined || !(key in state.replyTo)) return { state, target: state.current };
  const { [key]: target, ...rest } = state.replyTo;
  const open = target != null && state.conversations[target] !== undefined;
  return { state: { ...state, replyTo: rest }, target: open ? target : state.current };
}
