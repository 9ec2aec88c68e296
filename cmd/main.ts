// The single `flowscope` executable: the long-running services, each wired in its own file
// here (relay, collector, ingester, api, up), and the user commands of api/cli. Bad usage
// exits 2 with the command's usage.
import { Command, CommanderError } from 'commander';
import { UsageError } from '../api/query/usage-error.js';
import { strict } from '../api/cli/options.js';
import { userCommands } from '../api/cli/commands.js';
import { VERSION } from '../common/version.js';
import { StartError } from '../common/start-error.js';
import { relayCommand } from './relay.js';
import { collectorCommand } from './collector.js';
import { ingesterCommand } from './ingester.js';
import { apiCommand } from './api.js';
import { upCommand } from './up.js';
import { manifestsCommand } from './manifests.js';
import { storageServerCommand } from './storage-server.js';

export function buildProgram(): Command {
  const program = strict(new Command('flowscope'))
    .description('Network-flow observability for Kubernetes: collectors, a Hubble-compatible relay, ClickHouse history')
    .version(VERSION);
  for (const cmd of [
    relayCommand(),
    collectorCommand(),
    ingesterCommand(),
    apiCommand(),
    upCommand(),
    manifestsCommand(),
    storageServerCommand(),
    ...userCommands(),
  ])
    program.addCommand(cmd);
  return program;
}

/** The deepest command named by the arguments ("top drops" in `top drops --since x`): the usage
 * hint points at it, never at a word that is not a command. */
function commandPath(program: Command, args: readonly string[]): string {
  const names: string[] = [];
  let cmd = program;
  for (const a of args) {
    if (a.startsWith('-')) continue;
    const sub = cmd.commands.find((c) => c.name() === a || c.aliases().includes(a));
    if (!sub) break;
    names.push(sub.name());
    cmd = sub;
  }
  return ['flowscope', ...names].join(' ');
}

export async function main(argv: string[]): Promise<void> {
  // `flowscope observe … | head`: a reader that goes away ends us quietly, as it ends hubble.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode);
    if (err instanceof UsageError) {
      process.stderr.write(`Error: ${err.message}\n\nRun '${commandPath(program, argv.slice(2))} --help' for usage.\n`);
      process.exit(2);
    }
    process.stderr.write(`Error: ${(err as Error).message}\n`);
    process.exit(err instanceof StartError ? err.exitCode : 1);
  }
}
