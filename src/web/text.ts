import { sanitizeText } from '../protocol/sanitize.js';

/**
 * Text from the network made safe to show: the terminal sanitiser every client shares
 * (src/protocol/sanitize.ts), over any value (a field may be missing or not a string). The page
 * keeps newlines unless told otherwise, since a message may have several lines. It is still only
 * ever put on the page with textContent.
 */
export function cleanText(value: unknown, { keepNewlines = true }: { keepNewlines?: boolean } = {}): string {
  return sanitizeText(String(value ?? ''), { keepNewlines });
}

/** A room id as typed, without its leading `#`. */
export const stripHash = (room: string): string => (room.startsWith('#') ? room.slice(1) : room);
