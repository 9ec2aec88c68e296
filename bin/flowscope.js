#!/usr/bin/env node
// The single flowscope executable; every subcommand lives in api/cli.
import('../dist/api/cli/main.js').then((m) => m.main(process.argv)).catch((err) => {
  console.error(err?.stack ?? String(err));
  process.exit(1);
});
