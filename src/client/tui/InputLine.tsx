import { Box, Text } from 'ink';
import { memo } from 'react';
import type { CursorPosition } from './frame-writer.js';
import type { InputRow } from './layout/screen.js';
import { cellWidth } from './layout/wrap.js';

/** Props of {@link InputLine}. */
export interface InputLineProps {
  prompt: string;
  rows: readonly InputRow[];
  width: number;
  /** Draw the cursor as an inverse block (when the terminal's own cursor is not placed there). */
  drawCursor?: boolean;
}

/** The prompt (where Enter sends to) and the line being typed. */
export const InputLine = memo(function InputLine({ prompt, rows, width, drawCursor = true }: InputLineProps) {
  const pad = ' '.repeat(cellWidth(prompt));
  return (
    <Box flexDirection="column" width={width} flexShrink={0}>
      {rows.map((row, i) => (
        <Text key={i} wrap="truncate-end">
          <Text bold color="cyan">
            {i === 0 ? prompt : pad}
          </Text>
          {row.before}
          {row.at !== null && (drawCursor ? <Text inverse>{row.at}</Text> : row.at === ' ' ? '' : row.at)}
          {row.after}
        </Text>
      ))}
    </Box>
  );
});

/** Where the input cursor is on the screen, given the row the input line starts on. */
export function inputCursor(prompt: string, rows: readonly InputRow[], top: number): CursorPosition | null {
  const at = rows.findIndex((r) => r.at !== null);
  if (at === -1) return null;
  return { row: top + at, col: cellWidth(prompt) + cellWidth(rows[at]!.before) };
}
