import { Box } from 'ink';
import { memo } from 'react';
import { sidebarLines, type SidebarInput } from './layout/sidebar-lines.js';
import { LineRow } from './LineRow.js';

/** Props of {@link Sidebar}. */
export type SidebarProps = SidebarInput;

/** Joined rooms, then open DMs, drawn by Ink (see {@link sidebarLines} for what each row says). */
export const Sidebar = memo(function Sidebar(props: SidebarProps) {
  return (
    <Box flexDirection="column" width={props.width} height={props.height} flexShrink={0}>
      {sidebarLines(props).map((line) => (
        <LineRow key={line.key} line={line} />
      ))}
    </Box>
  );
});
