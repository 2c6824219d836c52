// The per-request logger is made only when a line is written; the lines written are the same as
// with Fastify's own child loggers: the request id, the server's redaction of credentials.

import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import Fastify from 'fastify';
import type { Logger } from 'pino';
import { deferredChildLoggerFactory } from '../../src/http/plugins/request-logger.ts';
import { createLogger } from '../../src/logger.ts';

function capture(level: string): { logger: Logger; lines: () => Record<string, unknown>[]; children: () => number } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const logger = createLogger(level, stream);
  let children = 0;
  const child = logger.child.bind(logger);
  logger.child = ((...args: Parameters<Logger['child']>) => {
    children++;
    return child(...args);
  }) as Logger['child'];
  return {
    logger,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    children: () => children,
  };
}

async function app(logger: Logger) {
  const instance = Fastify({ loggerInstance: logger, childLoggerFactory: deferredChildLoggerFactory });
  instance.get('/quiet', async (request) => {
    request.log.info('not written at level warn');
    request.log.debug({ password: 'hunter2' }, 'not written either');
    return { ok: true };
  });
  instance.get('/loud', async (request) => {
    request.log.warn({ password: 'hunter2', nested: { token: 'abc.def.ghi' } }, 'something to say');
    return { ok: true };
  });
  await instance.ready();
  return instance;
}

test('at level warn, a request that logs nothing makes no child logger and writes nothing', async () => {
  const log = capture('warn');
  const instance = await app(log.logger);
  const before = log.children(); // what Fastify makes for itself at start
  try {
    for (let i = 0; i < 5; i++) assert.equal((await instance.inject({ url: '/quiet' })).statusCode, 200);
    assert.equal(log.children() - before, 0);
    assert.deepEqual(log.lines(), []);
  } finally {
    await instance.close();
  }
});

test('a line at an enabled level is written through a child with the request id, credentials redacted', async () => {
  const log = capture('warn');
  const instance = await app(log.logger);
  const before = log.children();
  try {
    const response = await instance.inject({ url: '/loud' });
    assert.equal(response.statusCode, 200);
    assert.equal(log.children() - before, 1);
    const lines = log.lines();
    assert.equal(lines.length, 1);
    const line = lines[0] as Record<string, unknown>;
    assert.equal(line.msg, 'something to say');
    assert.equal(typeof line.reqId, 'string');
    assert.equal(line.password, '[redacted]');
    assert.deepEqual(line.nested, { token: '[redacted]' });
    assert.ok(!JSON.stringify(lines).includes('hunter2'));
  } finally {
    await instance.close();
  }
});

test("at level info, Fastify's request lines carry the request id as before", async () => {
  const log = capture('info');
  const instance = await app(log.logger);
  const before = log.children();
  try {
    await instance.inject({ url: '/quiet' });
    const lines = log.lines();
    const messages = lines.map((l) => l.msg);
    assert.deepEqual(messages, ['incoming request', 'not written at level warn', 'request completed']);
    const ids = new Set(lines.map((l) => l.reqId));
    assert.equal(ids.size, 1);
    assert.equal(typeof [...ids][0], 'string');
    assert.equal(log.children() - before, 1, 'one child for the request');
  } finally {
    await instance.close();
  }
});
