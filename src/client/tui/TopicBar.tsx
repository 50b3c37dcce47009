import { Text } from 'ink';
import { memo } from 'react';
import type { RoomModes, RoomTopic } from '../../protocol/events.js';
import { modeText } from '../state/moderation-events.js';
import { truncateCells } from './prompt.js';
import { fitCells } from './layout/screen.js';
import { cellWidth } from './layout/wrap.js';

/** Props of {@link TopicBar}. */
export interface TopicBarProps {
  roomId: string;
  topic: RoomTopic;
  modes?: RoomModes | undefined;
  width: number;
}

/**
 * The current room's topic on the top row, as WeeChat's title bar: `#dev (+mt): release on
 * friday`. A topic longer than the row is cut by terminal cells with `…` (a wide character is
 * never split), so it never wraps into the rows below.
 */
export const TopicBar = memo(function TopicBar({ roomId, topic, modes, width }: TopicBarProps) {
  const flags = modes ? modeText(modes) : 'none';
  const head = truncateCells(
    `#${roomId}${flags === 'none' ? '' : ` (${flags})`}: `,
    Math.max(4, Math.floor(width / 3)),
  );
  const rest = Math.max(0, width - cellWidth(head));
  return (
    <Text wrap="truncate-end">
      <Text bold color="cyan">
        {head}
      </Text>
      <Text>{fitCells(truncateCells(topic.text, rest), rest)}</Text>
    </Text>
  );
});
