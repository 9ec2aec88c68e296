// `observe` compact printing throughput, run as its own process (bench.ts runs it with stdout a
// pipe that the parent drains, as in `flowscope observe | grep …`): realistic flows as the relay
// sends them, printed by the printer with the writer `flowscope observe` uses. Prints one JSON
// line on stderr: { flows, seconds, cpuSeconds, flowsPerS, flowsPerCpuS, bytes }. Warm-up first,
// then the timed run.
import { createPrinter } from '../api/printer/index.js';
import { observeOutput } from '../api/cli/observe.js';
import { realisticFlows } from '../testing/realistic-flows.js';
import type { GetFlowsResponse } from '../proto/types.js';

const n = Number(process.argv[2] ?? 200_000);
// A working set of 10k responses cycled: observe holds one response at a time, so a large retained
// set would only measure the collector of the old generation.
const flows = realisticFlows(10_000);
const responses: GetFlowsResponse[] = flows.map((flow) => ({ flow, node_name: flow.node_name, time: flow.time }));

let bytes = 0;
function run(count: number): Promise<{ seconds: number; cpuSeconds: number }> {
  const output = observeOutput(process.stdout, process.stderr);
  const printer = createPrinter({
    output: 'compact',
    timeZone: 'UTC',
    stdout: (s) => {
      bytes += s.length;
      output.stdout(s);
    },
  });
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  for (let i = 0; i < count; i++) printer.write(responses[i % responses.length]);
  printer.close();
  output.flush();
  // Timed until the last byte is handed to the pipe.
  return new Promise((resolve) =>
    process.stdout.write('', () => {
      const c = process.cpuUsage(c0);
      resolve({ seconds: Number(process.hrtime.bigint() - t0) / 1e9, cpuSeconds: (c.user + c.system) / 1e6 });
    }),
  );
}

await run(Math.min(n, 20_000));
bytes = 0;
const { seconds, cpuSeconds } = await run(n);
// flowsPerCpuS: what printing costs this process (user + system CPU), steady on a shared machine;
// flowsPerS: wall clock, which also waits for the reader of the pipe.
process.stderr.write(
  `${JSON.stringify({ flows: n, seconds, cpuSeconds, flowsPerS: Math.round(n / seconds), flowsPerCpuS: Math.round(n / cpuSeconds), bytes })}\n`,
);
