// `flowscope observe`: query a relay/collector (or a jsonpb file) and print like `hubble observe`.
import * as grpc from '@grpc/grpc-js';
import type { ObserveInvocation } from './observe-flags.js';
import { UsageError } from '../query/usage-error.js';
import { observeInput, openInput, InputFileError } from './observe-input.js';
import { rawFiltersYAML } from './observe-flags.js';
import { createPrinter } from '../printer/index.js';
import { rpcErrorText } from '../client.js';
import { observerClient } from './tls-options.js';

/** Output is gathered up to this many characters per write. */
const CHUNK = 64 * 1024;

/**
 * The printer's output streams. Lines are gathered and written in chunks: one write per line
 * made the system calls and the reader's wake-ups cost more than the printing (a pipe reader of
 * `observe | grep` woke for every flow). Nothing is held back for long: what is gathered goes
 * out at the end of the current event-loop turn (so `--follow` output appears as it arrives),
 * before anything is written to stderr (the two stay in order on a terminal), and on flush().
 */
export function observeOutput(
  stdout: NodeJS.WritableStream,
  stderr: NodeJS.WritableStream | null,
): { stdout: (s: string) => void; stderr?: (s: string) => void; flush(): void } {
  let pending = '';
  let scheduled = false;
  const flush = (): void => {
    if (pending === '') return;
    stdout.write(pending);
    pending = '';
  };
  const onTurnEnd = (): void => {
    scheduled = false;
    flush();
  };
  return {
    stdout: (s) => {
      pending += s;
      if (pending.length >= CHUNK) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(onTurnEnd);
      }
    },
    stderr: stderr
      ? (s) => {
          flush();
          stderr.write(s);
        }
      : undefined,
    flush,
  };
}

export async function runObserve(inv: ObserveInvocation): Promise<void> {
  if (inv.printRawFilters) {
    process.stdout.write(rawFiltersYAML(inv.request));
    return;
  }
  const output = observeOutput(process.stdout, inv.silentErrors ? null : process.stderr);
  const printer = createPrinter({ ...inv.output, stdout: output.stdout, stderr: output.stderr });
  try {
    if (inv.inputFile !== undefined) {
      try {
        for await (const res of observeInput(openInput(inv.inputFile), inv.request)) printer.write(res);
      } catch (err) {
        if (err instanceof InputFileError) throw new UsageError(err.message);
        throw err;
      }
      return;
    }
    const client = observerClient(inv.server, inv.connection.requestTimeoutMs, inv.connection);
    const abort = new AbortController();
    const onSignal = () => abort.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      await client.getFlows(inv.request, (res) => printer.write(res), abort.signal);
    } catch (err) {
      const e = err as grpc.ServiceError;
      if (e.code === grpc.status.INVALID_ARGUMENT) throw new UsageError(e.details || e.message);
      throw new Error(`failed to get flows from ${inv.server}: ${rpcErrorText(e, inv.server)}`);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      client.close();
    }
  } finally {
    printer.close();
    output.flush();
  }
}
