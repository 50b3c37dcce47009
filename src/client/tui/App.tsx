import { Box, useApp, useInput } from 'ink';
import { useEffect, useInsertionEffect, useMemo, useRef } from 'react';
import type { ChatConnection } from '../server-link-types.js';
import { createController } from './controller.js';
import { inputMask, promptFor } from './prompt.js';
import { newConversation } from '../state/conversations.js';
import { initialState } from '../state/reducer.js';
import { hotlist } from '../state/hotlist.js';
import { createStore, type Store } from '../state/state-store.js';
import { useConnection } from './hooks/use-connection.js';
import { useRawKeys } from './hooks/use-raw-keys.js';
import { useStoreState } from './hooks/use-store.js';
import { useTerminalAlerts, type TerminalAlerts } from './hooks/use-terminal-alerts.js';
import { useTerminalSize, type TerminalSize } from './hooks/use-terminal-size.js';
import type { CursorPosition } from './frame-writer.js';
import { InputLine, inputCursor } from './InputLine.js';
import { keyToIntents, type Intent } from './keys.js';
import { inputRows, screenLayout, type ScreenLayout } from './layout/screen.js';
import { cellWidth } from './layout/wrap.js';
import { MessagePane } from './MessagePane.js';
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
}

/**
 * The whole client screen. It owns the store and the controller and wires keys and connection
 * signals to them; everything it draws comes from the state.
 */
export function App({ connection, nick, size, onQuit, now, ignores, alerts, onStore, onCursor }: AppProps) {
  const { exit } = useApp();
  const terminal = useTerminalSize(size);
  const store = useMemo(
    () => createStore({ ...initialState(connection.url, nick), ignores: ignores ?? [] }),
    [connection, nick],
  );
  useEffect(() => onStore?.(store), [store]);
  const state = useStoreState(store);
  useTerminalAlerts(state, alerts);
  const hot = useMemo(() => hotlist(state), [state.order, state.conversations, state.current]);
  const layoutRef = useRef<ScreenLayout | null>(null);

  const prompt = promptFor(state, terminal.columns);
  const rows = inputRows(
    state.input.text,
    state.input.cursor,
    terminal.columns - cellWidth(prompt),
    inputMask(state),
  );
  const layout = screenLayout(terminal.columns, terminal.rows, rows.length, state.bare);
  layoutRef.current = layout;
  const cursor = inputCursor(prompt, rows, layout.rows - layout.inputRows);
  // Runs before Ink writes the frame (as Ink's own useCursor does), so both go out together.
  useInsertionEffect(() => onCursor?.(cursor));

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
  const conversation = state.current === null ? undefined : state.conversations[state.current];
  const mainHeight = layout.rows - 1 - layout.inputRows;

  return (
    <Box flexDirection="column" width={layout.columns} height={layout.rows}>
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
