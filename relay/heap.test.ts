import { test } from 'node:test';
import { RELAY_RUNTIME_FLAGS } from './heap.js';
import { assertV8KnowsFlags } from '../testing/v8-flags.js';

test('relay heap: every run-time flag is one this V8 knows', () => {
  assertV8KnowsFlags(RELAY_RUNTIME_FLAGS);
});
