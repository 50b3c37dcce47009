import type { Key } from 'ink';
import { describe, expect, it } from 'vitest';
import { keyToIntents, type Intent } from '../../src/client/tui/keys.js';

const NO_KEY: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
};
const k = (over: Partial<Key>): Key => ({ ...NO_KEY, ...over });

describe('keyToIntents', () => {
  it.each([
    ['Ctrl+C quits', 'c', k({ ctrl: true }), [{ kind: 'quit' }]],
    ['Ctrl+N', 'n', k({ ctrl: true }), [{ kind: 'next_room' }]],
    ['Ctrl+P', 'p', k({ ctrl: true }), [{ kind: 'prev_room' }]],
    ['Alt+3', '3', k({ meta: true }), [{ kind: 'jump', index: 2 }]],
    ['Alt+A', 'a', k({ meta: true }), [{ kind: 'activity' }]],
    ['Alt+Enter', '\r', k({ meta: true, return: true }), [{ kind: 'insert', text: '\n' }]],
    ['Enter', '\r', k({ return: true }), [{ kind: 'submit' }]],
    ['End goes live', '', k({ end: true }), [{ kind: 'live' }, { kind: 'move', to: 'end' }]],
    ['DEL erases backwards', '', k({ delete: true }), [{ kind: 'backspace' }]],
    ['Shift+Tab does nothing', '', k({ tab: true, shift: true }), []],
    ['typed text', 'héllo', NO_KEY, [{ kind: 'insert', text: 'héllo' }]],
    [
      'text with Enter in one chunk',
      'hi\rthere',
      NO_KEY,
      [{ kind: 'insert', text: 'hi' }, { kind: 'submit' }, { kind: 'insert', text: 'there' }],
    ],
    ['a paste never brings escapes in', 'a\x1b[31mb\x07', NO_KEY, [{ kind: 'insert', text: 'ab' }]],
    [
      'Tab typed right after text completes',
      'bo\t',
      NO_KEY,
      [{ kind: 'insert', text: 'bo' }, { kind: 'complete' }],
    ],
    ['a Tab inside pasted text stays text', 'a\tb', NO_KEY, [{ kind: 'insert', text: 'a b' }]],
    [
      'Backspace, Ctrl+W and Ctrl+U typed right after text edit it',
      'abc\x7fd e\x17f\x15g',
      NO_KEY,
      [
        { kind: 'insert', text: 'abc' },
        { kind: 'backspace' },
        { kind: 'insert', text: 'd e' },
        { kind: 'delete_word' },
        { kind: 'insert', text: 'f' },
        { kind: 'edit', op: 'kill_start' },
        { kind: 'insert', text: 'g' },
      ],
    ],
    [
      'Ctrl+N after text switches rooms; Ctrl+C in a chunk never quits',
      'x\x0e\x03',
      NO_KEY,
      [{ kind: 'insert', text: 'x' }, { kind: 'next_room' }],
    ],
    [
      'CRLF is one Enter',
      'a\r\nb',
      NO_KEY,
      [{ kind: 'insert', text: 'a' }, { kind: 'submit' }, { kind: 'insert', text: 'b' }],
    ],
  ] as [string, string, Key, Intent[]][])('%s', (_name, input, key, expected) => {
    expect(keyToIntents(input, key)).toEqual(expected);
  });
});
