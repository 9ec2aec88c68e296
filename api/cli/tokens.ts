// `flowscope tokens create`: a new bearer token for the relay and the HTTP API. The token is
// printed once, on stdout; the file keeps only its SHA-256 (common/auth/token-file.ts).
import { Command, Option } from 'commander';
import { strict } from './options.js';
import { UsageError } from '../query/usage-error.js';
import { addToken } from '../../common/auth/token-file.js';

const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function tokensCommand(): Command {
  const tokens = strict(new Command('tokens')).description('Manage the bearer tokens of --auth-token-file');
  tokens.addCommand(
    strict(new Command('create'))
      .description('Create a token limited to namespaces, add its SHA-256 to the token file (mode 0600) and print the token once')
      .requiredOption('--name <name>', 'Name of the token (logs and the file say this, never the token)')
      .addOption(
        new Option('--namespace <ns>', 'A namespace whose flows the token sees (repeat for more; "*": every namespace)').argParser(
          (v: string, prev: string[] = []) => {
            if (v !== '*' && !NAMESPACE.test(v)) throw new UsageError(`invalid value "${v}" for --namespace: expected a Kubernetes namespace name or "*"`);
            return [...prev, v];
          },
        ),
      )
      .requiredOption('--file <path>', 'The token file the relay and the API read (--auth-token-file); created if absent')
      .action((o: { name: string; namespace?: string[]; file: string }) => {
        if (!o.namespace?.length) throw new UsageError('give at least one --namespace (or --namespace "*" for every namespace)');
        let token: string;
        try {
          token = addToken(o.file, o.name, o.namespace);
        } catch (err) {
          throw new UsageError(`--file ${o.file}: ${(err as Error).message}`);
        }
        process.stderr.write(`Added token "${o.name}" (${o.namespace.join(', ')}) to ${o.file}. It is shown once; keep it in a secret:\n`);
        process.stdout.write(`${token}\n`);
      }),
  );
  return tokens;
}
