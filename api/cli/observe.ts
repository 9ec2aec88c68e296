// `flowscope observe`: query a relay/collector (or a jsonpb file) and print like `hubble observe`.
import * as grpc from '@grpc/grpc-js';
import type { ObserveInvocation } from './observe-flags.js';
import { UsageError } from '../query/usage-error.js';
import { observeInput, openInput, InputFileError } from './observe-input.js';
import { rawFiltersYAML } from './observe-flags.js';
import { createPrinter } from '../printer/index.js';
import { rpcErrorText } from '../client.js';
import { observerClient } from './tls-options.js';

function writer(stream: NodeJS.WriteStream): (s: string) => void {
  return (s) => {
    stream.write(s);
  };
}

export async function runObserve(inv: ObserveInvocation): Promise<void> {
  if (inv.printRawFilters) {
    process.stdout.write(rawFiltersYAML(inv.request));
    return;
  }
  const printer = createPrinter({ ...inv.output, stdout: writer(process.stdout), stderr: inv.silentErrors ? undefined : writer(process.stderr) });
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
  }
}
