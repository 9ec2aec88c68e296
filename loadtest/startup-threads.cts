// Preloaded with `node --require` into the load test's processes, before any module of theirs
// loads: the threads that exist now are the main thread and V8's platform threads (garbage
// collection and compiler helpers). libuv's pool, where chDB runs its calls, starts later, with
// the first asynchronous file read, so the load test can tell the two apart (proc-stats.ts).
// CommonJS on purpose: an ES module preload is read through that pool, which would start it first.
import fs from 'node:fs';

process.env.FLOWSCOPE_STARTUP_THREADS = fs.readdirSync('/proc/self/task').join(',');
