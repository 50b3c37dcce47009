import type { Cap } from './caps.js';
import { formatMessage, type OutMessage } from './message.js';

let batchCounter = 0;

/** A fresh batch reference, unique within the process. */
export function batchRef(): string {
  return `b${(batchCounter++).toString(36)}`;
}

/**
 * The lines that answer one command. With labeled-response they carry the client's label: one
 * line takes it as a tag, several go in a `labeled-response` batch, none get an ACK (IRCv3
 * labeled-response). Without a label they are written as they are.
 */
export class Reply {
  private readonly lines: OutMessage[] = [];

  constructor(
    readonly label: string | undefined,
    private readonly caps: ReadonlySet<Cap>,
    private readonly server: string,
  ) {}

  add(...lines: OutMessage[]): void {
    this.lines.push(...lines);
  }

  /** Lines of a `type` batch (chathistory): wrapped in BATCH when the client asked for batches. */
  addBatch(type: string, params: string[], lines: OutMessage[]): void {
    if (!this.caps.has('batch')) return this.add(...lines);
    const ref = batchRef();
    this.add(
      { source: this.server, command: 'BATCH', params: [`+${ref}`, type, ...params] },
      ...lines.map((l) => ({ ...l, tags: { ...l.tags, batch: ref } })),
      { source: this.server, command: 'BATCH', params: [`-${ref}`] },
    );
  }

  /** The wire text of the whole answer. */
  finish(): string {
    const label = this.label;
    if (label === undefined || !this.caps.has('labeled-response'))
      return this.lines.map(formatMessage).join('');
    if (this.lines.length === 0)
      return formatMessage({ tags: { label }, source: this.server, command: 'ACK', params: [] });
    if (this.lines.length === 1) {
      const only = this.lines[0]!;
      return formatMessage({ ...only, tags: { label, ...only.tags } });
    }
    const ref = batchRef();
    return [
      { tags: { label }, source: this.server, command: 'BATCH', params: [`+${ref}`, 'labeled-response'] },
      // A line already in a batch of its own (chathistory) stays in it; that batch is nested in ours.
      ...this.lines.map((l) =>
        l.command === 'BATCH' && l.params[0]?.startsWith('+')
          ? { ...l, tags: { ...l.tags, batch: ref } }
          : l.tags?.batch !== undefined
            ? l
            : { ...l, tags: { ...l.tags, batch: ref } },
      ),
      { source: this.server, command: 'BATCH', params: [`-${ref}`] },
    ]
      .map(formatMessage)
      .join('');
  }
}
