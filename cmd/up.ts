// `flowscope up` (what `npm start` runs): the whole pipeline on embedded defaults.
import { Command, Option } from 'commander';
import { int, strict } from '../api/cli/options.js';
import { runUp } from './up-pipeline.js';

export function upCommand(): Command {
  return strict(new Command('up'))
    .description('Run the whole pipeline locally: relay + chDB + synthetic collectors + HTTP API (what `npm start` runs)')
    .addOption(new Option('--data-dir <path>', 'Where chDB data, spools, collector spills and logs go').env('FLOWSCOPE_DATA_DIR').default('.flowscope'))
    .option('--host <host>', 'Address every component listens on', '127.0.0.1')
    .option('--relay-port <port>', 'Relay gRPC port', int('relay-port', 1, 65535), 4245)
    .option('--api-port <port>', 'HTTP API port', int('api-port', 1, 65535), 8080)
    .option('--collectors <n>', 'Synthetic collectors to start', int('collectors', 1, 32), 3)
    .option('--rate <n>', 'Records per second per collector', int('rate', 1, 1_000_000), 50)
    .option('--metrics-port <port>', 'Base metrics port: collector i on <port>+10+i, relay on <port>+1', int('metrics-port', 1, 65000), 9965)
    .action(async (o) => {
      await runUp({
        dataDir: o.dataDir,
        host: o.host,
        relayPort: o.relayPort,
        apiPort: o.apiPort,
        collectors: o.collectors,
        rate: o.rate,
        metricsPort: o.metricsPort,
      });
    });
}
