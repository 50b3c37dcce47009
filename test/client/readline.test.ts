import { describe, expect, it } from 'vitest';
import { reducer, initialState, type ChatState } from '../../src/client/state/reducer.js';
import type { Action } from '../../src/client/state/actions.js';
import { createRawKeys } from '../../src/client/tui/raw-keys.js';

function typed(text: string, cursor = text.length): ChatState {
  const s = reducer(initialState('ws://x', 'alice'), { type: 'input_insert', text });
  return { ...s, input: { ...s.input, cursor } };
}
const run = (s: ChatState, ...actions: Action[]) => actions.reduce(reducer, s);

describe('readline editing in the input line', () => {
  it('Delete/Ctrl+D deletes under the cursor; Backspace before it', () => {
    const s = typed('hello', 1);
    expect(run(s, { type: 'input_edit', op: 'delete_forward' }).input).toMatchObject({
      text: 'hllo',
      cursor: 1,
    });
    expect(run(s, { type: 'input_backspace' }).input).toMatchObject({ text: 'ello', cursor: 0 });
    expect(run(typed('x👍🏽y', 1), { type: 'input_edit', op: 'delete_forward' }).input.text).toBe('xy');
  });

  it('Ctrl+K, Ctrl+U and Ctrl+W kill, Ctrl+Y yanks the last kill', () => {
    const s = typed('one two three', 4);
    const k = run(s, { type: 'input_edit', op: 'kill_end' });
    expect(k.input).toMatchObject({ text: 'one ', kill: 'two three' });
    expect(run(k, { type: 'input_edit', op: 'yank' }).input.text).toBe('one two three');
    const u = run(s, { type: 'input_edit', op: 'kill_start' });
    expect(u.input).toMatchObject({ text: 'two three', cursor: 0, kill: 'one ' });
    const w = run(typed('one two'), { type: 'input_delete_word' }, { type: 'input_move', to: 'home' });
    expect(run(w, { type: 'input_edit', op: 'yank' }).input.text).toBe('twoone ');
  });

  it('Up/Down move between the lines of a multi-line draft before reaching the history', () => {
    let s = run(typed('sent before'), { type: 'input_submit', record: true });
    s = run(s, { type: 'input_insert', text: 'first line\nsecond' });
    s = run(s, { type: 'input_line', direction: -1 });
    expect(s.input).toMatchObject({ text: 'first line\nsecond', cursor: 6 });
    s = run(s, { type: 'input_line', direction: 1 });
    expect(s.input.cursor).toBe(17);
    s = run(s, { type: 'input_line', direction: -1 }, { type: 'input_line', direction: -1 });
    expect(s.input.text).toBe('sent before');
    s = run(s, { type: 'input_line', direction: 1 });
    expect(s.input.text).toBe('first line\nsecond');
  });
});

describe('raw key sequences', () => {
  it('tells the Delete key from Backspace, and leaves other keys to Ink', () => {
    const raw = createRawKeys();
    expect(raw.push('\x1b[3~')).toEqual([{ kind: 'edit', op: 'delete_forward' }]);
    expect(raw.push('\x7f')).toBeNull();
    expect(raw.push('a')).toBeNull();
  });

  it('collects a bracketed paste into one intent, whatever it contains', () => {
    const raw = createRawKeys();
    expect(raw.push('\x1b[200~')).toEqual([]);
    expect(raw.push('line 1\rline 2\r')).toEqual([]);
    expect(raw.push('\x1b[3~')).toEqual([]);
    expect(raw.push('\x1b[201~')).toEqual([{ kind: 'paste', text: 'line 1\rline 2\r\x1b[3~' }]);
    expect(raw.push('\x1b[3~')).toEqual([{ kind: 'edit', op: 'delete_forward' }]);
  });
});
