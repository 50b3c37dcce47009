import type { ChatState } from './types.js';
import { sameNick } from './mention.js';

/** True when `nick` is on the /ignore list (case and look-alikes folded, as the server folds nicks). */
export function isIgnored(state: Pick<ChatState, 'ignores'>, nick: string): boolean {
  return state.ignores.some((n) => sameNick(n, nick));
}

/** The list with `nick` added (unchanged when it is there already). */
export function addIgnore(ignores: readonly string[], nick: string): readonly string[] {
  return ignores.some((n) => sameNick(n, nick)) ? ignores : [...ignores, nick];
}

/** The list without `nick` (unchanged when it was not there). */
export function removeIgnore(ignores: readonly string[], nick: string): readonly string[] {
  const next = ignores.filter((n) => !sameNick(n, nick));
  return next.length === ignores.length ? ignores : next;
}
