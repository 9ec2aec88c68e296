// Flows per second over the last minute (ServerStatus.flows_rate), in one-second buckets.
export class FlowRateMeter {
  private readonly buckets = new Float64Array(60);
  private lastSecond = 0;
  add(n: number): void {
    const s = Math.floor(Date.now() / 1000);
    this.roll(s);
    this.buckets[s % 60] += n;
  }
  /** Flows per second over the last minute. */
  rate(): number {
    this.roll(Math.floor(Date.now() / 1000));
    let sum = 0;
    for (const b of this.buckets) sum += b;
    return sum / 60;
  }
  private roll(s: number): void {
    if (this.lastSecond === 0) this.lastSecond = s;
    for (let t = this.lastSecond + 1; t <= Math.min(s, this.lastSecond + 60); t++) this.buckets[t % 60] = 0;
    if (s > this.lastSecond) this.lastSecond = s;
  }
}
