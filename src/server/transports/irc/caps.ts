/**
 * The IRCv3 capabilities the door offers: only what it implements. account-notify rides on the
 * hub's `user_account` (a member registered its nick, or renamed away from it), invite-notify
 * on the `invited` the room's operators are told.
 */
export const CAPS = [
  'message-tags',
  'server-time',
  'echo-message',
  'batch',
  'labeled-response',
  'extended-join',
  'away-notify',
  'account-notify',
  'invite-notify',
  'multi-prefix',
  'userhost-in-names',
  'sasl',
  'draft/chathistory',
] as const;

/** One capability the door offers. */
export type Cap = (typeof CAPS)[number];

/** Values shown in `CAP LS 302` (a capability without one is listed bare). */
export const CAP_VALUES: Partial<Record<Cap, string>> = { sasl: 'PLAIN' };

/** True when `name` is a capability the door offers. */
export function isCap(name: string): name is Cap {
  return (CAPS as readonly string[]).includes(name);
}

/** The `CAP LS` list, with values for a 302 client. */
export function capList(version302: boolean): string {
  return CAPS.map((c) => (version302 && CAP_VALUES[c] !== undefined ? `${c}=${CAP_VALUES[c]}` : c)).join(' ');
}

/**
 * What a rendering of a shared event depends on: the caps that change its lines. Events are
 * rendered once per distinct key (see events.ts), not once per member.
 */
export function renderKey(caps: ReadonlySet<Cap>): string {
  return `irc:${caps.has('server-time') ? 't' : ''}${caps.has('message-tags') ? 'm' : ''}${caps.has('extended-join') ? 'j' : ''}${caps.has('away-notify') ? 'a' : ''}${caps.has('account-notify') ? 'c' : ''}`;
}
