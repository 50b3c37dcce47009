import { Box } from 'ink';
import { memo } from 'react';
import type { Conversation } from '../state/types.js';
import { paneLines } from './layout/pane-lines.js';
import { LineRow } from './LineRow.js';

/** Props of {@link MessagePane}. */
export interface MessagePaneProps {
  conversation: Conversation;
  nick: string;
  width: number;
  height: number;
  /** Show the joins and leaves the smart filter hides. */
  showQuiet?: boolean;
  /** The bare view (Alt+L): no hanging indent. */
  bare?: boolean;
}

/**
 * The current conversation, bottom-aligned, drawn by Ink. Only the rows that fit are built and
 * rendered (see visibleLines), so a long history costs nothing until you scroll into it.
 * `chat connect` draws the same rows beside Ink instead (pane-overlay.ts); this is what
 * ink-testing-library sees.
 */
export const MessagePane = memo(function MessagePane({
  conversation,
  nick,
  width,
  height,
  showQuiet = false,
  bare = false,
}: MessagePaneProps) {
  const lines = paneLines(conversation, nick, width, height, { showQuiet, bare });
  return (
    <Box flexDirection="column" width={width} height={height} justifyContent="flex-end" flexShrink={0}>
      {lines.map((line) => (
        <LineRow key={line.key} line={line} />
      ))}
    </Box>
  );
});
