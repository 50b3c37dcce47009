import { Text } from 'ink';
import { memo } from 'react';
import type { Line } from './layout/entry-lines.js';
import { hyperlink } from './layout/links.js';

/**
 * One row of styled segments, cut with `…` when wider than its box. The screen's parts are
 * built as {@link Line}s (layout/), so `chat connect` can draw them beside Ink (screen-overlay.ts)
 * and Ink draws exactly the same rows in tests.
 */
export const LineRow = memo(function LineRow({ line }: { line: Line }) {
  return (
    <Text wrap="truncate-end">
      {line.segments.map((s, i) => (
        <Text key={i} color={s.color} dimColor={s.dim} bold={s.bold} inverse={s.inverse}>
          {s.link ? hyperlink(s.link, s.text) : s.text}
        </Text>
      ))}
    </Text>
  );
});
