import { Box } from 'ink';
import { memo } from 'react';
import { nickListLines, type NickListInput } from './layout/nicklist-lines.js';
import { LineRow } from './LineRow.js';

/** Props of {@link NickList}. */
export type NickListProps = NickListInput;

/**
 * The nick list drawn by Ink (see {@link nickListLines}). Its own props, not the conversation:
 * a new message does not redraw the list.
 */
export const NickList = memo(function NickList(props: NickListProps) {
  return (
    <Box flexDirection="column" width={props.width} height={props.height} flexShrink={0}>
      {nickListLines(props).map((line) => (
        <LineRow key={line.key} line={line} />
      ))}
    </Box>
  );
});
