import { Box, Text } from 'ink';
import { memo } from 'react';
import type { ConnectionStatus } from '../connection-types.js';
import type { Conversation } from '../state/types.js';
import { useNow } from './hooks/use-now.js';

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
): { text: string; color: string } {
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
      const why = status.reason ? ` (${status.reason})` : '';
      return {
        text: `${seconds > 0 ? `reconnecting in ${seconds}s` : 'reconnecting...'}${why}`,
        color: 'yellow',
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

/** Server, nick, link state (with a live countdown while reconnecting), room and lag. */
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
  const sep = <Text dimColor> | </Text>;
  return (
    <Box width={width} height={1} overflow="hidden">
      <Text wrap="truncate-end">
        <Text dimColor>{server}</Text>
        {sep}
        <Text bold>{nick}</Text>
        {sep}
        <Text color={state.color}>{state.text}</Text>
        {sep}
        <Text>{where(conversation)}</Text>
        {sep}
        <Text dimColor>{lagMs === null ? 'lag -' : `lag ${lagMs} ms`}</Text>
      </Text>
    </Box>
  );
});
