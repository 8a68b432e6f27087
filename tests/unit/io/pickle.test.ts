import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { AhsError } from '../../../src/errors.js';
import { OpaqueObject, unpickle } from '../../../src/io/pickle.js';
import { assertAhsError, expected, fixture } from './helpers.js';

interface PickleExpected {
  ints: string[];
  floats: number[];
  text: string[];
  bytes_hex: string[];
}
const EXP = expected<PickleExpected>('pickles.expected.json');
const P = (s: string): Buffer => Buffer.from(s, 'latin1');

for (let proto = 0; proto <= 5; proto++) {
  test(`protocol ${proto}: Python values come back with the right JS types`, () => {
    const v = unpickle(fs.readFileSync(fixture(`protocol${proto}.pkl`)), { source: `protocol${proto}.pkl` }) as Map<unknown, unknown>;
    assert.ok(v instanceof Map);
    // OrderedDict order is part of the contract (state-dict order).
    assert.deepEqual([...v.keys()], ['none', 't', 'f', 'ints', 'floats', 'text', 'bytes', 'tuples', 'set', 'frozenset', 'nested', 3]);
    assert.equal(v.get('none'), null);
    assert.equal(v.get('t'), true);
    assert.equal(v.get('f'), false);
    // Ints beyond 2^53 must be bigint, not a rounded number.
    assert.deepEqual((v.get('ints') as (number | bigint)[]).map(String), EXP.ints);
    assert.ok((v.get('ints') as unknown[]).slice(0, 10).every((x) => typeof x === 'number'));
    assert.deepEqual(v.get('floats'), EXP.floats);
    assert.deepEqual(v.get('text'), EXP.text);
    assert.deepEqual((v.get('bytes') as Buffer[]).map((b) => b.toString('hex')), EXP.bytes_hex);
    assert.ok((v.get('bytes') as unknown[]).every((b) => Buffer.isBuffer(b)));
    assert.deepEqual(v.get('tuples'), [[], [1], [1, 2], [1, 2, 3], [1, 2, 3, 4]]);
    assert.deepEqual(v.get('set'), new Set([7]));
    assert.deepEqual(v.get('frozenset'), new Set(['z']));
    const b = ((v.get('nested') as Map<string, Map<string, unknown[]>>).get('a')!).get('b')!;
    assert.deepEqual(b, [[1, 2], [1, 2]]);
    assert.equal(b[0], b[1], 'the memo shares one object, as Python does');
    assert.equal(v.get(3), 'int key');
  });
}

test('unknown globals are never executed: REDUCE gives an opaque record of the call', () => {
  const v = unpickle(P('\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00ls\x85R.'), { source: 'evil.pkl' });
  assert.ok(v instanceof OpaqueObject);
  assert.equal(v.__class__, 'os.system');
  assert.deepEqual(v.args, ['ls']);
});

test('NEWOBJ + BUILD and copyreg._reconstructor keep class name and state', () => {
  const a = unpickle(P('\x80\x04\x8c\x08mymodule\x8c\x03Cls\x93)\x81}\x8c\x01aK\x01sb.'), { source: 'a.pkl' }) as OpaqueObject;
  assert.equal(a.__class__, 'mymodule.Cls');
  assert.deepEqual(a.state, new Map([['a', 1]]));
  const b = unpickle(P('\x80\x02ccopy_reg\n_reconstructor\n(c__main__\nFoo\nc__builtin__\nobject\nNtR}X\x01\x00\x00\x00xK\x02sb.'), { source: 'b.pkl' }) as OpaqueObject;
  assert.equal(b.__class__, '__main__.Foo');
  assert.deepEqual(b.state, new Map([['x', 2]]));
  // A dict subclass: SETITEMS go to .items instead of failing.
  const c = unpickle(P('\x80\x02cm\nD\n)\x81(X\x01\x00\x00\x00kK\x07u.'), { source: 'c.pkl' }) as OpaqueObject;
  assert.deepEqual(c.items, new Map([['k', 7]]));
});

test('malformed pickles name the file, the problem and the byte', () => {
  const cases: [string, RegExp][] = [
    ['\x80\x02\x82\x01.', /unsupported pickle opcode 0x82 \(at byte 2\)/],
    ['\x80\x02\xff', /unsupported pickle opcode 0xff/],
    ['\x80\x06.', /unsupported pickle protocol 6/],
    ['\x80\x02h\x05.', /memo key 5 missing/],
    ['\x80\x02.', /stack underflow/],
    ['\x80\x02X\x01\x00\x00\x00aQ.', /persistent id/],
    ['\x80\x04\x8d\x00\x00\x00\x00\x00\x01\x00\x00', /exceeds the pickle size/],
    ['\x80\x02X\xff\xff\xff\x7fab', /needs 2147483647 more bytes/],
    ['\x80\x02K\x00K\x01K\x02s.', /SETITEM on a number/],
    ['\x80\x02cos\nsys', /unterminated text line/],
  ];
  for (const [bytes, re] of cases) assertAhsError(() => unpickle(P(bytes), { source: 'bad.pkl' }), 'AHS_ERR_FILE_FORMAT', 'bad.pkl', re);
});

test('every truncation and byte flip of a real pickle fails cleanly (AhsError) or decodes', () => {
  for (const proto of [2, 4]) {
    const good = fs.readFileSync(fixture(`protocol${proto}.pkl`));
    for (let cut = 0; cut < good.length; cut++) {
      // A prefix lacks STOP, so it must always be an error; a hang or TypeError is a bug.
      assertAhsError(() => unpickle(good.subarray(0, cut), { source: 'cut.pkl' }), 'AHS_ERR_FILE_FORMAT', 'cut.pkl');
    }
    for (let i = 0; i < good.length; i++) {
      const bad = Buffer.from(good);
      bad[i] ^= 0x5a;
      try {
        unpickle(bad, { source: 'flip.pkl' });
      } catch (err) {
        assert.ok(err instanceof AhsError && err.message.includes('flip.pkl'), `byte ${i}: ${String(err)}`);
      }
    }
  }
});
