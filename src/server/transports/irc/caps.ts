/**
 * The IRCv3 capabilities the door offers. Only what it implements is listed: account-notify and
 * invite-notify are not, as the server announces neither an account change nor an invitation to
 * anyone but the invitee and the inviter (docs/irc.md).
 */
export const CAPS = [
  'message-tags',
  'server-time',
  'echo-message',
  'batch',
  'labeled-response',
  'extended-join',
  'away-notify',
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
  return `irc:${caps.has('server-time') ? 't' : ''}${caps.has('message-tags') ? 'm' : ''}${caps.has('extended-join') ? 'j' : ''}${caps.has('away-notify') ? 'a' : ''}`;
}
