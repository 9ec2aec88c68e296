// The import boundary between the top-level folders, as an ESLint rule (plugin `flowscope`, rule
// `stage-order`). The folders are the stages of a flow's journey, in this order; a file in one may
// import only from its own stage or an earlier one, so an import that points backwards along the
// journey fails lint:
//
//   proto < common < schema < filters < observer < collector < storage < relay < api < cmd < dashboards < loadtest
//
// `testing/` (fakes, harness, fixtures, benches) is test support: only `testing/` itself and
// `loadtest/` may import it (test files too, but eslint.config.js does not apply this rule to
// *.test.ts at all: tests may import anything). `testing/` may import any stage. Files outside
// these folders (bin/, scripts/, lint/, the repo root) are not checked.
//
// Why a local rule rather than eslint-plugin-boundaries or import-x/no-restricted-paths: those
// resolve each specifier to an existing file first and skip whatever does not resolve, so they
// need a TypeScript resolver to map `../x.js` to `x.ts` (one more dependency) and they would say
// nothing about an import of a folder that does not exist yet (schema/, observer/, cmd/, testing/
// on some branches). This rule only needs the path: it resolves the relative specifier against
// the importing file and reads the first folder of the result, so `../../storage/index.js`,
// `./../storage/x.js` and `../storage` are all "storage" whatever exists on disk, at any depth.
import path from 'node:path';

export const STAGES = ['proto', 'common', 'schema', 'filters', 'observer', 'collector', 'storage', 'relay', 'api', 'cmd', 'dashboards', 'loadtest'];
export const TEST_SUPPORT = 'testing';
/** Stages whose product files may import test support. */
const TEST_SUPPORT_USERS = new Set(['loadtest']);

/** The top-level folder of `file` under `root`, or undefined if it is outside `root` or directly in it. */
function topFolder(root, file) {
  const rel = path.relative(root, file);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  const parts = rel.split(path.sep);
  return parts.length > 1 ? parts[0] : undefined;
}

/** @type {import('eslint').Rule.RuleModule} */
const stageOrder = {
  meta: {
    type: 'problem',
    docs: { description: 'A top-level folder imports only from its own stage or earlier ones, and only tests and loadtest/ import testing/.' },
    schema: [{ type: 'object', properties: { root: { type: 'string' } }, required: ['root'], additionalProperties: false }],
    messages: {
      later: "{{from}}/ may not import '{{specifier}}': {{to}}/ is a later stage (the order is in lint/stage-order.js).",
      testSupport: "{{from}}/ may not import '{{specifier}}': {{to}}/ is test support, for *.test.ts files, testing/ and loadtest/ only.",
    },
  },
  create(context) {
    const root = path.resolve(context.options[0].root);
    const from = topFolder(root, context.filename);
    if (from === undefined || from === TEST_SUPPORT || !STAGES.includes(from)) return {};
    const fromIndex = STAGES.indexOf(from);

    /** Checks one module specifier node (a string Literal, or a template literal without expressions). */
    function check(node) {
      if (!node) return;
      let specifier;
      if (node.type === 'Literal' && typeof node.value === 'string') specifier = node.value;
      else if (node.type === 'TemplateLiteral' && node.expressions.length === 0) specifier = node.quasis[0].value.cooked;
      else if (node.type === 'TSLiteralType') return check(node.literal);
      if (typeof specifier !== 'string') return;
      if (!specifier.startsWith('.') && !path.isAbsolute(specifier)) return; // a package, node:*, #imports
      const to = topFolder(root, path.resolve(path.dirname(context.filename), specifier));
      if (to === undefined || to === from) return;
      if (to === TEST_SUPPORT) {
        if (!TEST_SUPPORT_USERS.has(from)) context.report({ node, messageId: 'testSupport', data: { specifier, from, to } });
        return;
      }
      const toIndex = STAGES.indexOf(to);
      if (toIndex > fromIndex) context.report({ node, messageId: 'later', data: { specifier, from, to } });
    }

    return {
      ImportDeclaration: (node) => check(node.source),
      ExportNamedDeclaration: (node) => check(node.source),
      ExportAllDeclaration: (node) => check(node.source),
      ImportExpression: (node) => check(node.source),
      // `import x = require('...')` and `type T = import('...').T`
      TSExternalModuleReference: (node) => check(node.expression),
      TSImportType: (node) => check(node.source ?? node.argument),
    };
  },
};

export default { meta: { name: 'flowscope' }, rules: { 'stage-order': stageOrder } };
