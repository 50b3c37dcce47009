import type { ChatMessage } from '../../../protocol/events.js';
import { MAX_HISTORY_PAGE } from '../../../protocol/limits.js';
import type { IrcContext } from './commands.js';
import { msgidBase } from './events.js';
import type { IrcMessage } from './message.js';
import { roomOf } from './names.js';

/** History pages a timestamp reference may read back through to find its place. */
const MAX_SCAN_PAGES = 5;

/** A reference as the client gave it. */
type Ref = { kind: 'msgid'; id: string } | { kind: 'timestamp'; ts: number } | { kind: 'none' };

function parseRef(raw: string | undefined): Ref | undefined {
  if (raw === '*') return { kind: 'none' };
  if (raw?.startsWith('msgid=')) return { kind: 'msgid', id: msgidBase(raw.slice(6)) };
  if (raw?.startsWith('timestamp=')) {
    const ts = Date.parse(raw.slice(10));
    return Number.isFinite(ts) ? { kind: 'timestamp', ts } : undefined;
  }
  return undefined;
}

/**
 * `CHATHISTORY LATEST|BEFORE|AFTER|AROUND|BETWEEN <#channel> <ref> [<ref>] <limit>` (IRCv3
 * draft/chathistory): the room's messages in a `chathistory` batch, oldest first. Seqs are
 * contiguous in a room, so every form is one `history` request (newest below a seq, limited):
 * the N after seq L are the page below L+N+1. A `msgid=` reference is found among the messages
 * this connection saw; a `timestamp=` one by reading back from the newest at most
 * {@link MAX_SCAN_PAGES} pages. DMs are not kept, so a nick has no history.
 */
export async function chathistory(c: IrcContext, m: IrcMessage): Promise<void> {
  const sub = m.params[0]!.toUpperCase();
  const target = m.params[1]!;
  const invalid = (text: string): void => c.fail('CHATHISTORY', 'INVALID_PARAMS', sub, text);
  if (sub === 'TARGETS') return c.sendBatch('draft/chathistory-targets', [], []);
  if (!['LATEST', 'BEFORE', 'AFTER', 'AROUND', 'BETWEEN'].includes(sub))
    return c.fail('CHATHISTORY', 'INVALID_PARAMS', sub, 'Unknown subcommand');
  const refs = m.params.slice(2, sub === 'BETWEEN' ? 4 : 3).map(parseRef);
  const limitText = m.params[sub === 'BETWEEN' ? 4 : 3];
  const limit = Number(limitText);
  if (refs.some((r) => r === undefined) || refs.length < (sub === 'BETWEEN' ? 2 : 1))
    return invalid('Bad message reference');
  if (!Number.isInteger(limit) || limit < 1) return invalid('Bad limit');
  const n = Math.min(limit, MAX_HISTORY_PAGE);
  if (!target.startsWith('#')) return c.sendBatch('chathistory', [target], []);
  const room = roomOf(target);
  if (room === undefined) return c.fail('CHATHISTORY', 'INVALID_TARGET', sub, target, 'No such channel');
  const [a, b] = refs as Ref[];
  if (a!.kind === 'none' && sub !== 'LATEST') return invalid('Only LATEST takes *');
  const pages = new Pages(c, room);
  let messages: ChatMessage[] | undefined;
  switch (sub) {
    case 'LATEST': {
      const after = a!.kind === 'none' ? 0 : await pages.lowerBound(a!);
      messages =
        after === undefined
          ? undefined
          : after === Infinity
            ? []
            : (await pages.below(undefined, n))?.filter((x) => x.seq > after);
      break;
    }
    case 'BEFORE': {
      const before = await pages.upperBound(a!);
      messages =
        before === undefined ? undefined : await pages.below(before === Infinity ? undefined : before, n);
      break;
    }
    case 'AFTER': {
      const after = await pages.lowerBound(a!);
      if (after === Infinity) messages = [];
      else if (after !== undefined)
        messages = (await pages.below(after + n + 1, n))?.filter((x) => x.seq > after);
      break;
    }
    case 'AROUND': {
      const at = a!.kind === 'msgid' ? c.known(a!.id)?.seq : await pages.lowerBound(a!);
      if (at === Infinity) messages = (await pages.below(undefined, n)) ?? undefined;
      else if (at !== undefined) messages = await pages.below(at + Math.floor(n / 2) + 1, n);
      break;
    }
    case 'BETWEEN': {
      const lowA = await pages.lowerBound(a!);
      const lowB = await pages.lowerBound(b!);
      if (lowA === undefined || lowB === undefined) break;
      if (lowA === Infinity && lowB === Infinity) {
        messages = [];
        break;
      }
      const forward = lowA <= lowB;
      const low = forward ? lowA : lowB;
      const high = forward ? await pages.upperBound(b!) : await pages.upperBound(a!);
      if (high === undefined) break;
      const top = high === Infinity ? undefined : high;
      messages = forward
        ? (await pages.below(Math.min(low + n + 1, top ?? Infinity), n))?.filter((x) => x.seq > low)
        : (await pages.below(top, n))?.filter((x) => x.seq > low);
      break;
    }
  }
  if (messages === undefined)
    return c.fail('CHATHISTORY', 'MESSAGE_ERROR', sub, target, 'Could not read history');
  c.sendBatch(
    'chathistory',
    [target],
    messages.flatMap((x) => c.messageLines(x)),
  );
}

/** Reads a room's history through the hub, and places references on its seq line. */
class Pages {
  constructor(
    private readonly c: IrcContext,
    private readonly room: string,
  ) {}

  /** The newest `limit` messages below `beforeSeq` (all when undefined), oldest first. */
  async below(beforeSeq: number | undefined, limit: number): Promise<ChatMessage[] | undefined> {
    if (beforeSeq !== undefined && beforeSeq <= 1) return [];
    const answer = await this.c.ask({
      type: 'history',
      payload: { room_id: this.room, limit, ...(beforeSeq !== undefined ? { before_seq: beforeSeq } : {}) },
    });
    return answer?.type === 'history' ? answer.payload.messages : undefined;
  }

  /** The seq a reference is "after": messages above it come after the reference. */
  async lowerBound(ref: Ref): Promise<number | undefined> {
    if (ref.kind === 'none') return 0;
    if (ref.kind === 'msgid') return this.c.known(ref.id)?.seq;
    const first = await this.firstFrom(ref.ts, true);
    return first === undefined ? undefined : first === Infinity ? Infinity : first - 1;
  }

  /** The seq a reference is "before": messages below it come before the reference (Infinity: all). */
  async upperBound(ref: Ref): Promise<number | undefined> {
    if (ref.kind === 'none') return Infinity;
    if (ref.kind === 'msgid') return this.c.known(ref.id)?.seq;
    return this.firstFrom(ref.ts, false);
  }

  /**
   * The lowest seq whose time is at `ts` or later (`strict`: later), Infinity when none is, by
   * reading pages back from the newest message (or from the nearest message this connection saw).
   */
  private async firstFrom(ts: number, strict: boolean): Promise<number | undefined> {
    const late = (x: { ts: number }): boolean => (strict ? x.ts > ts : x.ts >= ts);
    let candidate = Infinity;
    let cursor: number | undefined;
    for (let page = 0; page < MAX_SCAN_PAGES; page++) {
      const messages = await this.below(cursor, MAX_HISTORY_PAGE);
      if (messages === undefined) return undefined;
      for (let i = messages.length - 1; i >= 0; i--) {
        const x = messages[i]!;
        if (!late(x)) return candidate;
        candidate = x.seq;
      }
      if (messages.length === 0 || messages[0]!.seq <= 1) return candidate;
      cursor = messages[0]!.seq;
    }
    return candidate;
  }
}
