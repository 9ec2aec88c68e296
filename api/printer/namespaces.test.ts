import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatNamespaces } from './namespaces.js';

const ns = [{ cluster: 'prod', namespace: 'default' }, { cluster: 'prod', namespace: 'kube-system' }, { namespace: 'shop' }];

test('list namespaces prints like hubble list namespaces', () => {
  assert.equal(formatNamespaces(ns, 'table'), 'NAMESPACE\ndefault\nkube-system\nshop\n');
  assert.equal(formatNamespaces(ns, 'wide'), 'NAMESPACE     CLUSTER\ndefault       prod\nkube-system   prod\nshop\n');
  assert.equal(
    formatNamespaces(ns, 'json'),
    '[\n  {\n    "cluster": "prod",\n    "namespace": "default"\n  },\n  {\n    "cluster": "prod",\n    "namespace": "kube-system"\n  },\n  {\n    "namespace": "shop"\n  }\n]\n',
  );
  assert.equal(formatNamespaces(undefined, 'json'), 'null\n');
});
