import type { Conversation } from '../../state/types.js';
import type { ViewOptions } from './decorations.js';
import type { Line } from './entry-lines.js';
import { visibleLines } from './viewport.js';

/**
 * The message pane's rows, top to bottom: the conversation's visible lines and, when scrolled
 * up, the `-- 3 new messages below --` footer. At most `height` rows; the pane is
 * bottom-aligned, so fewer rows sit at its bottom. Ink's MessagePane (tests) and the pane drawn
 * beside Ink (pane-overlay.ts) both draw these.
 */
export function paneLines(
  conversation: Conversation,
  nick: string,
  width: number,
  height: number,
  options: ViewOptions = {},
): readonly Line[] {
  const scrolled = conversation.scroll !== null;
  const view = visibleLines(conversation, width, scrolled ? height - 1 : height, nick, options);
  if (!scrolled) return view.lines;
  const n = conversation.newBelow;
  const text =
    n > 0
      ? `-- ${n} new ${n === 1 ? 'message' : 'messages'} below: End to jump --`
      : '-- more below: End to jump --';
  return [...view.lines, { key: 'footer', segments: [{ text, color: 'yellow' }] }];
}
