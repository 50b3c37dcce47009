import { nickKey } from '../../protocol/nick.js';
import type { Engine, WhoisAnswer } from '../cluster/engine.js';
import type { Identities } from './identity.js';
import { whoisAnswer } from './life.js';

/**
 * What IRC's WHO asks of the hub (issue 17): the nicks online that match a mask, this node's and,
 * in the cluster mode, every node's; and what whois says of each. Bounded: a WHO lists at most
 * its limit, and reads at most {@link MAX_SCANNED} nicks of the cluster's list.
 */

/** How many nicks of the cluster-wide list one WHO reads at most before it stops looking. */
export const MAX_SCANNED = 10_000;

/** The most users on other nodes one WHO asks about (each is a question to the holder's node). */
export const MAX_REMOTE_ASKS = 100;

/** The nicks online, this node's first, that pass `test`: at most `limit`, each once. */
export async function matchingNicks(
  identities: Identities,
  engine: Engine | undefined,
  test: (nick: string) => boolean,
  limit: number,
): Promise<string[]> {
  const found = new Map<string, string>();
  for (const nick of identities.nicksHere()) {
    if (found.size >= limit) break;
    if (test(nick)) found.set(nickKey(nick), nick);
  }
  if (engine && found.size < limit && engine.state === 'up') {
    const elsewhere = await engine.onlineNicks(test, limit, MAX_SCANNED).catch(() => []);
    for (const nick of elsewhere) {
      if (found.size >= limit) break;
      if (!found.has(nickKey(nick))) found.set(nickKey(nick), nick);
    }
  }
  return [...found.values()];
}

/**
 * What whois says of each nick, in order, its `rooms` those of `rooms` it is in (the asker's, for
 * +i; none by default); undefined for a nick nobody holds any more, or whose node did not answer.
 * Users of this node are read from their sessions; at most {@link MAX_REMOTE_ASKS} users of other
 * nodes are asked about, at once, the rest are undefined.
 */
export async function whoAnswers(
  identities: Identities,
  engine: Engine | undefined,
  names: string[],
  rooms: string[] = [],
): Promise<(WhoisAnswer | undefined)[]> {
  let asks = 0;
  return Promise.all(
    names.map(async (name): Promise<WhoisAnswer | undefined> => {
      try {
        const here = identities.online(name);
        if (here) return here.closed ? undefined : whoisAnswer(here, rooms);
        if (!engine || engine.state !== 'up' || asks >= MAX_REMOTE_ASKS) return undefined;
        asks++;
        const key = nickKey(name);
        const holder = await engine.holder(key);
        if (!holder || holder.node === engine.nodeId) return undefined;
        return await engine.whois(holder.node, { nick_key: key, session: holder.session, rooms });
      } catch {
        return undefined;
      }
    }),
  );
}

/**
 * MONITOR: the display nick of each name online on any node, in order (undefined: offline, or a
 * name that is no nick). This node's from its sessions; the others' from the nick's holder in
 * Redis, read at once.
 */
export async function heldNicks(
  identities: Identities,
  engine: Engine | undefined,
  names: string[],
): Promise<(string | undefined)[]> {
  return Promise.all(
    names.map(async (name): Promise<string | undefined> => {
      try {
        const here = identities.online(name);
        if (here) return here.nick;
        if (!engine || engine.state !== 'up') return undefined;
        return (await engine.holder(nickKey(name)))?.nick;
      } catch {
        return undefined;
      }
    }),
  );
}
