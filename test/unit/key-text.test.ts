import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeBadKey } from '../../src/crypto/key-text.js';
import { generateKey } from '../../src/index.js';

const KEY = '00112233445566778899aabbccddeeff';

describe('describeBadKey', () => {
  it('has nothing to say about a valid key, in either case', () => {
    assert.equal(describeBadKey(KEY), '');
    assert.equal(describeBadKey(KEY.toUpperCase()), '');
    assert.equal(describeBadKey(generateKey()), '');
  });

  it('names the first character that is not hex and its position, counted from 1', () => {
    assert.equal(
      describeBadKey(`0011g${KEY.slice(5)}`),
      "must be 32 hex characters: 'g' at position 5 is not hex",
    );
    assert.equal(
      describeBadKey(`${KEY.slice(0, 31)}z`),
      "must be 32 hex characters: 'z' at position 32 is not hex",
    );
  });

  it('gives the length of a key that is too short or too long', () => {
    assert.equal(
      describeBadKey(KEY.slice(0, 30)),
      'must be 32 hex characters (16 bytes), got 30 characters',
    );
    assert.equal(describeBadKey(''), 'must be 32 hex characters (16 bytes), got 0 characters');
    assert.equal(
      describeBadKey(`${KEY}00`),
      'must be 32 hex characters (16 bytes), got 34 characters',
    );
  });

  it('gives both when both are wrong, escaping what a reader would not see', () => {
    // `$(cat key)` strips the newline; reading the file some other way may not.
    assert.equal(
      describeBadKey(`${KEY}\n`),
      "must be 32 hex characters (16 bytes), got 33 characters; '\\n' at position 33 is not hex",
    );
    assert.equal(
      describeBadKey(`\ufeff${KEY}`),
      "must be 32 hex characters (16 bytes), got 33 characters; '\\ufeff' at position 1 is not hex",
    );
    assert.equal(
      describeBadKey('my password'),
      "must be 32 hex characters (16 bytes), got 11 characters; 'm' at position 1 is not hex",
    );
  });

  it('counts characters, not UTF-16 units, and shows at most one of them', () => {
    const key = `${KEY.slice(0, 10)}🔑${KEY.slice(11)}`;
    assert.equal(describeBadKey(key), "must be 32 hex characters: '🔑' at position 11 is not hex");
    assert.ok(!describeBadKey(`${KEY.slice(0, 31)}x`).includes(KEY.slice(0, 4)));
  });
});
