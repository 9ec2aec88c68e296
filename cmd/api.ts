// `flowscope api`: the HTTP API in front of a relay.
import { Command, Option } from 'commander';
import { serverOption, strict } from '../api/cli/options.js';

export function apiCommand(): Command {
  return strict(new Command('api'))
    .description('Run the HTTP API (/api/v1/…, OpenAPI at /openapi.json, docs at /docs) in front of a relay')
    .addOption(new Option('--listen <address>', 'HTTP listen address').env('FLOWSCOPE_API_LISTEN').default('0.0.0.0:8080'))
    .addOption(serverOption())
    .action(async (o) => {
      const { runApi } = await import('../api/http/server.js');
      await runApi({ listen: o.listen, server: o.server });
    });
}
