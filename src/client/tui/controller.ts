import { createLineRunner } from './line-runner.js';
import type { ChatConnection, ConnectionSignal } from '../server-link-types.js';
import type { Action } from '../state/actions.js';
import type { Conversation } from '../state/types.js';
import type { Store } from '../state/state-store.js';
import { sanitizeText } from '../../protocol/sanitize.js';
import { textIntents, type Intent } from './keys.js';
import { PASTE_ASK_LINES } from './raw-keys.js';
import { scrollBy, scrollStep } from './layout/viewport.js';
import type { ScreenLayout } from './layout/screen.js';

/** Older messages fetched per page when scrolling past the top. */
export const HISTORY_PAGE = 100;

/** What the controller needs from the outside world. */
export interface ControllerDeps {
  store: Store;
  connection: ChatConnection;
  /** The current screen split (for paging by a screenful). */
  layout(): ScreenLayout;
  quit(): void;
  now?: () => number;
}

/** Turns intents (keys), submitted lines and connection signals into actions and requests. */
export interface Controller {
  intent(intent: Intent): void;
  signal(signal: ConnectionSignal): void;
}

/**
 * The one place with side effects (with the line runner it hands Enter to): it reads the state,
 * dispatches actions and talks to the connection. Components only render and forward keys here,
 * so all of this is testable with a fake connection and no terminal.
 */
export function createController(deps: ControllerDeps): Controller {
  const { store, connection } = deps;
  const now = deps.now ?? Date.now;
  const dispatch = (action: Action) => store.dispatch(action);
  const state = () => store.getState();
  const current = (): Conversation | undefined => {
    const s = state();
    return s.current === null ? undefined : s.conversations[s.current];
  };
  const runner = createLineRunner({ store, connection, quit: deps.quit, now });

  /**
   * Rows a PgUp could not go because the older history was not loaded yet: scrolled once that
   * page arrives, so a PgUp near the top of what is loaded still moves a whole page.
   */
  let owed: { id: string; rows: number } | null = null;

  /**
   * Scrolls by a page. Older history is asked for before the top is reached (once less than a
   * page of it is left above the view), so paging up through a long room rarely waits.
   */
  function page(direction: 1 | -1): void {
    const conv = current();
    if (!conv) return;
    owed = null;
    const { paneWidth, paneHeight } = deps.layout();
    // While scrolled, one row of the pane holds the "new messages below" line.
    const height = Math.max(1, paneHeight - 1);
    const view = { showQuiet: state().showQuiet, bare: state().bare };
    const nick = state().nick;
    const step = direction * Math.max(1, height - 1);
    const { anchor, moved } = scrollStep(conv, paneWidth, height, step, nick, view);
    const short = direction === 1 ? step - moved : 0;
    dispatch({ type: 'scroll_to', id: conv.id, anchor });
    const after = current();
    if (!after || after.kind !== 'room' || !after.hasMore || direction !== 1) return;
    if (short > 0) owed = { id: after.id, rows: short };
    if (after.loadingOlder) return;
    // Less than a page above the view: the next PgUp would hit the top, so fetch now.
    fetchOlderIfShort(after, paneWidth, height);
  }

  /**
   * Asks for the page before the oldest message held when less than a page of `conv` is above
   * its view (a walk of a page, not of the whole history below) and the server has more.
   */
  function fetchOlderIfShort(conv: Conversation, paneWidth: number, height: number): void {
    if (conv.kind !== 'room' || !conv.hasMore || conv.loadingOlder) return;
    const view = { showQuiet: state().showQuiet, bare: state().bare };
    const left = scrollStep(conv, paneWidth, height, height, state().nick, view).moved;
    if (left >= height) return;
    const payload =
      conv.oldestSeq > 0
        ? { room_id: conv.id, before_seq: conv.oldestSeq, limit: HISTORY_PAGE }
        : { room_id: conv.id, limit: HISTORY_PAGE };
    if (connection.send({ type: 'history', payload }) !== undefined)
      dispatch({ type: 'history_requested', id: conv.id });
  }

  /**
   * A room on screen that holds less than a page (joined with since_seq after a restart, so only
   * what was missed came back) gets the page before it, so the pane shows the conversation
   * instead of a blank screen and "older messages: PgUp".
   */
  function fillPane(signal: ConnectionSignal): void {
    if (signal.kind !== 'event') return;
    const e = signal.event;
    // After the join's own page or replay: a join is always answered with one.
    if (e.type !== 'history') return;
    const conv = current();
    if (!conv || conv.id !== e.payload.room_id || conv.scroll) return;
    const { paneWidth, paneHeight } = deps.layout();
    fetchOlderIfShort(conv, paneWidth, Math.max(1, paneHeight - 1));
  }

  /** An older page arrived for the room a PgUp fell short in: scroll the rest of the way. */
  function payOwed(signal: ConnectionSignal): void {
    if (!owed || signal.kind !== 'event' || signal.event.type !== 'history') return;
    if (signal.event.payload.room_id !== owed.id) return;
    const conv = current();
    const rows = owed.rows;
    owed = null;
    if (!conv || conv.id !== signal.event.payload.room_id || conv.loadingOlder || !conv.scroll) return;
    const { paneWidth, paneHeight } = deps.layout();
    const view = { showQuiet: state().showQuiet, bare: state().bare };
    const anchor = scrollBy(conv, paneWidth, Math.max(1, paneHeight - 1), rows, state().nick, view);
    dispatch({ type: 'scroll_to', id: conv.id, anchor });
  }

  /**
   * After Alt+J, digits go to the jump instead of the input line; anything else ends the jump
   * (a non-digit is typed as usual). Returns the intent left to handle, if any.
   */
  function jumpDigits(intent: Intent): Intent | undefined {
    if (state().jump === null) return intent;
    if (intent.kind !== 'insert') {
      dispatch({ type: 'jump_cancel' });
      return intent;
    }
    let i = 0;
    while (i < intent.text.length && state().jump !== null && /[0-9]/.test(intent.text[i]!)) {
      dispatch({ type: 'jump_digit', digit: intent.text[i]! });
      i++;
    }
    if (i === intent.text.length) return undefined;
    dispatch({ type: 'jump_cancel' });
    return { kind: 'insert', text: intent.text.slice(i) };
  }

  /**
   * A bracketed paste: a few lines go out as typed; a longer one waits in the input line as a
   * multi-line draft, and the user says how to send it (as irssi asks before a big paste).
   */
  function paste(text: string): void {
    const normalized = text.replace(/\r\n?/g, '\n');
    const lines = normalized.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    if (lines.length <= PASTE_ASK_LINES) {
      for (const intent of textIntents(normalized)) controller.intent(intent);
      return;
    }
    dispatch({
      type: 'input_insert',
      text: lines.map((l) => sanitizeText(l.replace(/\t/g, ' '))).join('\n'),
    });
    dispatch({
      type: 'notice',
      text: `pasted ${lines.length} lines, not sent yet: Enter sends them as one message, Alt+S as ${lines.length} lines, Ctrl+U drops them`,
      tone: 'info',
      now: now(),
    });
  }

  /** Alt+S: the draft's lines go out one message each (blank ones skipped). */
  function sendLines(): void {
    const lines = state()
      .input.text.split('\n')
      .filter((l) => l.trim() !== '');
    dispatch({ type: 'input_clear' });
    for (const line of lines) {
      dispatch({ type: 'input_insert', text: line });
      runner.submit();
    }
  }

  function handleIntent(raw: Intent): void {
    const intent = jumpDigits(raw);
    if (!intent) return;
    switch (intent.kind) {
      case 'paste':
        return paste(intent.text);
      case 'send_lines':
        return sendLines();
      case 'quit':
        return deps.quit();
      case 'next_room':
        return dispatch({ type: 'select_relative', delta: 1 });
      case 'prev_room':
        return dispatch({ type: 'select_relative', delta: -1 });
      case 'jump':
        return dispatch({ type: 'select_index', index: intent.index });
      case 'activity':
        return dispatch({ type: 'select_activity' });
      case 'jump_prefix':
        return dispatch({ type: 'jump_start' });
      case 'mark_read': {
        const id = state().current;
        if (id !== null) dispatch({ type: 'mark_read', id });
        return;
      }
      case 'toggle_quiet':
        return dispatch({ type: 'toggle_quiet' });
      case 'toggle_bare':
        return dispatch({ type: 'toggle_bare' });
      case 'toggle_nicklist':
        return dispatch({ type: 'toggle_nicklist' });
      case 'page_up':
        return page(1);
      case 'page_down':
        return page(-1);
      case 'live': {
        const conv = current();
        if (conv?.scroll) dispatch({ type: 'scroll_to', id: conv.id, anchor: null });
        return;
      }
      case 'history_prev':
        return dispatch({ type: 'history_prev' });
      case 'history_next':
        return dispatch({ type: 'history_next' });
      case 'submit':
        return runner.submit();
      case 'insert':
        return dispatch({ type: 'input_insert', text: intent.text });
      case 'complete':
        return dispatch({ type: 'complete' });
      case 'backspace':
        return dispatch({ type: 'input_backspace' });
      case 'delete_word':
        return dispatch({ type: 'input_delete_word' });
      case 'clear_line':
        return dispatch({ type: 'input_clear' });
      case 'edit':
        return dispatch({ type: 'input_edit', op: intent.op });
      case 'line':
        return dispatch({ type: 'input_line', direction: intent.direction });
      case 'move':
        return dispatch({ type: 'input_move', to: intent.to });
    }
  }

  const controller: Controller = {
    intent(raw) {
      const before = state().current;
      handleIntent(raw);
      // A room switched to may hold less than a page (its history arrived while another was on screen).
      const conv = current();
      if (conv && conv.id !== before && !conv.scroll) {
        const { paneWidth, paneHeight } = deps.layout();
        fetchOlderIfShort(conv, paneWidth, Math.max(1, paneHeight - 1));
      }
    },
    signal(signal) {
      apply(signal);
      payOwed(signal);
      fillPane(signal);
      // Lines typed before the server was ready go out once it is (welcome, the first room).
      if (runner.waiting() > 0) runner.drain();
    },
  };

  function apply(signal: ConnectionSignal): void {
    switch (signal.kind) {
      case 'event':
        return dispatch({ type: 'server', event: signal.event, now: now() });
      case 'status':
        return dispatch({ type: 'status', status: signal.status });
      case 'lag':
        return dispatch({ type: 'lag', ms: signal.ms });
      case 'nick_rejected':
        return dispatch({
          type: 'nick_rejected',
          nick: signal.nick,
          code: signal.code,
          message: signal.message,
          now: now(),
        });
      case 'join_failed':
        return dispatch({
          type: 'join_failed',
          roomId: signal.roomId,
          code: signal.code,
          message: signal.message,
          now: now(),
        });
    }
  }
  return controller;
}
