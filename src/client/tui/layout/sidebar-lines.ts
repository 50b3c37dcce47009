import type { Conversation } from '../../state/types.js';
import type { Line, Segment } from './entry-lines.js';
import { fitCells } from './screen.js';
import { sidebarWindow, type RowActivity, type SidebarWindow } from './sidebar-window.js';
import { cellWidth } from './wrap.js';

/** What the sidebar shows. */
export interface SidebarInput {
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
function moreRow(key: string, arrow: string, more: NonNullable<SidebarWindow['above']>, width: number): Line {
  const text = more.active > 0 ? ` ${arrow} ${more.active} active` : ` ${arrow} ${more.hidden} more`;
  const segment: Segment = { text: fitCells(text, width), bold: more.active > 0, dim: more.active === 0 };
  if (more.urgent) segment.color = 'magenta';
  return { key, segments: [segment] };
}

const header = (key: string, text: string, width: number): Line => ({
  key,
  segments: [{ text: fitCells(text, width), dim: true }],
});

/**
 * The sidebar's rows, top to bottom: joined rooms, then open DMs. Each row: its Alt+N number,
 * the name, and the unread count; a count ending in `!` (and shown in magenta) means somebody
 * mentioned you there. A room being joined says `joining…`, one the server refused `failed`.
 * When they do not all fit, the window keeps the current one in view.
 */
export function sidebarLines({ order, conversations, current, width, height }: SidebarInput): Line[] {
  const rows: { line: Line; activity: RowActivity }[] = [];
  const quiet = { active: false, urgent: false };
  // Every conversation has a number (Alt+J NN, /window N reach past 9), right-aligned.
  const digits = String(order.length).length;
  const firstDm = order.findIndex((id) => conversations[id]?.kind === 'dm');
  order.forEach((id, i) => {
    const conv = conversations[id];
    if (!conv) return;
    if (i === 0 && conv.kind === 'room')
      rows.push({ line: header('h-rooms', ' Rooms', width), activity: quiet });
    if (i === firstDm) rows.push({ line: header('h-dms', ' Direct', width), activity: quiet });
    const label = ` ${String(i + 1).padStart(digits)} ${conv.kind === 'room' ? '#' : '@'}${conv.name}`;
    const right = `${badge(conv, width - cellWidth(label) - 2)} `;
    const text = fitCells(label, width - cellWidth(right)) + right;
    const selected = id === current;
    const segment: Segment = {
      text,
      inverse: selected,
      bold: selected || conv.unread > 0,
      dim: !conv.joined && !selected,
    };
    const color = conv.mentions > 0 ? 'magenta' : conv.joinRequest === 'failed' ? 'red' : undefined;
    if (color) segment.color = color;
    rows.push({
      line: { key: id, segments: [segment] },
      activity: { active: conv.unread > 0 && !selected, urgent: conv.mentions > 0 && !selected },
    });
  });
  if (rows.length === 0) rows.push({ line: header('empty', ' no rooms', width), activity: quiet });
  const at = Math.max(
    0,
    rows.findIndex((r) => r.line.key === current),
  );
  const view = sidebarWindow(
    rows.map((r) => r.activity),
    at,
    height,
  );
  return [
    ...(view.above ? [moreRow('above', '↑', view.above, width)] : []),
    ...rows.slice(view.start, view.end).map((r) => r.line),
    ...(view.below ? [moreRow('below', '↓', view.below, width)] : []),
  ];
}
