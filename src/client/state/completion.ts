import type { Completion, InputState } from './types.js';

/** What Tab can complete to. */
export interface CompletionSources {
  /** Command names without the slash. */
  commands: readonly string[];
  nicks: readonly string[];
  rooms: readonly string[];
  /** Our own nick: never offered. */
  self: string;
}

const ROOM_COMMANDS = new Set(['join', 'j', 'leave', 'part', 'users', 'names', 'who', 'close']);
const NICK_COMMANDS = new Set(['msg', 'query', 'dm', 'ignore', 'unignore']);

interface Target {
  start: number;
  prefix: string;
  candidates: readonly string[];
  /** Text put after the completed word. */
  suffix: string;
  /** Empty prefix allowed (argument slots, where every candidate makes sense). */
  allowEmpty: boolean;
}

function target(text: string, cursor: number, sources: CompletionSources): Target | null {
  const before = text.slice(0, cursor);
  const start = before.search(/\S*$/);
  const word = before.slice(start);
  const nicks = sources.nicks.filter((n) => n.toLowerCase() !== sources.self.toLowerCase());
  if (start === 0 && word.startsWith('/')) {
    return { start: 1, prefix: word.slice(1), candidates: sources.commands, suffix: ' ', allowEmpty: true };
  }
  const command = /^\/(\S+)\s+(\S*)$/.exec(before);
  if (command) {
    const name = command[1]!.toLowerCase();
    if (ROOM_COMMANDS.has(name)) {
      const hash = word.startsWith('#') ? 1 : 0;
      return {
        start: start + hash,
        prefix: word.slice(hash),
        candidates: sources.rooms,
        suffix: ' ',
        allowEmpty: true,
      };
    }
    if (NICK_COMMANDS.has(name))
      return { start, prefix: word, candidates: nicks, suffix: ' ', allowEmpty: true };
  }
  if (word.startsWith('#'))
    return {
      start: start + 1,
      prefix: word.slice(1),
      candidates: sources.rooms,
      suffix: ' ',
      allowEmpty: true,
    };
  if (word === '') return null;
  // A nick at the start of a line addresses that person, IRC style.
  return { start, prefix: word, candidates: nicks, suffix: start === 0 ? ': ' : ' ', allowEmpty: false };
}

function apply(c: Completion, suffix: string): InputState['text'] {
  const match = c.matches[c.index]!;
  return c.baseText.slice(0, c.start) + match + suffix + c.baseText.slice(c.end);
}

/**
 * Tab: completes the word before the cursor (commands, room names after `/join` or `#`, nicks
 * elsewhere). Pressing Tab again cycles through the other matches.
 */
export function completeInput(input: InputState, sources: CompletionSources): InputState {
  const previous = input.completion;
  if (previous && previous.matches.length > 1) {
    const next = { ...previous, index: (previous.index + 1) % previous.matches.length };
    const suffix = suffixFor(next, sources);
    const text = apply(next, suffix);
    return { ...input, text, cursor: text.length - (next.baseText.length - next.end), completion: next };
  }
  if (previous) return input;
  const t = target(input.text, input.cursor, sources);
  if (!t || (t.prefix === '' && !t.allowEmpty)) return input;
  const lower = t.prefix.toLowerCase();
  const seen = new Set<string>();
  const matches = t.candidates
    .filter((c) => c.toLowerCase().startsWith(lower) && !seen.has(c) && seen.add(c))
    .sort((a, b) => a.localeCompare(b));
  if (matches.length === 0) return input;
  const completion: Completion = {
    baseText: input.text,
    start: t.start,
    end: input.cursor,
    matches,
    index: 0,
  };
  const text = apply(completion, t.suffix);
  return {
    ...input,
    text,
    cursor: text.length - (input.text.length - input.cursor),
    historyIndex: null,
    completion,
  };
}

function suffixFor(c: Completion, sources: CompletionSources): string {
  const t = target(c.baseText, c.end, sources);
  return t?.suffix ?? ' ';
}
