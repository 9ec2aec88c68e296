// A registry's exposition as `series → value` (series written as in the text format, labels
// included), for tests and tools that read back what a scrape would see.
import type { Registry } from 'prom-client';

export async function scrapeValues(r: Registry): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await r.metrics()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}
