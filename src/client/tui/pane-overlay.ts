import chalk from 'chalk';
import { newConversation } from '../state/conversations.js';
import type { ChatState, Conversation, Entry } from '../state/types.js';
import { hotlist } from '../state/hotlist.js';
import { moveTo, type PaneRegion } from './frame-writer.js';
import type { Line, Segment } from './layout/entry-lines.js';
import { hyperlink } from './layout/links.js';
import { nickListLines } from './layout/nicklist-lines.js';
import { paneLines } from './layout/pane-lines.js';
import { screenLayout, type ScreenLayout } from './layout/screen.js';
import { sidebarLines } from './layout/sidebar-lines.js';
import { statusLine } from './layout/status-line.js';
import { topicLine } from './layout/topic-line.js';
import { cellWidth, splitGraphemes } from './layout/wrap.js';

const ANSI_256 = /^ansi256\((\d+)\)$/;

/** A segment's text with its style, as Ink's Text would style it (the same chalk, so the same colour level). */
function styled(s: Segment, text: string): string {
  let out = s.link ? hyperlink(s.link, text) : text;
  if (s.dim) out = chalk.dim(out);
  if (s.color) {
    const n = ANSI_256.exec(s.color);
    if (n) out = chalk.ansi256(Number(n[1]))(out);
    else if (s.color in chalk) out = (chalk[s.color as 'yellow'] as (t: string) => string)(out);
  }
  if (s.bold) out = chalk.bold(out);
  if (s.inverse) out = chalk.inverse(out);
  return out;
}

// Lines are cached per entry (entry-lines.ts), so their styled form is too: a pane redraw joins
// strings it already has.
const cache = new WeakMap<Line, { width: number; text: string }>();

/**
 * One pane row as the terminal gets it: styled, and cut to `width` cells with `…` when wider
 * (Ink's `truncate-end`; a wide character is never split).
 */
export function lineText(line: Line, width: number): string {
  const hit = cache.get(line);
  if (hit && hit.width === width) return hit.text;
  const total = line.segments.reduce((n, s) => n + cellWidth(s.text), 0);
  let text = '';
  if (total <= width) {
    for (const s of line.segments) if (s.text !== '') text += styled(s, s.text);
  } else {
    let used = 0;
    const room = Math.max(0, width - 1);
    for (const s of line.segments) {
      let part = '';
      for (const g of splitGraphemes(s.text)) {
        const w = cellWidth(g);
        if (used + w > room) break;
        part += g;
        used += w;
      }
      if (part !== '') text += styled(s, part);
      if (part.length < s.text.length) break;
    }
    text += '…';
  }
  cache.set(line, { width, text });
  return text;
}

const systems = new WeakMap<readonly Entry[], Conversation>();

/** The conversation the pane shows: the current one, or the server notices before any room. */
export function shownConversation(state: ChatState): Conversation {
  const conv = state.current === null ? undefined : state.conversations[state.current];
  if (conv) return conv;
  let system = systems.get(state.system);
  if (!system) {
    system = { ...newConversation('*', 'room', 'server'), entries: state.system };
    systems.set(state.system, system);
  }
  return system;
}

/** The screen's layout for `state`, as the App lays it out (see App.tsx). */
export function stateLayout(
  state: ChatState,
  columns: number,
  rows: number,
  inputRows: number,
): ScreenLayout {
  const conv = state.current === null ? undefined : state.conversations[state.current];
  const room = conv?.kind === 'room' ? conv : undefined;
  return screenLayout(columns, rows, inputRows, {
    bare: state.bare,
    topic: room?.topic !== undefined,
    nicklist: state.nicklist && room !== undefined,
  });
}

/**
 * The message pane drawn beside Ink: where it sits on the screen (right of the sidebar and its
 * border and padding, under the topic line) and its rows, bottom-aligned.
 */
export function paneRegion(state: ChatState, layout: ScreenLayout): PaneRegion {
  const width = layout.paneWidth;
  const height = layout.paneHeight;
  const lines = paneLines(shownConversation(state), state.nick, width, height, {
    showQuiet: state.showQuiet,
    bare: state.bare,
  });
  const rows: string[] = [];
  for (let i = lines.length; i < height; i++) rows.push('');
  for (const line of lines) rows.push(lineText(line, width));
  return {
    top: layout.topicRows,
    left: layout.sidebarWidth > 0 ? layout.sidebarWidth + 2 : 0,
    width,
    rows,
  };
}

/**
 * Everything above the input line except the pane's text, as the terminal gets it: the topic
 * line, the sidebar and its border, the nick list and its border, and the status bar, at the
 * places Ink would put them (App.tsx lays out the same parts for tests). The pane's cells are
 * left for {@link paneRegion}. `now` drives the reconnect countdown.
 */
export function chromeRows(state: ChatState, layout: ScreenLayout, now: number): string[] {
  const { columns, sidebarWidth, nicklistWidth, paneHeight, topicRows } = layout;
  const conv = state.current === null ? undefined : state.conversations[state.current];
  const room = conv?.kind === 'room' ? conv : undefined;
  const rows: string[] = [];
  if (topicRows > 0)
    rows.push(
      room?.topic
        ? lineText(
            topicLine({ roomId: room.id, topic: room.topic, modes: room.modes, width: columns }),
            columns,
          )
        : '',
    );
  const sidebar =
    sidebarWidth > 0
      ? sidebarLines({
          order: state.order,
          conversations: state.conversations,
          current: state.current,
          width: sidebarWidth,
          height: paneHeight,
        })
      : [];
  const nicks =
    nicklistWidth > 0 && room
      ? nickListLines({
          members: room.members,
          roles: room.roles,
          away: room.away,
          nick: state.nick,
          width: nicklistWidth - 2,
          height: paneHeight,
        })
      : [];
  const border = chalk.dim('│');
  for (let i = 0; i < paneHeight; i++) {
    const r = topicRows + i;
    let row = '';
    if (sidebarWidth > 0) {
      const line = sidebar[i];
      // Addressed, not counted: a name the terminal draws wider than we measure cannot move the border.
      row += (line ? lineText(line, sidebarWidth) : '') + moveTo(r, sidebarWidth) + border;
    }
    if (nicklistWidth > 0) {
      const line = nicks[i];
      row +=
        moveTo(r, columns - nicklistWidth) + border + ' ' + (line ? lineText(line, nicklistWidth - 2) : '');
    }
    rows.push(row);
  }
  const status = statusLine(
    {
      server: state.server,
      nick: state.nick,
      status: state.status,
      conversation: conv,
      lagMs: state.lagMs,
      width: columns,
      choosingNick: state.nickPrompt !== null,
      hot: hotlist(state),
      jump: state.jump,
      bare: state.bare,
    },
    now,
  );
  rows.push(lineText(status, columns));
  return rows;
}
