import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** What a filter sees of one incoming chat message. */
export interface MessageContext {
  /** The sender's nick. */
  user: string;
  /** A room id, or `@nick` for a direct message. */
  target: string;
  /** The text so far (earlier filters may have changed it). */
  text: string;
}

/** A filter's verdict: pass the (possibly rewritten) text on, or refuse the message. */
export type FilterResult = { action: 'pass'; text: string } | { action: 'refuse'; reason: string };

/**
 * One moderation step. Filters run in order, synchronously, before a message reaches its
 * room (so ordering and acknowledgement rules are unchanged); the first refusal wins.
 *
 * A filter module for `--filter-module PATH` default-exports a MessageFilter (or a factory
 * returning one), e.g.:
 *
 * ```js
 * export default ({ text }) => text.includes('http://') ? { action: 'refuse', reason: 'no plain-http links' } : { action: 'pass', text };
 * ```
 */
export type MessageFilter = (ctx: MessageContext) => FilterResult;

/** Runs filters in order. */
export function runFilters(filters: readonly MessageFilter[], ctx: MessageContext): FilterResult {
  let text = ctx.text;
  for (const filter of filters) {
    const result = filter({ ...ctx, text });
    if (result.action === 'refuse') return result;
    text = result.text;
  }
  return { action: 'pass', text };
}

function escapeRegExp(word: string): string {
  return word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A word list filter: `mask` replaces each listed word (whole word, any case) with asterisks;
 * `refuse` refuses any message containing one.
 */
export function wordFilter(words: string[], mode: 'mask' | 'refuse'): MessageFilter {
  const cleaned = words.map((w) => w.trim()).filter((w) => w.length > 0 && !w.startsWith('#'));
  if (cleaned.length === 0) return ({ text }) => ({ action: 'pass', text });
  const pattern = new RegExp(
    `(?<![\\p{L}\\p{N}_])(?:${cleaned.map(escapeRegExp).join('|')})(?![\\p{L}\\p{N}_])`,
    'giu',
  );
  return ({ text }) => {
    pattern.lastIndex = 0;
    if (!pattern.test(text)) return { action: 'pass', text };
    if (mode === 'refuse')
      return { action: 'refuse', reason: 'the message contains a word this server does not allow' };
    pattern.lastIndex = 0;
    return { action: 'pass', text: text.replace(pattern, (w) => '*'.repeat([...w].length)) };
  };
}

/** Reads a word list file: one word or phrase per line, `#` comments. */
export function wordFilterFromFile(path: string, mode: 'mask' | 'refuse'): MessageFilter {
  return wordFilter(readFileSync(path, 'utf8').split(/\r?\n/), mode);
}

/** Loads a user filter module (see {@link MessageFilter}). */
export async function loadFilterModule(path: string): Promise<MessageFilter> {
  const mod = (await import(pathToFileURL(resolve(path)).href)) as { default?: unknown };
  const exported = mod.default;
  if (typeof exported !== 'function') throw new Error(`${path} must default-export a filter function`);
  return exported as MessageFilter;
}
