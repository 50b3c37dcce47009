/** `HH:MM` in the viewer's local time. */
export function formatTime(ts: number): string {
  const d = new Date(ts);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/** A stable hue (0-359) per nick, so a person keeps one colour. */
export function nickHue(nick: string): number {
  let h = 2166136261;
  for (const ch of String(nick).toLowerCase()) {
    h ^= ch.codePointAt(0) ?? 0;
    h = Math.imul(h, 16777619);
  }
  return (h >>> 0) % 360;
}
