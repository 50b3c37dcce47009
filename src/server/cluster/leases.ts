import type { Redis } from 'ioredis';
import { keys } from './keys.js';
import { REAP_NODE } from './lua.js';
import { LuaScript } from './script.js';

const reapNode = new LuaScript('reap_node', REAP_NODE);

/** The `user_left` reason of sessions a dead node left behind. */
export const NODE_LOST = 'node_lost';

/** Default lease: a node killed without a goodbye is reaped within about this plus a fifth. */
export const DEFAULT_LEASE_MS = 10_000;

/**
 * A node's lease and the reaper of dead nodes. Every node keeps `chat:node:ID:lease` alive (a
 * TTL of `leaseMs`, renewed every fifth of it) and, as often, looks for nodes in `chat:nodes`
 * whose lease is gone: those were killed (or cut off from Redis for longer than the lease), and
 * the REAP_NODE script frees their nicks and presence, so their users leave every room on the
 * other nodes (`user_left`, reason `node_lost`) and can take their nicks again elsewhere.
 * Any node may reap any other; the script is atomic and re-checks the lease, so two reapers
 * cannot both act on one node.
 */
export class NodeLeases {
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;

  constructor(
    private readonly cmd: Redis,
    private readonly nodeId: string,
    private readonly leaseMs: number,
    private readonly onError: (err: unknown, context: string) => void,
    /**
     * Told when this node found its own lease gone at a renewal (it was paused or cut off longer
     * than the lease). `reaped`: another node reaped it meanwhile, so its nicks and presence are
     * gone from Redis while its sessions still think they hold them. Not reaped: nothing changed
     * (a reaper re-checks the lease, which this renewal took again).
     */
    private readonly onLapsed: (reaped: boolean) => void,
  ) {}

  /** Takes the lease and starts renewing it and reaping others. */
  async start(): Promise<void> {
    await this.renew();
    this.timer = setInterval(() => void this.tick(), Math.max(50, Math.floor(this.leaseMs / 5)));
    this.timer.unref();
  }

  /**
   * Stops, gives the lease up, and reaps this node itself: whatever a graceful shutdown could not
   * release (Redis was down meanwhile) is freed now rather than after the lease.
   */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    try {
      await this.cmd.del(keys.nodeLease(this.nodeId));
      await this.reap(this.nodeId);
    } catch (err) {
      this.onError(err, 'giving up the node lease');
    }
  }

  private async renew(): Promise<void> {
    // One MULTI: SET ... GET says whether the lease had lapsed; SISMEMBER, before the SADD, whether
    // a reaper acted on it meanwhile (REAP_NODE removes the node from chat:nodes in its step).
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

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      await this.renew();
      for (const node of await this.cmd.smembers(keys.nodes)) {
        if (node !== this.nodeId && (await this.cmd.exists(keys.nodeLease(node))) === 0)
          await this.reap(node);
      }
    } catch (err) {
      // Redis down: the engine reports that; the next tick tries again.
      this.onError(err, 'renewing the node lease and reaping');
    } finally {
      this.ticking = false;
    }
  }

  private reap(node: string): Promise<unknown> {
    return reapNode.run(this.cmd, [keys.nodeLease(node), keys.nodeOwn(node), keys.nodes], [node, NODE_LOST]);
  }
}
