// ESLint flat config: typescript-eslint's recommended rules (syntax only, no type information, so a
// full run stays fast), the stage-order import boundary (lint/stage-order.js), and
// eslint-config-prettier last so that no rule argues with the formatter.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import flowscope from './lint/stage-order.js';

const root = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig(
  globalIgnores(['dist/', 'dist*/', 'build/', 'data/', '.flowscope/', 'collector/bpf/', '**/testdata/']),
  tseslint.configs.recommended,
  {
    rules: {
      // A leading underscore marks a name that is unused on purpose: a loop variable that only
      // counts (`for await (const _ of ...)`), a property taken out of an object so that the rest
      // can be compared (`const { time: _t, ...rest } = f`), a parameter a signature requires.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    files: ['**/*.{ts,js}'],
    plugins: { flowscope },
    rules: { 'flowscope/stage-order': ['error', { root }] },
  },
  {
    // Tests are not product code: a test may import any stage and testing/.
    files: ['**/*.test.ts'],
    rules: { 'flowscope/stage-order': 'off' },
  },
  prettier,
);
