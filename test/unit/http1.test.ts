import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type Head,
  HttpError,
  keepsAlive,
  type Message,
  MessageReader,
  type ReaderLimits,
  reason,
} from '../../src/transport/http1.js';

type Kind = 'request' | 'response';

const ROOMY: ReaderLimits = { maxHeadBytes: 8192, maxBodyBytes: 1 << 20 };

/** What a parsed message should look like, in a form deepEqual compares. */
interface Expected {
  line: [string, string, string];
  headers: Record<string, string>;
  v11: boolean;
  body: Buffer;
}

function plain(m: Message): Expected {
  return {
    line: m.head.line,
    headers: Object.fromEntries(m.head.headers),
    v11: m.head.v11,
    body: Buffer.from(m.body),
  };
}

/**
 * Feeds `bytes` to a fresh reader in pieces cut at `cuts`, calling next()
 * after every piece, then end() (and next() once more) if `close`.
 */
function readAll(
  kind: Kind,
  bytes: Buffer,
  cuts: number[] = [],
  close = false,
  limits: ReaderLimits = ROOMY,
): { messages: Message[]; reader: MessageReader } {
  const reader = new MessageReader(kind, limits);
  const messages: Message[] = [];
  const drain = () => {
    for (let m = reader.next(); m; m = reader.next()) messages.push(m);
  };
  let from = 0;
  for (const at of [...cuts].sort((a, b) => a - b)) {
    reader.push(bytes.subarray(from, at));
    drain();
    from = at;
  }
  reader.push(bytes.subarray(from));
  drain();
  if (close) {
    reader.end();
    drain();
  }
  return { messages, reader };
}

/** Every way of delivering `bytes` this test checks: whole, byte by byte, and halves. */
function deliveries(bytes: Buffer): number[][] {
  const bytewise = Array.from({ length: Math.max(0, bytes.length - 1) }, (_, i) => i + 1);
  return [[], bytewise, [Math.floor(bytes.length / 2)]];
}

/** Parses `text` delivered each way; asserts every way gives the same messages, and returns them. */
function parse(kind: Kind, text: string | Buffer, close = false): Expected[] {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
  let first: Expected[] | null = null;
  for (const cuts of deliveries(bytes)) {
    const { messages, reader } = readAll(kind, bytes, cuts, close);
    const got = messages.map(plain);
    assert.equal(reader.buffered, 0, 'every byte belongs to a message');
    if (first === null) first = got;
    else assert.deepEqual(got, first, `delivered in ${cuts.length + 1} pieces`);
  }
  return first as Expected[];
}

/** Asserts that reading `text` (whole, and byte by byte) throws an HttpError with `status`. */
function refuses(
  kind: Kind,
  text: string | Buffer,
  status: number,
  limits: ReaderLimits = ROOMY,
): void {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
  for (const cuts of deliveries(bytes)) {
    assert.throws(
      () => readAll(kind, bytes, cuts, false, limits),
      (err: unknown) => {
        assert.ok(err instanceof HttpError, `an HttpError, not ${String(err)}`);
        assert.equal(err.status, status, err.message);
        return true;
      },
      `delivered in ${cuts.length + 1} pieces`,
    );
  }
}

// ---------------------------------------------------------------------------
// Random messages for the property tests.

interface Field {
  name: string;
  value: string;
}

interface Gen {
  bytes: Buffer;
  expected: Expected;
}

/** Field names drawn from a small set (in random case) so that repeats happen. */
const fieldName = fc
  .tuple(
    fc.constantFrom('X-A', 'X-Bee', 'Accept', 'User-Agent', 'X-Trace-Id', 'Host'),
    fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
  )
  .map(([name, upper]) =>
    [...name].map((c, i) => (upper[i] ? c.toUpperCase() : c.toLowerCase())).join(''),
  );
/** Visible characters with inner spaces, no leading or trailing whitespace (values are trimmed). */
const fieldValue = fc.stringMatching(/^([!-~]([ !-~]{0,16}[!-~])?)?$/);
const fields = fc.array(fc.record({ name: fieldName, value: fieldValue }), { maxLength: 5 });
const body = fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b));
const hexCase = fc.boolean();

/** A body in chunked coding: random chunk sizes, extensions, trailers. */
const chunked = fc
  .record({
    body,
    cuts: fc.array(fc.nat(), { maxLength: 4 }),
    exts: fc.array(fc.constantFrom('', ';a=b', ' ;x', ';q="v;w"', ';n'), {
      minLength: 6,
      maxLength: 6,
    }),
    upper: hexCase,
    trailers: fc.array(fc.constantFrom('X-Sum: 1', 'Expires: never', 'x-t:'), { maxLength: 2 }),
  })
  .map(({ body, cuts, exts, upper, trailers }) => {
    const at = [...new Set(cuts.map((c) => (body.length === 0 ? 0 : c % body.length)))]
      .filter((c) => c > 0)
      .sort((a, b) => a - b);
    const pieces: Buffer[] = [];
    let from = 0;
    for (const c of [...at, body.length]) {
      if (c > from) pieces.push(body.subarray(from, c));
      from = c;
    }
    let wire = '';
    pieces.forEach((p, i) => {
      const hex = p.length.toString(16);
      wire += `${upper ? hex.toUpperCase() : hex}${exts[i % exts.length]}\r\n`;
      wire += `${p.toString('latin1')}\r\n`;
    });
    wire += `0${exts[5]}\r\n${trailers.map((t) => `${t}\r\n`).join('')}\r\n`;
    return { body, wire: Buffer.from(wire, 'latin1') };
  });

/** Header map as the reader builds it: lower-case names, repeats joined with ", ". */
function joined(list: Field[]): Record<string, string> {
  const out = new Map<string, string>();
  for (const { name, value } of list) {
    const k = name.toLowerCase();
    const had = out.get(k);
    out.set(k, had === undefined ? value : `${had}, ${value}`);
  }
  return Object.fromEntries(out);
}

type Framing =
  | { kind: 'length'; body: Buffer; name: string }
  | { kind: 'chunked'; body: Buffer; wire: Buffer; name: string }
  | { kind: 'none' };

const framing = fc.oneof(
  fc.record({
    kind: fc.constant('length' as const),
    body,
    name: fc.constantFrom('Content-Length', 'content-length', 'CONTENT-LENGTH'),
  }),
  fc
    .tuple(chunked, fc.constantFrom('Transfer-Encoding', 'transfer-encoding'))
    .map(([c, name]) => ({ kind: 'chunked' as const, body: c.body, wire: c.wire, name })),
  fc.constant({ kind: 'none' as const }),
);

function build(startLine: string, list: Field[], f: Framing, v11: boolean, line: Expected['line']) {
  const all = [...list];
  let wireBody: Buffer = Buffer.alloc(0);
  let expectedBody: Buffer = Buffer.alloc(0);
  if (f.kind === 'length') {
    all.push({ name: f.name, value: String(f.body.length) });
    wireBody = f.body;
    expectedBody = f.body;
  } else if (f.kind === 'chunked') {
    all.push({ name: f.name, value: 'chunked' });
    wireBody = f.wire;
    expectedBody = f.body;
  }
  const head = `${startLine}\r\n${all.map((x) => `${x.name}: ${x.value}\r\n`).join('')}\r\n`;
  return {
    bytes: Buffer.concat([Buffer.from(head, 'latin1'), wireBody]),
    expected: { line, headers: joined(all), v11, body: expectedBody },
  };
}

const request: fc.Arbitrary<Gen> = fc
  .record({
    method: fc.constantFrom('POST', 'GET', 'PUT', 'M-SEARCH', 'x'),
    target: fc.stringMatching(/^\/[a-z0-9/?=&%.-]{0,20}$/),
    version: fc.constantFrom('HTTP/1.1', 'HTTP/1.0'),
    fields,
    framing,
    // Empty lines before a request line are allowed (RFC 9112 §2.2).
    blank: fc.integer({ min: 0, max: 2 }),
  })
  .map((r) => {
    const g = build(
      `${r.method} ${r.target} ${r.version}`,
      r.fields,
      r.framing,
      r.version === 'HTTP/1.1',
      [r.method, r.target, r.version],
    );
    return { ...g, bytes: Buffer.concat([Buffer.from('\r\n'.repeat(r.blank)), g.bytes]) };
  });

/** A response with a body framed by length or chunked coding, or a bodiless status. */
const response: fc.Arbitrary<Gen> = fc
  .record({
    version: fc.constantFrom('HTTP/1.1', 'HTTP/1.0'),
    status: fc.oneof(
      fc.constantFrom(100, 103, 204, 304),
      fc.integer({ min: 200, max: 599 }).filter((s) => s !== 204 && s !== 304),
    ),
    reason: fc.stringMatching(/^[A-Za-z ]{0,14}$/),
    fields,
    framing: framing.filter((f) => f.kind !== 'none'),
    // A 304 (or 204) may carry a Content-Length that describes no body here.
    phantomLength: fc.boolean(),
  })
  .map((r) => {
    const start = `${r.version} ${r.status} ${r.reason}`;
    const line: Expected['line'] = [r.version, String(r.status), r.reason];
    const bodiless = r.status < 200 || r.status === 204 || r.status === 304;
    if (bodiless) {
      const list =
        r.phantomLength && r.status >= 200
          ? [...r.fields, { name: 'Content-Length', value: '7' }]
          : r.fields;
      return build(start, list, { kind: 'none' }, r.version === 'HTTP/1.1', line);
    }
    return build(start, r.fields, r.framing, r.version === 'HTTP/1.1', line);
  });

/** A last response whose body runs to the end of the connection. */
const closeDelimited: fc.Arbitrary<Gen> = fc
  .record({ version: fc.constantFrom('HTTP/1.1', 'HTTP/1.0'), fields, body })
  .map((r) => {
    const g = build(`${r.version} 200 OK`, r.fields, { kind: 'none' }, r.version === 'HTTP/1.1', [
      r.version,
      '200',
      'OK',
    ]);
    return {
      bytes: Buffer.concat([g.bytes, r.body]),
      expected: { ...g.expected, body: r.body },
    };
  });

const cutsFor = fc.array(fc.nat(), { maxLength: 12 });

function checkSequence(kind: Kind, seq: Gen[], rawCuts: number[], close: boolean): void {
  const bytes = Buffer.concat(seq.map((g) => g.bytes));
  const cuts = rawCuts.map((c) => c % (bytes.length + 1));
  const { messages, reader } = readAll(kind, bytes, cuts, close);
  assert.deepEqual(
    messages.map(plain),
    seq.map((g) => g.expected),
  );
  assert.equal(reader.buffered, 0);
}

// ---------------------------------------------------------------------------

describe('MessageReader: the same messages however the stream is split', () => {
  it('pipelined requests', () => {
    fc.assert(
      fc.property(fc.array(request, { minLength: 1, maxLength: 5 }), cutsFor, (seq, cuts) => {
        checkSequence('request', seq, cuts, false);
      }),
      { numRuns: 400 },
    );
  });

  it('pipelined responses, the last one possibly delimited by the end of the stream', () => {
    fc.assert(
      fc.property(
        fc.array(response, { minLength: 1, maxLength: 5 }),
        fc.option(closeDelimited),
        cutsFor,
        (seq, last, cuts) => {
          checkSequence('response', last ? [...seq, last] : seq, cuts, last !== null);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('a reader fed byte by byte gives exactly what one fed at once gives', () => {
    fc.assert(
      fc.property(fc.array(request, { minLength: 1, maxLength: 3 }), (seq) => {
        const bytes = Buffer.concat(seq.map((g) => g.bytes));
        const whole = readAll('request', bytes).messages.map(plain);
        const bytewise = readAll(
          'request',
          bytes,
          Array.from({ length: bytes.length }, (_, i) => i),
        ).messages.map(plain);
        assert.deepEqual(bytewise, whole);
        assert.equal(whole.length, seq.length);
      }),
      { numRuns: 100 },
    );
  });

  it('next() returns null until a message is complete, and inBody tells when the head is in', () => {
    const reader = new MessageReader('request', ROOMY);
    assert.equal(reader.next(), null);
    assert.equal(reader.started, false);
    reader.push(Buffer.from('POST /a HTTP/1.1\r\nContent-Length: 4\r\n'));
    assert.equal(reader.started, true);
    assert.equal(reader.next(), null);
    assert.equal(reader.inBody, false);
    reader.push(Buffer.from('\r\nab'));
    assert.equal(reader.next(), null);
    assert.equal(reader.inBody, true);
    reader.push(Buffer.from('cdPOST'));
    const m = reader.next();
    assert.ok(m);
    assert.equal(m.body.toString(), 'abcd');
    assert.equal(reader.inBody, false);
    assert.equal(reader.buffered, 4);
    assert.equal(reader.started, true, 'bytes of the next request are there');
  });
});

describe('MessageReader: bodies', () => {
  it('decodes a chunked body with chunk extensions and trailer fields', () => {
    const [m] = parse(
      'request',
      'POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n' +
        '5;name=value\r\nhello\r\n' +
        '1 ; ext="quoted;semi"\r\n \r\n' +
        'A\r\n0123456789\r\n' +
        '0;last\r\nX-Checksum: abc\r\nX-More: 1\r\n\r\n',
    );
    assert.ok(m);
    assert.equal(m.body.toString(), 'hello 0123456789');
    assert.equal(m.headers['x-checksum'], undefined, 'trailer fields are dropped');
  });

  it('accepts "chunked" in any case and reads the request after it', () => {
    const got = parse(
      'request',
      'POST /a HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n' +
        'POST /b HTTP/1.1\r\nContent-Length: 1\r\n\r\nz',
    );
    assert.deepEqual(
      got.map((m) => [m.line[1], m.body.toString()]),
      [
        ['/a', 'abc'],
        ['/b', 'z'],
      ],
    );
  });

  it('a request with neither Content-Length nor Transfer-Encoding has an empty body', () => {
    const got = parse('request', 'POST /a HTTP/1.1\r\n\r\nPOST /b HTTP/1.1\r\n\r\n');
    assert.deepEqual(
      got.map((m) => [m.line[1], m.body.length]),
      [
        ['/a', 0],
        ['/b', 0],
      ],
    );
  });

  it('keeps binary bodies byte for byte', () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const text = Buffer.concat([
      Buffer.from('POST / HTTP/1.1\r\nContent-Length: 256\r\n\r\n'),
      bytes,
    ]);
    const [m] = parse('request', text);
    assert.ok(m);
    assert.deepEqual(m.body, bytes);
  });
});

describe('MessageReader: response framing', () => {
  it('1xx answers have no body and the final answer follows', () => {
    const got = parse(
      'response',
      'HTTP/1.1 100 Continue\r\n\r\n' +
        'HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n' +
        'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
    );
    assert.deepEqual(
      got.map((m) => [m.line[1], m.body.toString()]),
      [
        ['100', ''],
        ['103', ''],
        ['200', 'ok'],
      ],
    );
  });

  it('204 and 304 have no body, even with a Content-Length', () => {
    const got = parse(
      'response',
      'HTTP/1.1 204 No Content\r\n\r\n' +
        'HTTP/1.1 304 Not Modified\r\nContent-Length: 12\r\n\r\n' +
        'HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\n' +
        'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc',
    );
    assert.deepEqual(
      got.map((m) => [m.line[1], m.body.toString()]),
      [
        ['204', ''],
        ['304', ''],
        ['204', ''],
        ['200', 'abc'],
      ],
    );
  });

  it('a response without length is read until end()', () => {
    const reader = new MessageReader('response', ROOMY);
    reader.push(Buffer.from('HTTP/1.0 200 OK\r\nServer: old\r\n\r\nfirst '));
    assert.equal(reader.next(), null);
    reader.push(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx'));
    assert.equal(reader.next(), null, 'what looks like another answer is body');
    reader.push(Buffer.alloc(0));
    assert.equal(reader.next(), null);
    assert.equal(reader.atEnd, false);
    reader.end();
    assert.equal(reader.atEnd, true);
    const m = reader.next();
    assert.ok(m);
    assert.equal(m.body.toString(), 'first HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx');
  });

  it('a response with an empty close-delimited body', () => {
    const [m] = parse('response', 'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n', true);
    assert.ok(m);
    assert.equal(m.body.length, 0);
  });

  it('a response with a coding other than chunked last runs until end()', () => {
    const [m] = parse(
      'response',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n\x1f\x8b',
      true,
    );
    assert.ok(m);
    assert.deepEqual(m.body, Buffer.from([0x1f, 0x8b]));
  });

  it('a close-delimited body is bounded by maxBodyBytes', () => {
    const reader = new MessageReader('response', { maxHeadBytes: 1024, maxBodyBytes: 10 });
    reader.push(Buffer.from('HTTP/1.0 200 OK\r\n\r\n0123456789'));
    assert.equal(reader.next(), null);
    reader.push(Buffer.from('a'));
    assert.throws(() => reader.next(), { status: 413 });
  });

  it('a status line without a reason, or with spaces in it', () => {
    const got = parse(
      'response',
      'HTTP/1.1 200\r\nContent-Length: 0\r\n\r\nHTTP/1.1 404 Not  Found here\r\nContent-Length: 0\r\n\r\n',
    );
    assert.deepEqual(
      got.map((m) => m.line),
      [
        ['HTTP/1.1', '200', ''],
        ['HTTP/1.1', '404', 'Not  Found here'],
      ],
    );
  });
});

describe('MessageReader: refusals', () => {
  it('both Transfer-Encoding and Content-Length → 400, in either order, requests and responses', () => {
    refuses(
      'request',
      'POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
    );
    refuses(
      'request',
      'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n',
      400,
    );
    refuses(
      'response',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n',
      400,
    );
  });

  it('a Transfer-Encoding a request cannot be read with → 400 (or 501 for a coding before chunked)', () => {
    refuses('request', 'POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n', 400);
    refuses('request', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n', 400);
    refuses('request', 'POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', 501);
  });

  it('bad or conflicting Content-Length → 400', () => {
    for (const cl of ['abc', '-1', '+1', '1.5', '0x10', '', '1 2', '5, 6', '1234567890123456']) {
      refuses('request', `POST / HTTP/1.1\r\nContent-Length: ${cl}\r\n\r\n`, 400);
    }
    // Two fields that disagree, in any case.
    refuses('request', 'POST / HTTP/1.1\r\nContent-Length: 1\r\ncontent-length: 2\r\n\r\nab', 400);
    refuses('response', 'HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n', 400);
  });

  it('repeated Content-Length fields that agree are one length', () => {
    const [m] = parse(
      'request',
      'POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc',
    );
    assert.ok(m);
    assert.equal(m.body.toString(), 'abc');
  });

  it('a declared length over maxBodyBytes → 413 as soon as the head is complete', () => {
    const reader = new MessageReader('request', { maxHeadBytes: 1024, maxBodyBytes: 100 });
    let heads = 0;
    reader.onHead = () => {
      heads++;
      return undefined;
    };
    reader.push(Buffer.from('POST / HTTP/1.1\r\nContent-Length: 101\r\n\r'));
    assert.equal(reader.next(), null);
    reader.push(Buffer.from('\n')); // the head is complete; not one byte of the body came
    assert.throws(() => reader.next(), { status: 413 });
    assert.equal(heads, 0, 'no head is reported for a refused message (no 100 Continue)');
    // Exactly the limit is fine.
    const ok = new MessageReader('request', { maxHeadBytes: 1024, maxBodyBytes: 100 });
    ok.push(Buffer.from(`POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n${'x'.repeat(100)}`));
    assert.equal(ok.next()?.body.length, 100);
  });

  it('a chunked body over maxBodyBytes → 413 at the chunk size line that crosses it', () => {
    const limits = { maxHeadBytes: 1024, maxBodyBytes: 10 };
    const reader = new MessageReader('request', limits);
    reader.push(
      Buffer.from('POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n'),
    );
    assert.equal(reader.next(), null);
    reader.push(Buffer.from('5\r\n')); // 11 bytes declared; no data of this chunk sent
    assert.throws(() => reader.next(), { status: 413 });
    // A huge single chunk size is refused without reading it.
    refuses(
      'request',
      'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffff\r\n',
      413,
      limits,
    );
    // Exactly the limit in several chunks is fine.
    const [m] = readAll(
      'request',
      Buffer.from(
        'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n4\r\nghij\r\n0\r\n\r\n',
      ),
      [],
      false,
      limits,
    ).messages;
    assert.equal(m?.body.toString(), 'abcdefghij');
  });

  it('malformed chunked coding → 400', () => {
    const te = 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n';
    refuses('request', `${te}g\r\n`, 400); // not hex
    refuses('request', `${te}\r\n`, 400); // no size
    refuses('request', `${te}123456789\r\n`, 400); // too many digits
    refuses('request', `${te}3\r\nabcX\r\n`, 400); // data longer than its size
    refuses('request', `${te}-1\r\n`, 400);
  });

  it('a head bigger than maxHeadBytes with no end in sight → 431', () => {
    const limits = { maxHeadBytes: 256, maxBodyBytes: 1024 };
    refuses('request', `POST / HTTP/1.1\r\nX-Big: ${'a'.repeat(300)}`, 431, limits);
    refuses('request', `POST / HTTP/1.1\r\nX-Big: ${'a'.repeat(300)}\r\n\r\n`, 431, limits);
    refuses('response', `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(300)}`, 431, limits);
    // A head that fits is read.
    const fits = `POST / HTTP/1.1\r\nX-Big: ${'a'.repeat(200)}\r\n\r\n`;
    assert.equal(readAll('request', Buffer.from(fits), [], false, limits).messages.length, 1);
  });

  it('a head of exactly maxHeadBytes is read however its last bytes arrive', {}, () => {
    const limits = { maxHeadBytes: 64, maxBodyBytes: 16 };
    let head = 'POST / HTTP/1.1\r\nX: ';
    head += 'a'.repeat(64 - head.length);
    const bytes = Buffer.from(`${head}\r\n\r\n`);
    assert.equal(readAll('request', bytes, [], false, limits).messages.length, 1);
    for (const cut of [65, 66, 67]) {
      assert.equal(
        readAll('request', bytes, [cut], false, limits).messages.length,
        1,
        `cut at ${cut}`,
      );
    }
  });

  it('obsolete line folding, space before the colon, or no colon → 400', () => {
    refuses('request', 'POST / HTTP/1.1\r\nX-A: one\r\n two\r\n\r\n', 400);
    refuses('request', 'POST / HTTP/1.1\r\nX-A: one\r\n\ttwo\r\n\r\n', 400);
    refuses('request', 'POST / HTTP/1.1\r\nContent-Length : 3\r\n\r\nabc', 400);
    refuses('request', 'POST / HTTP/1.1\r\nContent-Length\t: 3\r\n\r\nabc', 400);
    refuses('request', 'POST / HTTP/1.1\r\nno colon here\r\n\r\n', 400);
    refuses('request', 'POST / HTTP/1.1\r\n: empty name\r\n\r\n', 400);
    refuses('request', 'POST / HTTP/1.1\r\nBad(Name): x\r\n\r\n', 400);
    refuses('response', 'HTTP/1.1 200 OK\r\nX-A: one\r\n two\r\n\r\n', 400);
  });

  it('HTTP/2.0 (or any major version but 1) → 505', () => {
    refuses('request', 'POST / HTTP/2.0\r\n\r\n', 505);
    refuses('request', 'POST / HTTP/0.9\r\n\r\n', 505);
    refuses('response', 'HTTP/2.0 200 OK\r\n\r\n', 505);
  });

  it('a bad request line → 400', () => {
    for (const line of [
      'POST /',
      'POST',
      'POST  / HTTP/1.1',
      'POST / HTTP/1.1 extra',
      'PO(ST / HTTP/1.1',
      ' POST / HTTP/1.1',
      'POST / http/1.1',
      'POST / HTTP/1',
      'POST / HTTP/1.10',
      'POST / HTTP/1.x',
      'hello',
    ]) {
      refuses('request', `${line}\r\nContent-Length: 0\r\n\r\n`, 400);
    }
  });

  it('a bad status line → 502', () => {
    for (const line of [
      'garbage',
      'HTTP/1.1 OK',
      'HTTP/1.1 20 OK',
      'HTTP/1.1 2000 OK',
      'HTTX/1.1 200 OK',
    ]) {
      refuses('response', `${line}\r\n\r\n`, 502);
    }
  });
});

describe('MessageReader: header fields', () => {
  it('names are case-insensitive and repeated fields are joined with ", "', () => {
    const [m] = parse(
      'request',
      'POST / HTTP/1.1\r\nX-Tag: a\r\nHost: h\r\nx-tag: b\r\nX-TAG:c  \r\ncOnTeNt-LeNgTh: 2\r\n\r\nok',
    );
    assert.ok(m);
    assert.deepEqual(m.headers, { 'x-tag': 'a, b, c', host: 'h', 'content-length': '2' });
    assert.equal(m.body.toString(), 'ok', 'framing fields are found whatever their case');
  });

  it('TRANSFER-ENCODING in upper case frames the body too', () => {
    const [m] = parse(
      'request',
      'POST / HTTP/1.1\r\nTRANSFER-ENCODING: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n',
    );
    assert.equal(m?.body.toString(), 'hi');
  });
});

describe('keepsAlive and reason', () => {
  const head = (version: string, connection?: string[]): Head => {
    const lines = (connection ?? []).map((c) => `Connection: ${c}\r\n`).join('');
    const [m] = readAll('request', Buffer.from(`POST / ${version}\r\n${lines}\r\n`)).messages;
    assert.ok(m);
    return m.head;
  };

  it('HTTP/1.1 stays open unless a Connection token is "close"', () => {
    assert.equal(keepsAlive(head('HTTP/1.1')), true);
    assert.equal(keepsAlive(head('HTTP/1.1', ['close'])), false);
    assert.equal(keepsAlive(head('HTTP/1.1', ['Close'])), false);
    assert.equal(keepsAlive(head('HTTP/1.1', ['keep-alive, close'])), false);
    assert.equal(keepsAlive(head('HTTP/1.1', ['upgrade', ' CLOSE '])), false);
    assert.equal(keepsAlive(head('HTTP/1.1', ['keep-alive'])), true);
    assert.equal(keepsAlive(head('HTTP/1.1', ['closed'])), true, 'a token, not a substring');
  });

  it('HTTP/1.0 closes unless a Connection token is "keep-alive"', () => {
    assert.equal(keepsAlive(head('HTTP/1.0')), false);
    assert.equal(keepsAlive(head('HTTP/1.0', ['keep-alive'])), true);
    assert.equal(keepsAlive(head('HTTP/1.0', ['Keep-Alive'])), true);
    assert.equal(keepsAlive(head('HTTP/1.0', ['foo, keep-alive'])), true);
    assert.equal(keepsAlive(head('HTTP/1.0', ['foo', 'keep-alive'])), true);
    assert.equal(keepsAlive(head('HTTP/1.0', ['keep-alive-ish'])), false);
    assert.equal(keepsAlive(head('HTTP/1.0', ['close'])), false);
  });

  it('reason phrases', () => {
    assert.equal(reason(200), 'OK');
    assert.equal(reason(413), 'Content Too Large');
    assert.equal(reason(431), 'Request Header Fields Too Large');
    assert.equal(reason(799), 'Unknown');
  });
});
