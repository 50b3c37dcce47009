import { describe, expect, it } from 'vitest';
import type { Action } from '../../src/client/state/actions.js';
import { initialState, reducer } from '../../src/client/state/reducer.js';
import type { ChatState } from '../../src/client/state/types.js';
import { lineText, paneRegion, stateLayout } from '../../src/client/tui/pane-overlay.js';
import { createViewGate, onlyOverlayChanged } from '../../src/client/tui/view-gate.js';
import type { ServerMessage } from '../../src/protocol/events.js';
import { ev, joined, msg, welcome } from '../helpers/client-events.js';

/**
 * The message pane drawn beside Ink (issue 15: pane redraws under a frame): which states need
 * an Ink frame, and the pane's rows as the terminal gets them.
 */

const NOW = 1_700_000_100_000;
const server = (event: ServerMessage): Action => ({ type: 'server', event, now: NOW });
const run = (state: ChatState, ...actions: Action[]) => actions.reduce(reducer, state);
const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m|\x1b\]8;;[^\x1b]*\x1b\\/g, '');

/** alice in #lobby (on screen) and #dev. */
function twoRooms(): ChatState {
  return run(
    initialState('ws://test', 'alice'),
    server(welcome('alice')),
    server(joined('lobby', ['alice', 'bob'])),
    server(joined('dev', ['alice', 'carol'])),
    { type: 'select', id: 'lobby' },
  );
}

describe('which states need an Ink frame', () => {
  it('a message in the room on screen, scrolling and typing need none', () => {
    const a = twoRooms();
    const message = run(a, server(ev('message', msg('lobby', 1, 'bob', 'hi'))));
    expect(onlyOverlayChanged(a, message)).toBe(true);
    const scrolled = run(message, { type: 'scroll_to', id: 'lobby', anchor: { below: 0, skip: 1 } });
    expect(onlyOverlayChanged(message, scrolled)).toBe(true);
    expect(onlyOverlayChanged(a, run(a, { type: 'input_insert', text: 'x' }))).toBe(true);
  });

  it('a message elsewhere (the sidebar counts it), a room switch or a join do', () => {
    const a = twoRooms();
    expect(onlyOverlayChanged(a, run(a, server(ev('message', msg('dev', 1, 'carol', 'hi')))))).toBe(false);
    expect(onlyOverlayChanged(a, run(a, { type: 'select', id: 'dev' }))).toBe(false);
    expect(onlyOverlayChanged(a, run(a, server(joined('ops', ['alice']))))).toBe(false);
    expect(
      onlyOverlayChanged(a, run(a, server(ev('user_joined', { room_id: 'lobby', user_name: 'dan' })))),
    ).toBe(false);
  });

  it('the gate keeps the state Ink last drew while only the overlays change, until the input line grows', () => {
    const gate = createViewGate((s) => (s.input.text.length > 5 ? 2 : 1));
    const a = twoRooms();
    expect(gate.view(a)).toBe(a);
    const typed = run(a, { type: 'input_insert', text: 'hey' });
    expect(gate.view(typed)).toBe(a);
    const longer = run(typed, { type: 'input_insert', text: ' there' });
    expect(gate.view(longer)).toBe(longer);
    const switched = run(longer, { type: 'select', id: 'dev' });
    expect(gate.view(switched)).toBe(switched);
  });
});

describe('the pane beside Ink', () => {
  it('sits right of the sidebar, bottom-aligned, one row per line', () => {
    const s = run(twoRooms(), server(ev('message', msg('lobby', 1, 'bob', 'hello there'))));
    const layout = stateLayout(s, 100, 20, 1);
    const pane = paneRegion(s, layout);
    expect(pane.left).toBe(layout.sidebarWidth + 2);
    expect(pane.width).toBe(layout.paneWidth);
    expect(pane.rows).toHaveLength(layout.paneHeight);
    expect(plain(pane.rows.at(-1)!)).toMatch(/^\d\d:\d\d <bob> hello there$/);
    expect(pane.rows[0]).toBe('');
  });

  it('cuts a row wider than the pane with … by cells, never inside a wide character', () => {
    const line = { key: 'k', segments: [{ text: '-- ' }, { text: '漢字漢字', color: 'yellow' }] };
    expect(plain(lineText(line, 8))).toBe('-- 漢字…');
    expect(plain(lineText(line, 20))).toBe('-- 漢字漢字');
  });

  it('draws a link as an OSC 8 hyperlink in its own style', () => {
    const line = {
      key: 'l',
      segments: [{ text: 'see ' }, { text: 'https://x.org/', link: 'https://x.org/' }],
    };
    expect(lineText(line, 40)).toContain('\x1b]8;;https://x.org/\x1b\\https://x.org/\x1b]8;;\x1b\\');
  });
});
