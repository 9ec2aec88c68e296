// `flowscope api`: the HTTP API in front of a relay.
import { Command, Option } from 'commander';
import { serverOption, strict } from '../api/cli/options.js';
import { addOptions, clientTlsOptions, SERVER_TLS, serverTlsOptions, serverTlsSpec, type ClientTlsFlags } from '../api/cli/tls-options.js';

export function apiCommand(): Command {
  const cmd = strict(new Command('api'))
    .description('Run the HTTP API (/api/v1/…, OpenAPI at /openapi.json, docs at /docs) in front of a relay')
    .addOption(new Option('--listen <address>', 'HTTP listen address').env('FLOWSCOPE_API_LISTEN').default('0.0.0.0:8080'))
    .addOption(serverOption())
    .addOption(
      new Option(
        '--auth-token-file <path>',
        "Bearer tokens (the relay's file): /api/v1 requests without a valid one are refused here; the token is forwarded and the relay applies its namespaces",
      ).env('FLOWSCOPE_AUTH_TOKEN_FILE'),
    );
  // Client flags (to the relay) as `observe` has them; listener flags as the collector's.
  addOptions(cmd, clientTlsOptions(), serverTlsOptions(SERVER_TLS, 'HTTPS listener', 'HTTP clients must present one'));
  return cmd.action(async (o: { listen: string; server: string; authTokenFile?: string } & ClientTlsFlags & Record<string, unknown>) => {
    const https = serverTlsSpec(o, SERVER_TLS);
    const { runApi } = await import('../api/http/server.js');
    await runApi({ listen: o.listen, server: o.server, relayTls: o, https, ...(o.authTokenFile !== undefined ? { authTokenFile: o.authTokenFile } : {}) });
  });
}
