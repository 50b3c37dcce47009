/**
 * The key rooms are compared by: `dev`, `#dev` (once the `#` is stripped) and `DEV` are one
 * room. Room ids are ASCII (`[A-Za-z0-9_.-]`), so folding is lower-casing; the room keeps the
 * spelling it was made with for display and in every event.
 */
export function roomKey(roomId: string): string {
  return roomId.toLowerCase();
}

/** True when two room ids name the same room. */
export function sameRoom(a: string, b: string): boolean {
  return roomKey(a) === roomKey(b);
}
