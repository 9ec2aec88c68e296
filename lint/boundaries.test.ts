// The stage-order import boundary (lint/stage-order.js), checked through ESLint's Node API with the
// repo's own eslint.config.js on synthetic sources: an import that points backwards along the
// stage order, or product code importing testing/, is an error; forward imports and tests are not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

// Runs from dist/lint/boundaries.test.js: the repo root is two levels up.
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RULE = 'flowscope/stage-order';

const eslint = new ESLint({ cwd: repoRoot });

/** The stage-order messages ESLint reports for `code` as if it were the file `file` (relative to the repo root). */
async function boundaryErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(repoRoot, file) });
  assert.ok(result, `no lint result for ${file}`);
  const fatal = result.messages.filter((m) => m.fatal);
  assert.deepEqual(fatal, [], `${file} did not parse`);
  const mine = result.messages.filter((m) => m.ruleId === RULE);
  for (const m of mine) assert.equal(m.severity, 2, `${RULE} reports errors, not warnings`);
  return mine.map((m) => m.message);
}

const use = (specifier: string) => `import { x } from '${specifier}';\nexport const y = x;\n`;

test('the config in use is the repo root one', () => {
  assert.ok(fs.existsSync(path.join(repoRoot, 'eslint.config.js')), `no eslint.config.js in ${repoRoot}`);
});

const backwards: Array<[file: string, code: string, stage: string]> = [
  ['storage/x.ts', use('../api/cli/main.js'), 'api'],
  ['collector/x.ts', use('../relay/relay.js'), 'relay'],
  ['proto/x.ts', use('../common/time.js'), 'common'],
  // deeper files, and stages that may not exist yet on a given branch
  ['collector/decode/deep/x.ts', use('../../../relay/observer/live.js'), 'relay'],
  ['api/printer/x.ts', use('../../cmd/main.js'), 'cmd'],
  ['common/x.ts', use('../schema/flow.js'), 'schema'],
  ['filters/x.ts', use('../observer/service.js'), 'observer'],
  ['relay/x.ts', use('../dashboards/tools.js'), 'dashboards'],
  ['dashboards/x.ts', use('../loadtest/bench.js'), 'loadtest'],
  // every form of import, and a specifier that is not normalised
  ['storage/x.ts', "import type { T } from '../relay/relay.js';\nexport type U = T;\n", 'relay'],
  ['storage/x.ts', "export { x } from '../relay/relay.js';\n", 'relay'],
  ['storage/x.ts', "export * from '../relay/relay.js';\n", 'relay'],
  ['storage/x.ts', "export const m = await import('../relay/relay.js');\n", 'relay'],
  ['storage/x.ts', "export type T = import('../relay/relay.js').RelayStore;\n", 'relay'],
  ['storage/x.ts', use('./../relay/relay.js'), 'relay'],
  ['storage/x.ts', use('../storage/../relay/relay.js'), 'relay'],
  ['storage/x.ts', "import '../relay/relay.js';\n", 'relay'],
];

for (const [file, code, stage] of backwards) {
  test(`backwards: ${file} importing ${stage}/ is an error (${code.split('\n')[0]})`, async () => {
    const errors = await boundaryErrors(file, code);
    assert.equal(errors.length, 1, `expected one ${RULE} error, got ${JSON.stringify(errors)}`);
    assert.match(errors[0]!, new RegExp(`${stage}/ is a later stage`));
  });
}

const productImportsOfTesting: string[] = ['relay/x.ts', 'proto/x.ts', 'api/e2e/harness.ts', 'cmd/main.ts', 'dashboards/x.ts'];

for (const file of productImportsOfTesting) {
  test(`test support: product file ${file} importing testing/ is an error`, async () => {
    const depth = file.split('/').length - 1;
    const errors = await boundaryErrors(file, use(`${'../'.repeat(depth)}testing/harness.js`));
    assert.equal(errors.length, 1, `expected one ${RULE} error, got ${JSON.stringify(errors)}`);
    assert.match(errors[0]!, /testing\/ is test support/);
  });
}

const allowed: Array<[file: string, code: string]> = [
  ['relay/x.ts', use('../storage/index.js')],
  ['relay/ingest/x.ts', use('../../storage/index.js')],
  ['relay/x.ts', use('./merge.js')],
  ['storage/x.ts', use('../proto/types.js')],
  ['api/cli/x.ts', use('../../collector/main.js')],
  ['cmd/x.ts', use('../api/cli/main.js')],
  ['loadtest/x.ts', use('../relay/relay.js')],
  ['proto/x.ts', use('./types.js')],
  ['proto/x.ts', "import * as grpc from '@grpc/grpc-js';\nimport fs from 'node:fs';\nexport const y = [grpc, fs];\n"],
  // tests may import anything; testing/ and loadtest/ may import testing/
  ['storage/x.test.ts', use('../testing/harness.js')],
  ['collector/decode/x.test.ts', use('../../testing/fakes/store.js')],
  ['proto/x.test.ts', use('../api/cli/main.js')],
  ['collector/x.test.ts', use('../relay/relay.js')],
  ['loadtest/x.ts', use('../testing/harness.js')],
  ['testing/harness.ts', use('../cmd/main.js')],
  ['testing/fakes/store.ts', use('../../loadtest/bench.js')],
  // outside the stages: not checked
  ['bin/x.js', use('../dist/api/cli/main.js')],
  ['scripts/x.ts', use('../testing/harness.js')],
];

for (const [file, code] of allowed) {
  test(`allowed: ${file}: ${code.split('\n')[0]}`, async () => {
    assert.deepEqual(await boundaryErrors(file, code), []);
  });
}
