#!/usr/bin/env node
// The single flowscope executable; services are wired in cmd/, user commands live in api/cli.
// chDB runs queries and inserts on libuv's thread pool (4 threads by default): a relay with
// several sessions busy would leave none for file and DNS work. Must be set before first use.
process.env.UV_THREADPOOL_SIZE ??= '16';
// gRPC's own stderr logging repeats errors flowscope reports itself, in one line with what to do
// (e.g. a port in use); GRPC_VERBOSITY=ERROR brings it back.
process.env.GRPC_VERBOSITY ??= 'NONE';
import('../dist/cmd/main.js')
  .then((m) => m.main(process.argv))
  .catch((err) => {
    console.error(err?.stack ?? String(err));
    process.exit(1);
  });
