import { Box, Text } from 'ink';
import { memo } from 'react';
import { nickRows } from '../state/members.js';
import { sameNick } from '../state/mention.js';
import type { Conversation } from '../state/types.js';
import { fitCells } from './layout/screen.js';
import { nickColor } from './nick-color.js';
import { truncateCells } from './prompt.js';

/** Props of {@link NickList}. */
export interface NickListProps {
  members: Conversation['members'];
  roles: Conversation['roles'];
  away: Conversation['away'];
  nick: string;
  /** Cells for the names, prefix included. */
  width: number;
  height: number;
}

/**
 * The members of the room on screen, as WeeChat's nicklist: operators (`@`) first, then voiced
 * members (`+`), then the rest, alphabetically; away members dimmed, your own nick bold. Nicks
 * longer than the column are cut with `…`; when the room has more members than rows, the last
 * row says how many are not shown.
 */
export const NickList = memo(function NickList({ members, roles, away, nick, width, height }: NickListProps) {
  // Its own props, not the conversation: a new message does not redraw the list.
  const rows = nickRows({ members, roles, away });
  const fits = rows.length <= height ? rows.length : Math.max(0, height - 1);
  return (
    <Box flexDirection="column" width={width} height={height} flexShrink={0}>
      {rows.slice(0, fits).map((r) => {
        const self = sameNick(r.nick, nick);
        return (
          <Text key={r.nick} wrap="truncate-end" dimColor={r.away}>
            <Text color={r.prefix === '@' ? 'green' : r.prefix === '+' ? 'cyan' : undefined}>
              {r.prefix === '' ? ' ' : r.prefix}
            </Text>
            <Text bold={self} color={self || r.away ? undefined : nickColor(r.nick)}>
              {fitCells(truncateCells(r.nick, width - 1), width - 1)}
            </Text>
          </Text>
        );
      })}
      {fits < rows.length && <Text dimColor>{fitCells(`+${rows.length - fits} more`, width)}</Text>}
    </Box>
  );
});
