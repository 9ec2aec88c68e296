// Long-running commands stop cleanly on SIGTERM/SIGINT: drain, flush, exit 0.
import type { Logger } from './logger.js';

export function runUntilSignal(log: Logger, stop: () => Promise<void>, timeoutMs = 15_000): void {
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal: sig }, 'shutting down');
    const killer = setTimeout(() => {
      log.error('shutdown timed out');
      process.exit(1);
    }, timeoutMs);
    killer.unref();
    stop().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err: Error) => {
        log.error({ err: err.message }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
