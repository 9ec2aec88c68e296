import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatResponses } from './printer.js';
import type { OutputFormat } from './printer.js';
import { loadResponses, readTestdata } from './fixtures.js';

// Golden outputs of the official hubble CLI (printer-examples.md), colours off, UTC.
for (const output of ['compact', 'dict', 'table'] as OutputFormat[]) {
  test(`reference examples: -o ${output}`, () => {
    const { stdout, stderr } = formatResponses(loadResponses('reference.jsonl'), { output, timeZone: 'UTC' });
    assert.equal(stdout, readTestdata(`reference.${output}.txt`));
    assert.equal(stderr, '');
  });
}
