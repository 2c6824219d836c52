// Errors outside the faces' routes: unknown paths, failures before routing, a database outage.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { harness } from '../helpers.ts';

describe('server-level errors', () => {
  test('an unknown path: 404 {"detail": "Not Found"}', async () => {
    const h = await harness();
    try {
      const res = await h.app.inject({ url: '/api/status' });
      assert.equal(res.statusCode, 404);
      assert.deepEqual(res.json(), { detail: 'Not Found' });
    } finally {
      await h.close();
    }
  });

  test('bad percent-encoding under /api/auth answers in the Bluesky format, elsewhere with detail too', async () => {
    const h = await harness();
    try {
      const face = await h.app.inject({ url: '/api/auth/principal/%zz' });
      assert.equal(face.statusCode, 400);
      assert.equal(typeof face.json<{ detail: unknown }>().detail, 'string');
      const root = await h.app.inject({ url: '/nowhere/%zz' });
      assert.ok(root.statusCode >= 400 && root.statusCode < 500, String(root.statusCode));
      assert.equal(typeof root.json<{ detail: unknown }>().detail, 'string');
    } finally {
      await h.close();
    }
  });

  test('JWKS while the database is gone: 503 with Retry-After, never 500', async () => {
    const h = await harness();
    try {
      await h.services.keys.rotate(); // the next request must load the ring from the store
      h.services.keys.close();
      await h.services.store.close();
      const res = await h.app.inject({ url: '/.well-known/jwks.json' });
      assert.equal(res.statusCode, 503, res.body);
      assert.equal(res.headers['retry-after'], '1');
      assert.deepEqual(res.json(), { detail: 'Service temporarily unavailable' });
    } finally {
      await h.close();
    }
  });
});
