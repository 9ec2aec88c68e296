// Broker lists from flags and environment (no kafkajs import: the CLI parses flags without loading it).
/** "host:port,host:port" → list; throws on an empty or malformed entry. */
export function parseBrokers(value: string): string[] {
  const list = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (list.length === 0) throw new Error('no Kafka brokers given');
  for (const b of list) if (!/^[^\s:]+:\d{1,5}$/.test(b)) throw new Error(`invalid Kafka broker "${b}": expected host:port`);
  return list;
}
