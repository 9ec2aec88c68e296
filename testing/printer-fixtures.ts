// Test support: locates fixtures in the source tree (not the build output) and loads jsonpb lines.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { types } from '../proto/index.js';
import type { GetFlowsResponse } from '../proto/index.js';
import { fromProtoJSON } from '../proto/json.js';

/** The repository root: the nearest folder above this module that holds package.json. */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
}

export function testdataPath(name: string): string {
  return path.join(repoRoot(), 'api', 'printer', 'testdata', name);
}

export function readTestdata(name: string): string {
  return readFileSync(testdataPath(name), 'utf8');
}

/** Parses a jsonpb fixture: one GetFlowsResponse per non-empty line. */
export function loadResponses(name: string): GetFlowsResponse[] {
  return readTestdata(name)
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => fromProtoJSON(types.GetFlowsResponse, JSON.parse(l)) as GetFlowsResponse);
}
