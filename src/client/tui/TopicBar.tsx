import { memo } from 'react';
import { topicLine, type TopicInput } from './layout/topic-line.js';
import { LineRow } from './LineRow.js';

/** Props of {@link TopicBar}. */
export type TopicBarProps = TopicInput;

/** The topic line drawn by Ink (see {@link topicLine}). */
export const TopicBar = memo(function TopicBar(props: TopicBarProps) {
  return <LineRow line={topicLine(props)} />;
});
