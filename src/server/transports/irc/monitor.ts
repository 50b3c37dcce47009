import { nickKey } from '../../../protocol/nick.js';
import type { IrcContext } from './commands.js';
import type { IrcMessage } from './message.js';
import { ircNick, isIrcNick, sourceOf } from './names.js';
import { ERR, RPL } from './numerics.js';

/**
 * MONITOR (IRCv3): a client names nicks and is told when each comes online (730) or goes
 * (731), on any node of a cluster. Targets are nicks only (never masks), at most
 * {@link MONITOR_LIMIT} per connection (ISUPPORT `MONITOR=100`).
 */

/** The most nicks one connection may monitor. */
export const MONITOR_LIMIT = 100;

/** The bytes of targets one 730/731/732 line carries at most (the rest go on the next line). */
const LIST_BYTES = 400;

/** A connection that monitors nicks: told of a change of one of them. */
export interface MonitorWatcher {
  monitorChanged(nick: string, online: boolean): void;
}

/** The collision key of a nick, or undefined for a name that is none. */
function keyOf(name: string): string | undefined {
  try {
    return nickKey(name);
  } catch {
    return undefined;
  }
}

/** Who monitors which nick (by collision key), for one door: the hub's nick events are routed through it. */
export class MonitorRegistry {
  private readonly watchers = new Map<string, Set<MonitorWatcher>>();

  watch(key: string, watcher: MonitorWatcher): void {
    let set = this.watchers.get(key);
    if (!set) this.watchers.set(key, (set = new Set()));
    set.add(watcher);
  }

  unwatch(key: string, watcher: MonitorWatcher): void {
    const set = this.watchers.get(key);
    if (!set) return;
    set.delete(watcher);
    if (set.size === 0) this.watchers.delete(key);
  }

  /** A nick came online or went (anywhere): each connection monitoring it is told. */
  tell(nick: string, online: boolean): void {
    if (this.watchers.size === 0) return;
    const key = keyOf(nick);
    const set = key === undefined ? undefined : this.watchers.get(key);
    if (set) for (const watcher of [...set]) watcher.monitorChanged(nick, online);
  }
}

/** Items joined with commas into lines of at most {@link LIST_BYTES} bytes. */
function chunks(items: string[]): string[] {
  const lines: string[] = [];
  let line = '';
  for (const item of items) {
    if (line !== '' && Buffer.byteLength(line, 'utf8') + 1 + Buffer.byteLength(item, 'utf8') > LIST_BYTES) {
      lines.push(line);
      line = '';
    }
    line = line === '' ? item : `${line},${item}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** 730 for the targets online (`nick!~u@chat`), 731 for the others (as the client wrote them). */
async function status(c: IrcContext, targets: string[]): Promise<void> {
  if (targets.length === 0) return;
  const held = await c.options.heldNicks(targets);
  const online = held.flatMap((nick) => (nick === undefined ? [] : [sourceOf(nick)]));
  const offline = targets.filter((_, i) => held[i] === undefined);
  for (const line of chunks(online)) c.numeric(RPL.MONONLINE, line);
  for (const line of chunks(offline)) c.numeric(RPL.MONOFFLINE, line);
}

/** `MONITOR + a,b`, `- a,b`, `C`, `L`, `S`. */
export async function monitor(c: IrcContext, m: IrcMessage): Promise<void> {
  const sub = m.params[0]!.toUpperCase();
  // Nicks only: a mask (`*!user@host`) or a name that is no nick is ignored, as the spec asks.
  const targets = (m.params[1] ?? '')
    .split(',')
    .filter((t) => t !== '' && isIrcNick(t) && keyOf(t) !== undefined);
  switch (sub) {
    case '+': {
      if (m.params[1] === undefined) return c.numeric(ERR.NEEDMOREPARAMS, 'MONITOR', 'Not enough parameters');
      const added: string[] = [];
      for (const [i, target] of targets.entries()) {
        const key = keyOf(target)!;
        if (!c.monitored.has(key) && c.monitored.size >= MONITOR_LIMIT) {
          c.numeric(
            ERR.MONLISTFULL,
            String(MONITOR_LIMIT),
            targets.slice(i).join(','),
            'Monitor list is full.',
          );
          break;
        }
        if (!c.monitored.has(key)) c.options.monitors.watch(key, c);
        c.monitored.set(key, target);
        added.push(target);
      }
      return status(c, added);
    }
    case '-':
      for (const target of targets) {
        const key = keyOf(target)!;
        if (c.monitored.delete(key)) c.options.monitors.unwatch(key, c);
      }
      return;
    case 'C':
      for (const key of c.monitored.keys()) c.options.monitors.unwatch(key, c);
      c.monitored.clear();
      return;
    case 'L':
      for (const line of chunks([...c.monitored.values()])) c.numeric(RPL.MONLIST, line);
      return c.numeric(RPL.ENDOFMONLIST, 'End of MONITOR list');
    case 'S':
      return status(c, [...c.monitored.values()]);
    default:
      return;
  }
}

/** The numeric a change of a monitored nick is told with. */
export function monitorLine(nick: string, online: boolean): { code: string; param: string } {
  return online
    ? { code: RPL.MONONLINE, param: sourceOf(nick) }
    : { code: RPL.MONOFFLINE, param: ircNick(nick) };
}
