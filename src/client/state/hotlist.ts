import type { ChatState, Conversation } from './types.js';

/** One conversation with activity, as the status bar's `[Act: …]` lists it. */
export interface HotItem {
  id: string;
  /** Its number in the sidebar (what Alt+N, Alt+J NN and /window N take). */
  number: number;
  unread: number;
  /** Messages that mention you; every message of a DM counts. */
  mentions: number;
  dm: boolean;
}

/**
 * The conversations other than the current one with unread messages, WeeChat's hotlist:
 * those with mentions or DMs first, then the rest, each group in sidebar order.
 */
export function hotlist(state: Pick<ChatState, 'order' | 'conversations' | 'current'>): HotItem[] {
  const hot: HotItem[] = [];
  const rest: HotItem[] = [];
  state.order.forEach((id, i) => {
    const conv: Conversation | undefined = state.conversations[id];
    if (!conv || id === state.current || conv.unread === 0) return;
    const item = { id, number: i + 1, unread: conv.unread, mentions: conv.mentions, dm: conv.kind === 'dm' };
    (item.mentions > 0 ? hot : rest).push(item);
  });
  return [...hot, ...rest];
}

/** `7(2!)` for one with mentions (how many), `3` for plain activity. */
export function hotItemText(item: HotItem): string {
  return item.mentions > 0 ? `${item.number}(${item.mentions}!)` : String(item.number);
}

/** The total of unread mentions and DMs (the terminal title shows it). */
export function mentionTotal(state: Pick<ChatState, 'conversations'>): number {
  let n = 0;
  for (const conv of Object.values(state.conversations)) n += conv.mentions;
  return n;
}
