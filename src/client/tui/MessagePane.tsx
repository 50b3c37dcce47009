import { Box, Text } from 'ink';
import { memo } from 'react';
import type { Conversation } from '../state/types.js';
import type { Line } from './layout/entry-lines.js';
import { hyperlink } from './layout/links.js';
import { visibleLines } from './layout/viewport.js';

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

const Row = memo(function Row({ line }: { line: Line }) {
  return (
    <Text wrap="truncate-end">
      {line.segments.map((s, i) => (
        <Text key={i} color={s.color} dimColor={s.dim} bold={s.bold}>
          {s.link ? hyperlink(s.link, s.text) : s.text}
        </Text>
      ))}
    </Text>
  );
});

/**
 * The current conversation, bottom-aligned. Only the rows that fit are built and rendered
 * (see visibleLines), so a long history costs nothing until you scroll into it.
 */
export const MessagePane = memo(function MessagePane({
  conversation,
  nick,
  width,
  height,
  showQuiet = false,
  bare = false,
}: MessagePaneProps) {
  const scrolled = conversation.scroll !== null;
  const view = visibleLines(conversation, width, scrolled ? height - 1 : height, nick, { showQuiet, bare });
  const n = conversation.newBelow;
  return (
    <Box flexDirection="column" width={width} height={height} justifyContent="flex-end" flexShrink={0}>
      {view.lines.map((line) => (
        <Row key={line.key} line={line} />
      ))}
      {scrolled && (
        <Text color="yellow" wrap="truncate-end">
          {n > 0
            ? `-- ${n} new ${n === 1 ? 'message' : 'messages'} below: End to jump --`
            : '-- more below: End to jump --'}
        </Text>
      )}
    </Box>
  );
});
