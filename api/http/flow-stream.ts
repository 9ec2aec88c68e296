// GetFlows responses as an async iterator with backpressure: the gRPC call is paused until the
// HTTP side has taken each response, so a slow client holds at most one response here and the
// relay's own flow control does the rest. Ending the iteration early cancels the call.
import type { GetFlowsRequest, GetFlowsResponse } from '../../proto/types.js';
import type { ObserverApiClient } from '../client.js';

export async function* flowResponses(
  client: ObserverApiClient,
  req: GetFlowsRequest,
  signal?: AbortSignal,
  onAccepted?: () => void,
): AsyncGenerator<GetFlowsResponse> {
  const abort = new AbortController();
  // An outside abort (the HTTP client went away) ends the call even while a next() waits.
  const stop = () => {
    abort.abort();
    taken?.();
  };
  signal?.addEventListener('abort', stop, { once: true });
  let item: GetFlowsResponse | undefined;
  let taken: (() => void) | undefined;
  let wake: (() => void) | undefined;
  let finished = false;
  let failure: unknown;
  const done = client
    .getFlows(
      req,
      (r) =>
        new Promise<void>((resolve) => {
          item = r;
          taken = resolve;
          wake?.();
        }),
      abort.signal,
      onAccepted,
    )
    .then(
      () => {
        finished = true;
        wake?.();
      },
      (err: unknown) => {
        finished = true;
        failure = err;
        wake?.();
      },
    );
  try {
    for (;;) {
      if (item === undefined && !finished) await new Promise<void>((r) => (wake = r));
      wake = undefined;
      if (item !== undefined) {
        const r = item;
        item = undefined;
        const resume = taken!;
        taken = undefined;
        yield r;
        resume();
        continue;
      }
      if (failure !== undefined) throw failure;
      return;
    }
  } finally {
    signal?.removeEventListener('abort', stop);
    if (!finished) {
      abort.abort();
      taken?.();
      await done;
    }
  }
}
