// The kafkajs client both ends use, logging through pino, and the settings they share.
import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { Logger } from '../../common/logger.js';

export { parseBrokers } from './brokers.js';

export const DEFAULT_TOPIC = 'flowscope-flows';
export const DEFAULT_GROUP = 'flowscope-ingester';

export interface KafkaConnection {
  brokers: string[];
  clientId: string;
}

export function kafkaClient(conn: KafkaConnection, log: Logger): Kafka {
  return new Kafka({
    clientId: conn.clientId,
    brokers: conn.brokers,
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ namespace, level, log: entry }: LogEntry) => {
        const { message, ...extra } = entry;
        const fields = { kafka: namespace, ...extra };
        if (level === logLevel.ERROR) log.error(fields, message);
        else if (level === logLevel.WARN) log.warn(fields, message);
        else log.debug(fields, message);
      },
  });
}
