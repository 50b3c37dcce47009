import { useEffect, useRef } from 'react';
import { mentionTotal } from '../../state/hotlist.js';
import type { ChatState } from '../../state/types.js';

/** How the client tells the terminal about mentions and DMs. */
export interface TerminalAlerts {
  /** Ring the bell (BEL) on a mention or DM; the config's `bell: false` turns it off. */
  bell: boolean;
  /** Writes raw bytes to the terminal (outside Ink's frame: BEL and OSC move no cursor). */
  write(bytes: string): void;
}

/** The window title: the count of unread mentions and DMs first, so it shows in a tab bar. */
export function windowTitle(mentions: number): string {
  return mentions > 0 ? `(${mentions}) chat` : 'chat';
}

/**
 * The bytes to write when the state goes from `before` to `after`: BEL when a mention or DM
 * arrived (if the bell is on), and an OSC 2 title when the unread mention count changed. Our own
 * text only: nothing from the network reaches the title.
 */
export function alertBytes(
  before: { alerts: number; mentions: number } | null,
  after: { alerts: number; mentions: number },
  bell: boolean,
): string {
  let out = '';
  if (bell && before !== null && after.alerts > before.alerts) out += '\x07';
  if (before === null || after.mentions !== before.mentions)
    out += `\x1b]2;${windowTitle(after.mentions)}\x07`;
  return out;
}

/** Rings the bell and keeps the window title up to date as the state changes. */
export function useTerminalAlerts(state: ChatState, alerts: TerminalAlerts | undefined): void {
  const last = useRef<{ alerts: number; mentions: number } | null>(null);
  const now = { alerts: state.alerts, mentions: mentionTotal(state) };
  useEffect(() => {
    if (!alerts) return;
    const bytes = alertBytes(last.current, now, alerts.bell);
    last.current = now;
    if (bytes !== '') alerts.write(bytes);
  }, [alerts, now.alerts, now.mentions]);
}
