import type { RoomModes, RoomTopic } from '../../../protocol/events.js';
import { modeText } from '../../state/moderation-events.js';
import { truncateCells } from '../prompt.js';
import type { Line } from './entry-lines.js';
import { fitCells } from './screen.js';
import { cellWidth } from './wrap.js';

/** What the topic line shows. */
export interface TopicInput {
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
export function topicLine({ roomId, topic, modes, width }: TopicInput): Line {
  const flags = modes ? modeText(modes) : 'none';
  const head = truncateCells(
    `#${roomId}${flags === 'none' ? '' : ` (${flags})`}: `,
    Math.max(4, Math.floor(width / 3)),
  );
  const rest = Math.max(0, width - cellWidth(head));
  return {
    key: 'topic',
    segments: [
      { text: head, bold: true, color: 'cyan' },
      { text: fitCells(truncateCells(topic.text, rest), rest) },
    ],
  };
}
