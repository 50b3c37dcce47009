import { nickRows } from '../../state/members.js';
import { sameNick } from '../../state/mention.js';
import type { Conversation } from '../../state/types.js';
import { nickColor } from '../nick-color.js';
import { truncateCells } from '../prompt.js';
import type { Line, Segment } from './entry-lines.js';
import { fitCells } from './screen.js';

/** What the nick list shows. */
export interface NickListInput {
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
export function nickListLines({ members, roles, away, nick, width, height }: NickListInput): Line[] {
  const rows = nickRows({ members, roles, away });
  const fits = rows.length <= height ? rows.length : Math.max(0, height - 1);
  const lines = rows.slice(0, fits).map((r): Line => {
    const self = sameNick(r.nick, nick);
    const prefix: Segment = { text: r.prefix === '' ? ' ' : r.prefix, dim: r.away };
    if (r.prefix === '@') prefix.color = 'green';
    else if (r.prefix === '+') prefix.color = 'cyan';
    const name: Segment = {
      text: fitCells(truncateCells(r.nick, width - 1), width - 1),
      bold: self,
      dim: r.away,
    };
    if (!self && !r.away) name.color = nickColor(r.nick);
    return { key: r.nick, segments: [prefix, name] };
  });
  if (fits < rows.length)
    lines.push({
      key: 'more',
      segments: [{ text: fitCells(`+${rows.length - fits} more`, width), dim: true }],
    });
  return lines;
}
