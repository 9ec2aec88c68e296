import { test } from 'node:test';
import assert from 'node:assert/strict';
import { placeLabel, type PlacedLabel } from './map.js';

test('edge labels never cover one another: a label on a taken spot moves down until it is free', () => {
  const placed: PlacedLabel[] = [];
  // Two edges crossing between the same columns share a midpoint (the service map of a CI run:
  // shop/frontend → shop/db and shop/backend → world, both labelled at (500, 297)).
  assert.equal(placeLabel(placed, 500, 297, '48 / 48 dropped'), 297);
  const second = placeLabel(placed, 500, 297, '411 / 4 dropped');
  assert.ok(Math.abs(second - 297) >= 16, `moved to ${second}`);
  // A third on the same spot moves past both; one far enough to the side stays where it is.
  const third = placeLabel(placed, 505, 300, '7');
  assert.ok(Math.abs(third - 297) >= 16 && Math.abs(third - second) >= 16, `moved to ${third}`);
  assert.equal(placeLabel(placed, 800, 297, '12'), 297);
  for (let i = 0; i < placed.length; i++)
    for (let j = i + 1; j < placed.length; j++) {
      const a = placed[i];
      const b = placed[j];
      assert.ok(Math.abs(a.x - b.x) >= (a.w + b.w) / 2 || Math.abs(a.y - b.y) >= 16, `labels ${i} and ${j} overlap`);
    }
});
