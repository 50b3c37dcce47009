import { Box, useApp, useInput } from 'ink';
import { useEffect, useInsertionEffect, useMemo, useRef } from 'react';
import type { ChatConnection } from '../server-link-types.js';
import { createController } from './controller.js';
import { newConversation } from '../state/conversations.js';
import { initialState } from '../state/reducer.js';
import { hotlist } from '../state/hotlist.js';
import { createStore, type Store } from '../state/state-store.js';
import { useConnection } from './hooks/use-connection.js';
import { useRawKeys } from './hooks/use-raw-keys.js';
import { useViewState } from './hooks/use-view-state.js';
import { inputLayout } from './input-overlay.js';
import { createViewGate, type ViewGate } from './view-gate.js';
import { useTerminalAlerts, type TerminalAlerts } from './hooks/use-terminal-alerts.js';
import { useTerminalSize, type TerminalSize } from './hooks/use-terminal-size.js';
import type { CursorPosition } from './frame-writer.js';
import { InputLine, inputCursor } from './InputLine.js';
import { keyToIntents, type Intent } from './keys.js';
import { screenLayout, type ScreenLayout } from './layout/screen.js';
import { MessagePane } from './MessagePane.js';
import { NickList } from './NickList.js';
import { TopicBar } from './TopicBar.js';
import { Sidebar } from './Sidebar.js';
import { StatusBar } from './StatusBar.js';

/** Props of {@link App}. */
export interface AppProps {
  connection: ChatConnection;
  nick: string;
  /** A fixed terminal size (tests); by default the real one, following resizes. */
  size?: TerminalSize;
  /** Called when the user quits, before Ink unmounts. */
  onQuit?: () => void;
  now?: () => number;
  /** Nicks ignored from the start (the config's `ignores`). */
  ignores?: readonly string[];
  /** Bell and window title; none in tests that do not ask for them. */
  alerts?: TerminalAlerts;
  /** Called once with the store (the config file follows it); returns the cleanup. */
  onStore?: (store: Store) => () => void;
  /**
   * Where the terminal's real cursor should be (the input position), reported before each frame
   * is drawn. Without it (tests) the input line draws a block cursor itself.
   */
  onCursor?: (at: CursorPosition | null) => void;
  /**
   * Draws the screen outside Ink (mountApp, screen-overlay.ts): called once with the store and
   * the gate that decides which states the App renders, returns the cleanup. Then Ink draws
   * nothing: the App only wires keys, the connection and the alerts, and re-renders only when
   * what the controller needs of the layout may have changed (never for a keystroke in the
   * input line, a PgUp or a message arriving in the room on screen).
   */
  screenOverlay?: (store: Store, gate: ViewGate) => () => void;
}

/**
 * The whole client screen. It owns the store and the controller and wires keys and connection
 * signals to them; everything it draws comes from the state.
 */
export function App({
  connection,
  nick,
  size,
  onQuit,
  now,
  ignores,
  alerts,
  onStore,
  onCursor,
  screenOverlay,
}: AppProps) {
  const { exit } = useApp();
  const terminal = useTerminalSize(size);
  const store = useMemo(
    () => createStore({ ...initialState(connection.url, nick), ignores: ignores ?? [] }),
    [connection, nick],
  );
  useEffect(() => onStore?.(store), [store]);
  const overlay = screenOverlay !== undefined;
  const columns = useRef(terminal.columns);
  columns.current = terminal.columns;
  const gate = useMemo(
    () => (overlay ? createViewGate((s) => inputLayout(s, columns.current).rows.length) : undefined),
    [store],
  );
  useEffect(() => screenOverlay?.(store, gate!), [store]);
  const state = useViewState(store, gate);
  useTerminalAlerts(state, alerts);
  const hot = useMemo(() => hotlist(state), [state.order, state.conversations, state.current]);
  const layoutRef = useRef<ScreenLayout | null>(null);

  const { prompt, rows } = inputLayout(state, terminal.columns);
  const conversation = state.current === null ? undefined : state.conversations[state.current];
  const room = conversation?.kind === 'room' ? conversation : undefined;
  const layout = screenLayout(terminal.columns, terminal.rows, rows.length, {
    bare: state.bare,
    topic: room?.topic !== undefined,
    nicklist: state.nicklist && room !== undefined,
  });
  layoutRef.current = layout;
  const cursor = inputCursor(prompt, rows, layout.rows - layout.inputRows);
  // Runs before Ink writes the frame (as Ink's own useCursor does), so both go out together.
  useInsertionEffect(() => {
    if (!overlay) onCursor?.(cursor);
  });

  const controller = useMemo(
    () =>
      createController({
        store,
        connection,
        layout: () => layoutRef.current!,
        quit: () => {
          onQuit?.();
          exit();
        },
        ...(now ? { now } : {}),
      }),
    [store, connection],
  );
  useConnection(connection, controller, store);
  const run = (intents: readonly Intent[]) =>
    store.batch(() => {
      for (const intent of intents) controller.intent(intent);
    });
  const rawTaken = useRawKeys(run);
  useInput((input, key) => {
    if (!rawTaken()) run(keyToIntents(input, key));
  });

  const system = useMemo(
    () => ({ ...newConversation('*', 'room', 'server'), entries: state.system }),
    [state.system],
  );
  const mainHeight = layout.paneHeight;

  // `chat connect`: the screen overlay draws the same parts from the same Lines (pane-overlay.ts).
  if (overlay) return null;
  return (
    <Box flexDirection="column" width={layout.columns} height={layout.rows}>
      {layout.topicRows > 0 && room?.topic && (
        <TopicBar roomId={room.id} topic={room.topic} modes={room.modes} width={layout.columns} />
      )}
      <Box flexDirection="row" height={mainHeight}>
        {layout.sidebarWidth > 0 && (
          <Box
            borderStyle="single"
            borderTop={false}
            borderBottom={false}
            borderLeft={false}
            borderDimColor
            width={layout.sidebarWidth + 1}
            flexShrink={0}
          >
            <Sidebar
              order={state.order}
              conversations={state.conversations}
              current={state.current}
              width={layout.sidebarWidth}
              height={mainHeight}
            />
          </Box>
        )}
        <Box paddingLeft={layout.sidebarWidth > 0 ? 1 : 0}>
          <MessagePane
            conversation={conversation ?? system}
            nick={state.nick}
            width={layout.paneWidth}
            height={layout.paneHeight}
            showQuiet={state.showQuiet}
            bare={state.bare}
          />
        </Box>
        {layout.nicklistWidth > 0 && room && (
          <Box
            borderStyle="single"
            borderTop={false}
            borderBottom={false}
            borderRight={false}
            borderDimColor
            paddingLeft={1}
            width={layout.nicklistWidth}
            flexShrink={0}
          >
            <NickList
              members={room.members}
              roles={room.roles}
              away={room.away}
              nick={state.nick}
              width={layout.nicklistWidth - 2}
              height={mainHeight}
            />
          </Box>
        )}
      </Box>
      <StatusBar
        server={state.server}
        nick={state.nick}
        status={state.status}
        conversation={conversation}
        lagMs={state.lagMs}
        width={layout.columns}
        choosingNick={state.nickPrompt !== null}
        hot={hot}
        jump={state.jump}
        bare={state.bare}
      />
      <InputLine prompt={prompt} rows={rows} width={layout.columns} drawCursor={!onCursor} />
    </Box>
  );
}
