// How insert bodies reach ClickHouse through @clickhouse/client, whatever their format: a server
// takes the bytes as the body of `INSERT … FORMAT <fmt>`; chDB's connection turns insert bodies
// into strings, so there the bytes go through a private file in memory that the engine reads
// with file(). Shared by the RowBinary (storage/writer.ts) and Native (storage/native/insert.ts)
// inserters.
import fs from 'node:fs/promises';
import { openSync, writeSync, closeSync, rmSync, ftruncateSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';

/** Server: the chunks, in order, are the body of `query` (an `INSERT … FORMAT …`). */
export async function execInsert(
  client: ClickHouseClient,
  query: string,
  chunks: readonly Uint8Array[],
  settings: ClickHouseSettings,
  params: Record<string, unknown> = {},
): Promise<void> {
  const res = await client.exec({ query, values: Readable.from(chunks), clickhouse_settings: settings, query_params: params });
  res.stream.resume();
  await new Promise<void>((resolve, reject) => {
    res.stream.once('end', resolve);
    res.stream.once('error', reject);
  });
}

export function memoryTmpDir(): string {
  return process.platform === 'linux' ? '/dev/shm' : os.tmpdir();
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes insert directories left behind by processes that died (their names carry the pid). */
async function removeStaleInsertDirs(parent: string): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(parent);
  } catch {
    return;
  }
  for (const n of names) {
    const m = /^flowscope-insert-(\d+)-/.exec(n);
    if (m && Number(m[1]) !== process.pid && !processAlive(Number(m[1]))) await fs.rm(path.join(parent, n), { recursive: true, force: true });
  }
}

export interface InsertFiles {
  /** Writes the chunks to a private file, runs `use(file)`, then gives the file back. */
  withFile<T>(chunks: readonly Uint8Array[], use: (file: string) => Promise<T>): Promise<T>;
  /** Removes the directory. */
  close(): Promise<void>;
}

/** Files kept for the next inserts. Rewriting a file's existing pages costs about half of
 * writing a new file (tmpfs allocates and zeroes every new page); more than this many files are
 * only needed while inserts overlap, and are removed after use. */
const KEPT_FILES = 2;

interface InsertFile {
  path: string;
  fd: number;
}

/** A private directory for insert files (in memory where possible), named after our pid so a
 * later process can remove it if we die; stale ones of dead processes are removed first. */
export async function openInsertFiles(ext: string): Promise<InsertFiles> {
  let dir: string;
  try {
    await removeStaleInsertDirs(memoryTmpDir());
    dir = await fs.mkdtemp(path.join(memoryTmpDir(), `flowscope-insert-${process.pid}-`));
  } catch {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), `flowscope-insert-${process.pid}-`));
  }
  let seq = 0;
  let closed = false;
  // Files not in use. An insert takes one (or a new one, so inserts never share a file).
  const free: InsertFile[] = [];
  const drop = (f: InsertFile) => {
    closeSync(f.fd);
    rmSync(f.path, { force: true });
  };
  return {
    async withFile<T>(chunks: readonly Uint8Array[], use: (file: string) => Promise<T>): Promise<T> {
      const f = free.pop() ?? newFile(path.join(dir, `${seq++}.${ext}`));
      // Synchronous on purpose: chDB runs its calls on libuv's thread pool, and an insert must not
      // wait for a pool thread behind them. Writing tens of MB to tmpfs takes milliseconds.
      try {
        writeChunks(f.fd, chunks);
      } catch (err) {
        drop(f);
        throw err;
      }
      let result: T;
      try {
        result = await use(f.path);
      } catch (err) {
        // A failed call (a timeout, say) may still be reading the file: unlinked, it keeps its
        // bytes for that reader, where a rewrite would change them under it.
        drop(f);
        throw err;
      }
      if (!closed && free.length < KEPT_FILES) free.push(f);
      else drop(f);
      return result;
    },
    async close() {
      closed = true;
      for (const f of free.splice(0)) closeSync(f.fd);
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

function newFile(file: string): InsertFile {
  return { path: file, fd: openSync(file, 'w+', 0o600) };
}

/** The chunks from the file's start, then the file cut to their length. */
function writeChunks(fd: number, chunks: readonly Uint8Array[]): void {
  let at = 0;
  for (const c of chunks) {
    for (let off = 0; off < c.length;) {
      const n = writeSync(fd, c, off, c.length - off, at);
      off += n;
      at += n;
    }
  }
  ftruncateSync(fd, at);
}
