import type { ChatState } from '../state/types.js';

/** The prompt in front of the input line. */
export function promptFor(state: ChatState): string {
  if (state.nickPrompt) return 'nick> ';
  const conv = state.current === null ? undefined : state.conversations[state.current];
  if (!conv) return '> ';
  return conv.kind === 'room' ? `#${conv.id}> ` : `@${conv.name}> `;
}

/** Where masking starts in the input line (passwords), if anywhere. */
export function inputMask(state: ChatState): number | undefined {
  const text = state.input.text;
  if (state.nickPrompt) {
    const space = text.search(/\s/);
    return space === -1 ? undefined : space + 1;
  }
  const register = /^\/register\s+/i.exec(text);
  return register ? register[0].length : undefined;
}
