/** Sub-buckets per power of two: values keep 10 significant bits (error under 0.1%). */
const SUB_BITS = 10;
const SUB = 1 << SUB_BITS;
/** Values up to 2^32 - 1 µs (71 minutes); larger ones are clamped. */
const BUCKETS = 2 * SUB + (32 - SUB_BITS - 1) * SUB;

/** The bucket of a non-negative integer value. */
function bucketOf(v: number): number {
  if (v < 2 * SUB) return v;
  const shift = 31 - Math.clz32(v) - SUB_BITS; // >= 1
  return 2 * SUB + (shift - 1) * SUB + ((v >>> shift) - SUB);
}

/** The largest value that falls in bucket `i`. */
function upperOf(i: number): number {
  if (i < 2 * SUB) return i;
  const shift = Math.floor((i - 2 * SUB) / SUB) + 1;
  const sub = ((i - 2 * SUB) % SUB) + SUB;
  return (sub + 1) * 2 ** shift - 1;
}

/**
 * A log-linear latency histogram in whole microseconds (the idea of HdrHistogram, in 130 KiB):
 * exact below 2 ms, within 0.1% above. Recording is one array increment, so a load generator can
 * afford it for every delivery.
 */
export class Histogram {
  private readonly counts = new Uint32Array(BUCKETS);
  private n = 0;
  private maxUs = 0;
  private sumUs = 0;

  /** Records one latency in microseconds; negative values count as 0. */
  record(us: number): void {
    const v = us <= 0 ? 0 : us >= 0xffffffff ? 0xffffffff : Math.round(us);
    this.counts[bucketOf(v)]!++;
    this.n++;
    this.sumUs += v;
    if (v > this.maxUs) this.maxUs = v;
  }

  /** Adds every sample of another histogram. */
  merge(other: Histogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i]!;
    this.n += other.n;
    this.sumUs += other.sumUs;
    if (other.maxUs > this.maxUs) this.maxUs = other.maxUs;
  }

  get count(): number {
    return this.n;
  }

  /** The largest latency recorded, µs. */
  get max(): number {
    return this.maxUs;
  }

  /** The mean latency, µs. */
  get mean(): number {
    return this.n === 0 ? 0 : this.sumUs / this.n;
  }

  /** The latency in µs at or under which `p` percent of the samples fall (0 when empty). */
  percentile(p: number): number {
    if (this.n === 0) return 0;
    const rank = Math.min(this.n, Math.max(1, Math.ceil((p / 100) * this.n)));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(upperOf(i), this.maxUs);
    }
    return this.maxUs;
  }

  /** Forgets every sample. */
  reset(): void {
    this.counts.fill(0);
    this.n = 0;
    this.maxUs = 0;
    this.sumUs = 0;
  }
}
