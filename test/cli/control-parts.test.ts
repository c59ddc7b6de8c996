import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { register } from 'prom-client';
import { DuplicateKeyError, parseOrdered, toJson } from '../../src/control/json.js';
import {
  hostHeaderAllowed,
  isLoopbackAddress,
  isLoopbackHost,
} from '../../src/control/loopback.js';
import { startControlApi } from '../../src/control/server.js';
import { tokenMatches } from '../../src/control/token.js';
import { DsnError } from '../../src/index.js';
import { MetricsExporter } from '../../src/metrics/exporter.js';
import { next, TestNet } from '../helpers/net.js';
import { parsePrometheus } from './helpers.js';

// The parts of the control API and the metrics exporter that the executable
// cannot show: the loopback checks themselves, the ordered JSON, and the
// exporter on library nodes (DATA latency and errors, one registry each).

describe('control API: loopback only', () => {
  it('takes 127.0.0.0/8, ::1 and their IPv4-mapped forms as this machine; nothing else', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) {
      assert.equal(isLoopbackAddress(a), true, a);
    }
    for (const a of [
      '10.0.0.1',
      '192.168.1.20',
      '::ffff:10.0.0.1',
      '0.0.0.0',
      '::',
      '::2',
      'fe80::1',
      '1::1',
      '128.0.0.1',
      'localhost',
      '',
      undefined,
    ]) {
      assert.equal(isLoopbackAddress(a), false, String(a));
    }
  });

  it('binds only a loopback address or localhost', async () => {
    assert.equal(isLoopbackHost('localhost'), true);
    assert.equal(isLoopbackHost('127.0.0.1'), true);
    assert.equal(isLoopbackHost('::1'), true);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', 'example.com']) {
      assert.equal(isLoopbackHost(host), false, host);
      const source = {} as Parameters<typeof startControlApi>[0];
      await assert.rejects(
        startControlApi(source, { port: 0, host, token: null }),
        (err: Error) =>
          err instanceof DsnError && /listens on a loopback address only/.test(err.message),
      );
    }
  });

  it('answers only Host headers that name this machine (no DNS rebinding)', () => {
    for (const h of ['localhost', 'localhost:9000', '127.0.0.1:9000', '[::1]:9000', undefined]) {
      assert.equal(hostHeaderAllowed(h), true, String(h));
    }
    for (const h of ['evil.example', 'evil.example:9000', '10.0.0.1', '[fe80::1]:1', '', 'a:b:c']) {
      assert.equal(hostHeaderAllowed(h), false, h);
    }
  });

  it('compares tokens whole', () => {
    assert.equal(tokenMatches('abc', 'abc'), true);
    assert.equal(tokenMatches('abc', 'abd'), false);
    assert.equal(tokenMatches('abc', 'ab'), false);
    assert.equal(tokenMatches('abc', ''), false);
  });
});

describe('control API: ordered JSON', () => {
  it('keeps key order (integer-like keys and __proto__ included), both ways', () => {
    const text = '{"b": "1", "2": "two", "__proto__": "p", "nested": {"z": [1, true, null]}}';
    const value = parseOrdered(text);
    assert.ok(value instanceof Map);
    assert.deepEqual([...value.keys()], ['b', '2', '__proto__', 'nested']);
    assert.equal(toJson(value), '{"b":"1","2":"two","__proto__":"p","nested":{"z":[1,true,null]}}');
    assert.equal(
      toJson(new Map([['é\n"', 'x\u2028']])),
      JSON.stringify(Object.fromEntries([['é\n"', 'x\u2028']])),
    );
  });

  it('refuses bad text with JSON.parse’s error, and a repeated key', () => {
    assert.throws(() => parseOrdered('{"a": '), SyntaxError);
    assert.throws(() => parseOrdered('{"a": "1"} x'), SyntaxError);
    assert.throws(() => parseOrdered('{"a": "1", "a": "2"}'), DuplicateKeyError);
    assert.equal(parseOrdered(' "s\\"t" '), 's"t');
    assert.equal(parseOrdered('-1.5e3'), -1500);
  });
});

describe('MetricsExporter on library nodes', () => {
  const net = new TestNet();
  after(() => net.stopAll());

  it('times DATA, counts refusals by status, and keeps its own registry', async () => {
    const ma = new MetricsExporter();
    const mb = new MetricsExporter();
    const a = await net.start('a', { observer: ma });
    const b = await net.start('b', { observer: mb, via: a });
    ma.attach(a);
    mb.attach(b);
    await a.sendToNode('b', 'x'.repeat(1000));
    const refuse = () => {
      throw new Error('queue full');
    };
    b.on('receive', refuse);
    await assert.rejects(a.sendToNode('b', 'y'));
    b.off('receive', refuse);
    await a.updateData('k', 'v');

    const pa = parsePrometheus(await ma.metrics());
    const pb = parsePrometheus(await mb.metrics());
    assert.equal(
      pa.samples.get('dsn_data_request_seconds_count'),
      1,
      'the refused one is not timed',
    );
    assert.ok((pa.samples.get('dsn_data_request_seconds_sum') ?? 0) > 0);
    assert.equal(pa.samples.get('dsn_messages_total{type="data",direction="out"}'), 2);
    assert.ok((pa.samples.get('dsn_message_bytes_total{type="data",direction="out"}') ?? 0) > 1000);
    assert.equal(
      pa.samples.get('dsn_request_errors_total{type="data",direction="out",status="503"}'),
      1,
    );
    assert.equal(pb.samples.get('dsn_messages_total{type="data",direction="in"}'), 2);
    assert.equal(
      pb.samples.get('dsn_request_errors_total{type="data",direction="in",status="503"}'),
      1,
    );
    assert.equal(pa.samples.get('dsn_update_spread_seconds_count'), 1);
    assert.equal(pa.samples.get('dsn_peers{liveness="alive"}'), 1);
    assert.equal(pa.samples.get('dsn_joins_total'), 1);
    assert.equal(pb.samples.get('dsn_joins_total'), 1);
    assert.equal(pa.samples.get('dsn_node_info{node_id="a"}'), 1);
    assert.equal(pb.samples.get('dsn_node_info{node_id="b"}'), 1);
    assert.equal(ma.contentType.split(';')[0], 'text/plain');
    assert.equal((await register.metrics()).trim(), '', 'the global registry is untouched');

    // Evictions and leaves from the events.
    const left = next<[string]>(a, 'leave', (id) => id === 'b');
    await b.stop();
    await left;
    const end = parsePrometheus(await ma.metrics());
    assert.equal(end.samples.get('dsn_leaves_total'), 1);
    assert.equal(end.samples.get('dsn_evictions_total'), 0);
    assert.equal(end.samples.get('dsn_peers{liveness="alive"}'), 0);
  });
});
