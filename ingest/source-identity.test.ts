import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { IdsAfter, eventId } from './source-identity.ts';

describe('IdsAfter', () => {
  it('gives the id eventId gives the whole key, the common start hashed once', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.array(fc.string({ unit: 'binary' }), { maxLength: 4 }), (prefix, rests) => {
        const ids = new IdsAfter(prefix);
        for (const rest of rests) assert.equal(ids.id(rest), eventId(`${prefix}${rest}`));
      }),
      { numRuns: 5000 },
    );
    // an audit event's id as Elasticsearch already holds it (see fuzz.test.ts)
    assert.equal(new IdsAfter('a|b|').id('c:1'), '18k6km7lb290p72s11d513');
  });
});
