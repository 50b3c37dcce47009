import { Box, Text } from 'ink';
import { memo } from 'react';
import type { ConnectionStatus } from '../connection-types.js';
import type { Conversation } from '../state/types.js';
import { useNow } from './hooks/use-now.js';
import { cellWidth } from './layout/wrap.js';

/** Props of {@link StatusBar}. */
export interface StatusBarProps {
  server: string;
  nick: string;
  status: ConnectionStatus;
  conversation: Conversation | undefined;
  lagMs: number | null;
  width: number;
  choosingNick: boolean;
}

function statusText(
  status: ConnectionStatus,
  now: number,
  choosingNick: boolean,
): { text: string; color: string; why?: string } {
  if (choosingNick) return { text: 'nick refused: choose another', color: 'red' };
  switch (status.state) {
    case 'connected':
      return { text: 'connected', color: 'green' };
    case 'connecting':
      return { text: 'connecting...', color: 'yellow' };
    case 'identifying':
      return { text: 'choosing a nick', color: 'yellow' };
    case 'reconnecting': {
      const seconds = Math.max(0, Math.ceil((status.retryAt - now) / 1000));
      return {
        text: seconds > 0 ? `reconnecting in ${seconds}s` : 'reconnecting...',
        color: 'yellow',
        ...(status.reason ? { why: ` (${status.reason})` } : {}),
      };
    }
    case 'closed':
      return { text: 'disconnected', color: 'red' };
  }
}

function where(conv: Conversation | undefined): string {
  if (!conv) return 'no room';
  if (conv.kind === 'dm') return `@${conv.name}`;
  if (conv.joinRequest === 'pending') return `#${conv.id} (joining…)`;
  if (conv.joinRequest === 'failed') return `#${conv.id} (not joined)`;
  const n = conv.members.length;
  return `#${conv.id} (${n} ${n === 1 ? 'user' : 'users'})`;
}

/**
 * Server, nick, link state (with a live countdown and the reason while reconnecting), room and
 * lag. When that does not fit, the server address goes first, then the lag, then the reason, so
 * a narrow terminal still shows whether the link is up and where Enter sends.
 */
export const StatusBar = memo(function StatusBar({
  server,
  nick,
  status,
  conversation,
  lagMs,
  width,
  choosingNick,
}: StatusBarProps) {
  const now = useNow(status.state === 'reconnecting');
  const state = statusText(status, now, choosingNick);
  const room = where(conversation);
  const lag = lagMs === null ? 'lag -' : `lag ${lagMs} ms`;
  const why = state.why ?? '';
  const fits = (parts: string[]) => cellWidth(parts.join(' | ')) <= width;
  const showWhy = fits([nick, state.text + why, room]);
  const showLag = showWhy && fits([nick, state.text + why, room, lag]);
  const showServer = showLag && fits([server, nick, state.text + why, room, lag]);
  const sep = <Text dimColor> | </Text>;
  return (
    <Box width={width} height={1} overflow="hidden">
      <Text wrap="truncate-end">
        {showServer && (
          <>
            <Text dimColor>{server}</Text>
            {sep}
          </>
        )}
        <Text bold>{nick}</Text>
        {sep}
        <Text color={state.color}>
          {state.text}
          {showWhy && why}
        </Text>
        {sep}
        <Text>{room}</Text>
        {showLag && (
          <>
            {sep}
            <Text dimColor>{lag}</Text>
          </>
        )}
      </Text>
    </Box>
  );
});
