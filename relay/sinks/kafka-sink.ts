// Kafka mode: each collector batch of a relay batch becomes one Kafka message (a DurableBatch
// protobuf carrying its Native block and its ingest mark), keyed by node name so one node's batches stay in order on
// one partition. A batch is durable once every message is acknowledged by all in-sync replicas
// (acks=-1); the `flowscope ingester` consumer group then writes them to ClickHouse.
import { CompressionTypes, Partitioners, type Message, type Producer } from 'kafkajs';
import type { Logger } from '../../common/logger.js';
import { kafkaClient, type KafkaConnection } from '../kafka/client.js';
import { encodeDurableBatch, type FlowSink, type SinkBatch } from './sink.js';

export interface KafkaSinkOptions extends KafkaConnection {
  topic: string;
  compression: 'gzip' | 'none';
  /** Idempotent producer (needs real Kafka; librdkafka's mock cluster does not implement it). */
  idempotent: boolean;
  /** Uncompressed bytes per produce request; keep the compressed batch under message.max.bytes. */
  maxRequestBytes: number;
  timeoutMs: number;
}

export const DEFAULT_KAFKA_SINK_OPTIONS = { compression: 'gzip', idempotent: false, maxRequestBytes: 1 << 20, timeoutMs: 30_000 } as const;

export interface KafkaSinkStats {
  producedBatches: number;
  producedMessages: number;
  producedBytes: number;
  produceErrors: number;
}

export class KafkaSink implements FlowSink {
  readonly stats: KafkaSinkStats = { producedBatches: 0, producedMessages: 0, producedBytes: 0, produceErrors: 0 };
  /** Highest produced sequence number per collector session: the ingester may not have stored it yet. */
  private readonly held = new Map<string, number>();

  private constructor(
    private readonly producer: Producer,
    private readonly opts: KafkaSinkOptions,
  ) {}

  static async open(opts: KafkaSinkOptions, log: Logger): Promise<KafkaSink> {
    const producer = kafkaClient(opts, log).producer({
      idempotent: opts.idempotent,
      // One request in flight: a retried request can never overtake a later one, so each
      // partition keeps the collectors' sequence order the ingester relies on.
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // murmur2 of the key, as the Java client partitions: node → partition is the same for any producer.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    return new KafkaSink(producer, opts);
  }

  heldSeq(session: string): number {
    return this.held.get(session) ?? 0;
  }

  async write(batch: SinkBatch): Promise<void> {
    let messages: Message[] = [];
    let bytes = 0;
    const send = async () => {
      if (messages.length === 0) return;
      try {
        await this.producer.send({
          topic: this.opts.topic,
          messages,
          acks: -1,
          timeout: this.opts.timeoutMs,
          compression: this.opts.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
        });
      } catch (err) {
        this.stats.produceErrors++;
        throw err;
      }
      this.stats.producedMessages += messages.length;
      this.stats.producedBytes += bytes;
      messages = [];
      bytes = 0;
    };
    for (const p of batch.parts) {
      const value = encodeDurableBatch(batch.batchId, p.block === null ? [] : [p.block], [{ session: p.session, node: p.node, seq: p.seq }]);
      if (bytes > 0 && bytes + value.length > this.opts.maxRequestBytes) await send();
      messages.push({ key: p.node, value });
      bytes += value.length;
    }
    await send();
    for (const p of batch.parts) if (p.seq > (this.held.get(p.session) ?? 0)) this.held.set(p.session, p.seq);
    this.stats.producedBatches++;
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
  }
}
