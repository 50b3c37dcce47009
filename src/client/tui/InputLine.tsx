import { Box, Text } from 'ink';
import { memo } from 'react';
import type { InputRow } from './layout/screen.js';

/** Props of {@link InputLine}. */
export interface InputLineProps {
  prompt: string;
  rows: readonly InputRow[];
  width: number;
}

/** The prompt (where Enter sends to) and the line being typed, with a block cursor. */
export const InputLine = memo(function InputLine({ prompt, rows, width }: InputLineProps) {
  const pad = ' '.repeat(prompt.length);
  return (
    <Box flexDirection="column" width={width} flexShrink={0}>
      {rows.map((row, i) => (
        <Text key={i} wrap="truncate-end">
          <Text bold color="cyan">
            {i === 0 ? prompt : pad}
          </Text>
          {row.before}
          {row.at !== null && <Text inverse>{row.at}</Text>}
          {row.after}
        </Text>
      ))}
    </Box>
  );
});
