import type { Segment } from './entry-lines.js';

/** A URL found in message text: where it is, and the address to link it to. */
export interface FoundLink {
  start: number;
  end: number;
  href: string;
}

const URL_IN_TEXT = /\bhttps?:\/\/[^\s<>"'`]+/gi;

/**
 * The address for an OSC 8 hyperlink, or undefined: only http and https, parsed and normalised
 * by the URL parser (which percent-encodes what it keeps), and only printable ASCII, so nothing
 * in it can end the escape sequence or start another one.
 */
export function safeHref(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  const href = url.href;
  return href.length <= 2048 && /^[\x21-\x7e]+$/.test(href) ? href : undefined;
}

/** The http(s) URLs in `text` (trailing punctuation is taken as the sentence's, not the URL's). */
export function findLinks(text: string): FoundLink[] {
  const found: FoundLink[] = [];
  for (const m of text.matchAll(URL_IN_TEXT)) {
    let raw = m[0];
    while (/[.,;:!?\]}'"]$/.test(raw) || (raw.endsWith(')') && !raw.includes('('))) raw = raw.slice(0, -1);
    const href = safeHref(raw);
    if (href) found.push({ start: m.index, end: m.index + raw.length, href });
  }
  return found;
}

/** The OSC 8 sequence that makes `text` a link to `href` (an address from {@link safeHref}). */
export function hyperlink(href: string, text: string): string {
  return `\x1b]8;;${href}\x1b\\${text}\x1b]8;;\x1b\\`;
}

/**
 * Splits one wrapped row of a message body (starting at `offset` in the message text) into
 * styled segments, the parts inside a URL carrying its link: a URL wrapped over rows is one link
 * on each.
 */
export function linkSegments(
  row: string,
  offset: number,
  style: Segment,
  links: readonly FoundLink[],
): Segment[] {
  const out: Segment[] = [];
  let at = 0;
  for (const link of links) {
    const from = Math.max(link.start - offset, at);
    const to = Math.min(link.end - offset, row.length);
    if (to <= from) continue;
    if (from > at) out.push({ ...style, text: row.slice(at, from) });
    out.push({ ...style, text: row.slice(from, to), link: link.href });
    at = to;
  }
  if (at < row.length || out.length === 0) out.push({ ...style, text: row.slice(at) });
  return out;
}
