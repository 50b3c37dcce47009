import { Box, Text } from 'ink';
import { memo, type ReactNode } from 'react';
import type { Conversation } from '../state/types.js';
import { fitCells } from './layout/screen.js';
import { sidebarWindow, type RowActivity, type SidebarWindow } from './layout/sidebar-window.js';
import { cellWidth } from './layout/wrap.js';

/** Props of {@link Sidebar}. */
export interface SidebarProps {
  order: readonly string[];
  conversations: Readonly<Record<string, Conversation>>;
  current: string | null;
  width: number;
  height: number;
}

/** The right-hand marker: where a /join stands (in words when there is room), or the unread count. */
function badge(conv: Conversation, room: number): string {
  if (conv.joinRequest === 'pending') return room >= 8 ? 'joining…' : '…';
  if (conv.joinRequest === 'failed') return room >= 6 ? 'failed' : 'x';
  if (conv.unread === 0) return '';
  return conv.mentions > 0 ? `${conv.unread}!` : String(conv.unread);
}

/** `↑ 3 more, 2 active`: what the rows scrolled out of the sidebar hold. */
function moreRow(arrow: string, more: NonNullable<SidebarWindow['above']>, width: number): ReactNode {
  const text = more.active > 0 ? ` ${arrow} ${more.active} active` : ` ${arrow} ${more.hidden} more`;
  return (
    <Text color={more.urgent ? 'magenta' : undefined} bold={more.active > 0} dimColor={more.active === 0}>
      {fitCells(text, width)}
    </Text>
  );
}

/**
 * Joined rooms, then open DMs. Each row: its Alt+N number, the name, and the unread count; a
 * count ending in `!` (and shown in magenta) means somebody mentioned you there. A room being
 * joined says `joining…`, one the server refused `failed`.
 */
export const Sidebar = memo(function Sidebar({ order, conversations, current, width, height }: SidebarProps) {
  const rows: { key: string; node: ReactNode; activity: RowActivity }[] = [];
  const quiet = { active: false, urgent: false };
  // Every conversation has a number (Alt+J NN, /window N reach past 9), right-aligned.
  const digits = String(order.length).length;
  const firstDm = order.findIndex((id) => conversations[id]?.kind === 'dm');
  order.forEach((id, i) => {
    const conv = conversations[id];
    if (!conv) return;
    if (i === 0 && conv.kind === 'room')
      rows.push({ key: 'h-rooms', node: <Text dimColor>{fitCells(' Rooms', width)}</Text>, activity: quiet });
    if (i === firstDm)
      rows.push({ key: 'h-dms', node: <Text dimColor>{fitCells(' Direct', width)}</Text>, activity: quiet });
    const label = ` ${String(i + 1).padStart(digits)} ${conv.kind === 'room' ? '#' : '@'}${conv.name}`;
    const right = `${badge(conv, width - cellWidth(label) - 2)} `;
    const text = fitCells(label, width - cellWidth(right)) + right;
    const selected = id === current;
    rows.push({
      key: id,
      activity: { active: conv.unread > 0 && !selected, urgent: conv.mentions > 0 && !selected },
      node: (
        <Text
          inverse={selected}
          bold={selected || conv.unread > 0}
          color={conv.mentions > 0 ? 'magenta' : conv.joinRequest === 'failed' ? 'red' : undefined}
          dimColor={!conv.joined && !selected}
        >
          {text}
        </Text>
      ),
    });
  });
  if (rows.length === 0)
    rows.push({ key: 'empty', node: <Text dimColor>{fitCells(' no rooms', width)}</Text>, activity: quiet });
  const at = Math.max(
    0,
    rows.findIndex((r) => r.key === current),
  );
  const view = sidebarWindow(
    rows.map((r) => r.activity),
    at,
    height,
  );
  return (
    <Box flexDirection="column" width={width} height={height} flexShrink={0}>
      {view.above && <Box key="above">{moreRow('↑', view.above, width)}</Box>}
      {rows.slice(view.start, view.end).map((r) => (
        <Box key={r.key}>{r.node}</Box>
      ))}
      {view.below && <Box key="below">{moreRow('↓', view.below, width)}</Box>}
    </Box>
  );
});
