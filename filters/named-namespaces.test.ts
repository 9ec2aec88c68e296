// The namespaces a request names, as a scoped token's refusal reads them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { namedNamespaces, namesOnlyOutside } from './named-namespaces.js';

test('pod and service filters name namespaces; a bare name is in "default"; other filters name none', () => {
  assert.deepEqual(
    [...namedNamespaces([{ source_pod: ['shop/', 'web/front'] }, { destination_service: ['kube-system/kube-dns'] }, { destination_pod: ['frontend'] }])].sort(),
    ['default', 'kube-system', 'shop', 'web'],
  );
  assert.deepEqual([...namedNamespaces([{ source_ip: ['10.0.0.1'], destination_label: ['app=x'], verdict: [2] }])], []);
  assert.deepEqual([...namedNamespaces([])], []);
});

test('refused only when namespaces are named and none is in scope', () => {
  const scope = new Set(['shop']);
  assert.equal(namesOnlyOutside([{ source_pod: ['web/'] }, { destination_pod: ['web/'] }], scope), true);
  assert.equal(namesOnlyOutside([{ source_pod: ['monitoring/'], destination_pod: ['kube-system/'] }], scope), true);
  assert.equal(namesOnlyOutside([{ source_pod: ['web/'], destination_pod: ['shop/'] }], scope), false);
  assert.equal(namesOnlyOutside([{ source_pod: ['web/'] }, { source_pod: ['shop/db'] }], scope), false);
  assert.equal(namesOnlyOutside([{ source_ip: ['10.0.0.1'] }], scope), false, 'nothing named: answered within the scope');
  assert.equal(namesOnlyOutside([], scope), false);
});
