import { Box } from 'ink';
import { memo } from 'react';
import { useNow } from './hooks/use-now.js';
import { statusLine, type StatusInput } from './layout/status-line.js';
import { LineRow } from './LineRow.js';

/** Props of {@link StatusBar}. */
export type StatusBarProps = StatusInput;

/** The status bar drawn by Ink (see {@link statusLine}); a live countdown while reconnecting. */
export const StatusBar = memo(function StatusBar(props: StatusBarProps) {
  const now = useNow(props.status.state === 'reconnecting');
  return (
    <Box width={props.width} height={1} overflow="hidden">
      <LineRow line={statusLine(props, now)} />
    </Box>
  );
});
