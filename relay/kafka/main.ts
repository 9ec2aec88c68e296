// `flowscope ingester`: Kafka topic → ClickHouse, as one member of a consumer group.
import { createLogger } from '../../common/logger.js';
import { runUntilSignal } from '../../common/lifecycle.js';
import { FlowStore, type ConnectionOptions } from '../../storage/index.js';
import { KafkaIngester, DEFAULT_INGESTER_OPTIONS } from './ingester.js';

export interface IngesterCommandOptions {
  brokers: string[];
  topic: string;
  groupId: string;
  connection: ConnectionOptions;
  retentionDays: number;
  /** ClickHouse cluster mode (schema from `flowscope schema --cluster`, checked, not migrated). */
  cluster?: string;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
}

export async function startIngester(opts: IngesterCommandOptions): Promise<{ ingester: KafkaIngester; stop(): Promise<void> }> {
  const log = createLogger('ingester');
  const store = await FlowStore.open({ connection: opts.connection, retentionDays: opts.retentionDays, ...(opts.cluster ? { cluster: opts.cluster } : {}) });
  const ingester = new KafkaIngester(
    store,
    {
      ...DEFAULT_INGESTER_OPTIONS,
      ...(opts.sessionTimeoutMs ? { sessionTimeoutMs: opts.sessionTimeoutMs } : {}),
      ...(opts.heartbeatIntervalMs ? { heartbeatIntervalMs: opts.heartbeatIntervalMs } : {}),
      brokers: opts.brokers,
      topic: opts.topic,
      groupId: opts.groupId,
      clientId: 'flowscope-ingester',
    },
    log,
  );
  try {
    await ingester.start();
  } catch (err) {
    await store.close();
    throw err;
  }
  return {
    ingester,
    stop: async () => {
      await ingester.stop();
      log.info({ ...ingester.stats }, 'ingester stopped');
      await store.close();
    },
  };
}

export async function runIngester(opts: IngesterCommandOptions): Promise<void> {
  const { stop } = await startIngester(opts);
  runUntilSignal(createLogger('ingester'), stop);
}
