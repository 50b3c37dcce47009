import type { Redis } from 'ioredis';
import { keys } from './keys.js';
import { REAP_BEGIN, REAP_SLICE } from './lua.js';
import { LuaScript } from './script.js';

const reapBegin = new LuaScript('reap_begin', REAP_BEGIN);
const reapSlice = new LuaScript('reap_slice', REAP_SLICE);

/** The `user_left` reason of sessions a dead node left behind. */
export const NODE_LOST = 'node_lost';

/** Default lease: a node killed without a goodbye is reaped within about this plus a fifth. */
export const DEFAULT_LEASE_MS = 10_000;

/**
 * Entries (a nick or a room presence) reaped per script call. One entry costs Redis a few µs, so a
 * slice holds it for about a millisecond: other nodes' renewals and commits run between slices.
 */
export const DEFAULT_REAP_SLICE = 250;

/**
 * A node's lease and the reaper of dead nodes. Every node keeps `chat:node:ID:lease` alive (a
 * TTL of `leaseMs`, renewed every fifth of it) and, as often, looks for nodes in `chat:nodes`
 * whose lease is gone: those were killed (or cut off from Redis for longer than the lease). Their
 * nicks and presence are freed, so their users leave every room on the other nodes (`user_left`,
 * reason `node_lost`) and can take their nicks again elsewhere.
 *
 * Reaping is in slices (docs/cluster.md): REAP_BEGIN re-checks the lease and, in the same step,
 * moves the dead node's own set aside as its reap set and marks it in `chat:reaping`; REAP_SLICE
 * then pops and frees at most `slice` entries per call. Any node may reap any other and several
 * may at once (entries are popped, so each is announced once); a reap whose reaper died is
 * continued by the next node's tick, since `chat:reaping` still names the node.
 */
export class NodeLeases {
  private timer: NodeJS.Timeout | undefined;
  private renewing = false;
  private reaping = false;
  private stopped = false;

  constructor(
    private readonly cmd: Redis,
    private readonly nodeId: string,
    private readonly leaseMs: number,
    private readonly onError: (err: unknown, context: string) => void,
    /**
     * Told when this node found its own lease gone at a renewal (it was paused or cut off longer
     * than the lease). `reaped`: another node began reaping it meanwhile, so its nicks and
     * presence are (or are being) freed while its sessions still think they hold them. Not
     * reaped: nothing changed (a reaper re-checks the lease, which this renewal took again).
     */
    private readonly onLapsed: (reaped: boolean) => void,
    /** Entries per reap script call (DEFAULT_REAP_SLICE). */
    private readonly slice: number = DEFAULT_REAP_SLICE,
  ) {}

  /**
   * Reaps whatever an earlier process under this node id left (a node id is one process: a new
   * one holds nothing yet, so every entry is a predecessor's, and its session ids could collide
   * with the new ones), then takes the lease and starts renewing it and reaping others.
   */
  async start(): Promise<void> {
    await this.reap(this.nodeId, true);
    await this.renew();
    this.timer = setInterval(() => void this.tick(), Math.max(50, Math.floor(this.leaseMs / 5)));
    this.timer.unref();
  }

  /**
   * Stops, gives the lease up, and reaps this node itself: whatever a graceful shutdown could not
   * release (Redis was down meanwhile) is freed now rather than after the lease.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    try {
      await this.cmd.del(keys.nodeLease(this.nodeId));
      await this.reap(this.nodeId, true);
    } catch (err) {
      this.onError(err, 'giving up the node lease');
    }
  }

  private async renew(): Promise<void> {
    // One MULTI: SET ... GET says whether the lease had lapsed; SISMEMBER, before the SADD, whether
    // a reaper acted on it meanwhile (REAP_BEGIN removes the node from chat:nodes in its step).
    const replies = await this.cmd
      .multi()
      .set(keys.nodeLease(this.nodeId), String(Date.now()), 'PX', this.leaseMs, 'GET')
      .sismember(keys.nodes, this.nodeId)
      .sadd(keys.nodes, this.nodeId)
      .exec();
    const failed = replies?.find(([err]) => err !== null)?.[0];
    if (!replies || failed) throw failed ?? new Error('the lease renewal was aborted');
    const previous = replies[0]![1] as string | null;
    const member = replies[1]![1] as number;
    if (previous === null && this.timer !== undefined) this.onLapsed(member === 0);
  }

  /** Renews, then reaps in the background: a long reap never holds up the next renewal. */
  private async tick(): Promise<void> {
    if (this.renewing) return;
    this.renewing = true;
    try {
      await this.renew();
    } catch (err) {
      // Redis down: the engine reports that; the next tick tries again.
      this.onError(err, 'renewing the node lease');
      return;
    } finally {
      this.renewing = false;
    }
    if (!this.reaping) void this.reapDead();
  }

  private async reapDead(): Promise<void> {
    this.reaping = true;
    try {
      for (const node of await this.cmd.smembers(keys.nodes)) {
        if (node !== this.nodeId && (await this.cmd.exists(keys.nodeLease(node))) === 0)
          await this.begin(node, false);
      }
      // Every reap in progress: those begun above, and any whose reaper died midway.
      for (const node of await this.cmd.smembers(keys.reaping)) await this.reap(node, false);
    } catch (err) {
      if (!this.stopped) this.onError(err, 'reaping dead nodes');
    } finally {
      this.reaping = false;
    }
  }

  private async begin(node: string, force: boolean): Promise<number> {
    return Number(
      await reapBegin.run(
        this.cmd,
        [keys.nodeLease(node), keys.nodeOwn(node), keys.nodes, keys.reaping, keys.nodeReap(node)],
        [node, force ? '1' : '0'],
      ),
    );
  }

  /**
   * Reaps `node` slice by slice until its reap set is empty, or `maxSlices` calls were made;
   * `begin`: REAP_BEGIN first, forced (the caller knows the node is gone: this node's own
   * leftovers, or a test). Returns the entries left.
   * Tests pass `maxSlices` to play a reaper that dies midway.
   */
  async reap(node: string, begin: boolean, maxSlices = Infinity): Promise<number> {
    if (begin && (await this.begin(node, true)) <= 0) return 0;
    let left = 1;
    for (let n = 0; n < maxSlices && left > 0; n++) {
      if (n > 0 && this.stopped && node !== this.nodeId) break;
      const reply = (await reapSlice.run(
        this.cmd,
        [keys.nodeReap(node), keys.reaping],
        [node, NODE_LOST, this.slice],
      )) as [number, number];
      left = reply[1];
    }
    return left;
  }
}
