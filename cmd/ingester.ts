// `flowscope ingester` (Kafka mode): consume the relay's batches and store them in ClickHouse.
import { Command, Option } from 'commander';
import { clickhouseClusterOption, int, retentionOption, storeOption, strict, usage } from '../api/cli/options.js';
import { parseStoreTarget } from '../api/cli/store-target.js';
import { parseBrokers } from '../relay/kafka/brokers.js';

export function ingesterCommand(): Command {
  return strict(new Command('ingester'))
    .description("Kafka mode: consume the relay's flow batches from Kafka and store them in ClickHouse (one consumer group member)")
    .addOption(new Option('--kafka-brokers <host:port,...>', 'Kafka bootstrap brokers').env('FLOWSCOPE_KAFKA_BROKERS').makeOptionMandatory())
    .addOption(new Option('--kafka-topic <name>', 'Kafka topic for flow batches').env('FLOWSCOPE_KAFKA_TOPIC').default('flowscope-flows'))
    .addOption(
      new Option('--group <id>', 'Consumer group (ingesters of one group share the partitions)').env('FLOWSCOPE_KAFKA_GROUP').default('flowscope-ingester'),
    )
    .addOption(storeOption())
    .addOption(retentionOption())
    .addOption(clickhouseClusterOption())
    .addOption(
      new Option('--session-timeout <ms>', 'Consumer group session timeout')
        .env('FLOWSCOPE_KAFKA_SESSION_TIMEOUT_MS')
        .default(30_000)
        .argParser(int('session-timeout', 1000, 3_600_000)),
    )
    .addOption(
      new Option('--heartbeat-interval <ms>', 'Consumer group heartbeat interval')
        .env('FLOWSCOPE_KAFKA_HEARTBEAT_MS')
        .default(3000)
        .argParser(int('heartbeat-interval', 100, 3_600_000)),
    )
    .action(async (o) => {
      const connection = parseStoreTarget(o.store);
      const brokers = usage(() => parseBrokers(o.kafkaBrokers));
      const { runIngester } = await import('../relay/kafka/main.js');
      await runIngester({
        brokers,
        topic: o.kafkaTopic,
        groupId: o.group,
        connection,
        retentionDays: o.retentionDays,
        ...(o.clickhouseCluster ? { cluster: o.clickhouseCluster } : {}),
        sessionTimeoutMs: o.sessionTimeout,
        heartbeatIntervalMs: o.heartbeatInterval,
      });
    });
}
