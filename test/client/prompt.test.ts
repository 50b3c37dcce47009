import { describe, expect, it } from 'vitest';
import { newConversation } from '../../src/client/state/conversations.js';
import { initialState } from '../../src/client/state/reducer.js';
import { cellWidth } from '../../src/client/tui/layout/wrap.js';
import { promptFor } from '../../src/client/tui/prompt.js';

describe('the prompt', () => {
  it('takes at most a third of the width: a long room name is cut with …', () => {
    const id = 'r'.repeat(64);
    const s = {
      ...initialState('ws://x', 'alice'),
      current: id,
      conversations: { [id]: newConversation(id, 'room', id) },
    };
    const prompt = promptFor(s, 60);
    expect(cellWidth(prompt)).toBeLessThanOrEqual(20);
    expect(prompt).toMatch(/^#r+…> $/);
    expect(promptFor(s, Infinity)).toBe(`#${id}> `);
    const short = { ...s, current: 'dev', conversations: { dev: newConversation('dev', 'room', 'dev') } };
    expect(promptFor(short, 60)).toBe('#dev> ');
  });
});
