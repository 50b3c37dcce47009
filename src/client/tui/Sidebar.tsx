import { Box, Text } from 'ink';
import { memo, type ReactNode } from 'react';
import type { Conversation } from '../state/types.js';
import { fitCells } from './layout/screen.js';
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

/** A window of `height` items that keeps the current one visible. */
function windowAround(count: number, at: number, height: number): [number, number] {
  if (count <= height) return [0, count];
  const start = Math.max(0, Math.min(at - Math.floor(height / 2), count - height));
  return [start, start + height];
}

/**
 * Joined rooms, then open DMs. Each row: its Alt+N number, the name, and the unread count; a
 * count ending in `!` (and shown in magenta) means somebody mentioned you there. A room being
 * joined says `joining…`, one the server refused `failed`.
 */
export const Sidebar = memo(function Sidebar({ order, conversations, current, width, height }: SidebarProps) {
  const rows: { key: string; node: ReactNode }[] = [];
  const firstDm = order.findIndex((id) => conversations[id]?.kind === 'dm');
  order.forEach((id, i) => {
    const conv = conversations[id];
    if (!conv) return;
    if (i === 0 && conv.kind === 'room')
      rows.push({ key: 'h-rooms', node: <Text dimColor>{fitCells(' Rooms', width)}</Text> });
    if (i === firstDm) rows.push({ key: 'h-dms', node: <Text dimColor>{fitCells(' Direct', width)}</Text> });
    const label = ` ${i < 9 ? i + 1 : ' '} ${conv.kind === 'room' ? '#' : '@'}${conv.name}`;
    const right = `${badge(conv, width - cellWidth(label) - 2)} `;
    const text = fitCells(label, width - cellWidth(right)) + right;
    const selected = id === current;
    rows.push({
      key: id,
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
    rows.push({ key: 'empty', node: <Text dimColor>{fitCells(' no rooms', width)}</Text> });
  const at = Math.max(
    0,
    rows.findIndex((r) => r.key === current),
  );
  const [start, end] = windowAround(rows.length, at, height);
  return (
    <Box flexDirection="column" width={width} height={height} flexShrink={0}>
      {rows.slice(start, end).map((r) => (
        <Box key={r.key}>{r.node}</Box>
      ))}
    </Box>
  );
});
