import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashOf, held, placeholder, supersedes } from '../../src/node/states.js';

const at = (lastUpdate: number, stateJson: string) =>
  held({ nodeId: 'a', lastUpdate, sig: new Uint8Array(64), stateJson }, new Map());

describe('which held state wins', () => {
  it('a newer state replaces an older one, never the reverse', () => {
    const older = at(10, '{"k": "zzz"}');
    const newer = at(11, '{"k": "a"}');
    assert.equal(supersedes(newer, older), true);
    assert.equal(supersedes(older, newer), false);
    assert.equal(supersedes(older, placeholder('a')), true);
  });

  it('at the same last_update the higher SHA-256 of the text wins, from either side', () => {
    const x = at(10, '{"k": "1"}');
    const y = at(10, '{"k": "2"}');
    const [high, low] = hashOf(x.packet.stateJson) > hashOf(y.packet.stateJson) ? [x, y] : [y, x];
    assert.equal(supersedes(high, low), true);
    assert.equal(supersedes(low, high), false);
    // The very same text is no news.
    assert.equal(supersedes(at(10, '{"k": "1"}'), x), false);
  });
});
