import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalEventSchema, validateEvent } from './events.ts';
import { fastEvent } from './events-fast.ts';

/** Strings near the limits the schemas set, and values of the wrong type. */
const anyValue = fc.oneof(
  fc.string({ maxLength: 3 }),
  fc.string({ minLength: 95, maxLength: 105 }),
  fc.string({ minLength: 195, maxLength: 205 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.array(fc.string({ maxLength: 3 }), { maxLength: 3 }),
  fc.constant({}),
);

const tags = fc.oneof(fc.array(fc.string({ maxLength: 5 }), { maxLength: 4 }), anyValue);
const customer = fc.oneof(
  fc.record(
    {
      id: fc.oneof(fc.string({ minLength: 1, maxLength: 8 }), fc.integer()),
      name: fc.string(),
      region: fc.string(),
      tags,
    },
    { requiredKeys: ['id'] },
  ),
  fc.record({ id: fc.string({ minLength: 1, maxLength: 8 }), extra: fc.string() }),
  anyValue,
);
const ts = fc.oneof(
  fc.integer({ min: 1_600_000_000, max: 1_900_000_000 }),
  fc.integer({ min: 1_600_000_000_000, max: 1_900_000_000_000 }),
  fc.constantFrom(
    '2025-11-05 14:30:00',
    '2025-11-05T14:30:00+08:00',
    'Tue Oct 31 22:10:47 +0000 2017',
    'soon',
    '',
  ),
  anyValue,
);

/** Events of every kind with well-formed values for the fields of any kind. */
const wellFormed = fc.record(
  {
    id: fc.oneof(fc.string({ minLength: 1, maxLength: 10 }), fc.integer()),
    source: fc.constantFrom('demo', 'wecom'),
    kind: fc.constantFrom('message', 'assignment', 'close', 'rating', 'order', 'ticket', 'presence'),
    ts: fc.oneof(
      fc.integer({ min: 1_600_000_000, max: 1_900_000_000 }),
      fc.integer({ min: 1_600_000_000_000, max: 1_900_000_000_000 }),
    ),
    channel: fc.constantFrom('web', 'wecom_kf'),
    conversationId: fc.oneof(fc.string({ minLength: 1, maxLength: 6 }), fc.integer()),
    customer: fc.record(
      {
        id: fc.string({ minLength: 1, maxLength: 8 }),
        name: fc.string(),
        region: fc.string(),
        tags: fc.array(fc.string({ maxLength: 5 }), { maxLength: 4 }),
      },
      { requiredKeys: ['id'] },
    ),
    tags: fc.array(fc.string({ maxLength: 5 }), { maxLength: 4 }),
    role: fc.constantFrom('customer', 'agent', 'bot', 'system'),
    account: fc.string({ minLength: 1, maxLength: 8 }),
    accountName: fc.string(),
    msgType: fc.constantFrom('text', 'image'),
    text: fc.string(),
    transfer: fc.boolean(),
    resolved: fc.boolean(),
    score: fc.oneof(fc.integer({ min: 0, max: 10 }), fc.constantFrom('满意', 'good')),
    scale: fc.constantFrom('5', '10', 'good_bad'),
    comment: fc.string(),
    type: fc.constantFrom('order', 'inquiry'),
    amount: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer()),
  },
  { requiredKeys: ['kind', 'id', 'ts', 'channel'] },
);

const FIELDS = [
  'id',
  'source',
  'kind',
  'ts',
  'channel',
  'conversationId',
  'customer',
  'tags',
  'role',
  'account',
  'accountName',
  'msgType',
  'text',
  'transfer',
  'resolved',
  'score',
  'scale',
  'comment',
  'type',
  'amount',
  'unknownField',
];

/** A well-formed event with up to three fields replaced by odd values (or a key it should not have). */
const eventLike = fc
  .tuple(
    wellFormed,
    fc.array(fc.tuple(fc.constantFrom(...FIELDS), fc.oneof(anyValue, ts, customer, tags)), { maxLength: 3 }),
  )
  .map(([e, mutations]) => {
    // Only the fields of its kind, as a connector would write them.
    const schema = canonicalEventSchema.options.find((s) => s.shape.kind.value === e.kind)!;
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(e)) if (k in schema.shape) o[k] = v;
    for (const [k, v] of mutations) o[k] = v;
    return o;
  });

describe('the fast path of event validation', () => {
  it('accepts only what zod accepts, and returns exactly what zod returns (property)', () => {
    let fastHits = 0;
    fc.assert(
      fc.property(eventLike, (raw) => {
        const fast = fastEvent(raw);
        const slow = canonicalEventSchema.safeParse(raw);
        if (fast === null) return;
        fastHits++;
        expect(slow.success).toBe(true);
        if (slow.success) expect(fast).toEqual(slow.data);
      }),
      { numRuns: 20_000 },
    );
    // The generator must reach the fast path often enough for the property to mean something.
    expect(fastHits).toBeGreaterThan(2_000);
  });

  it('takes the canonical events of a bulk import and leaves odd ones to zod', () => {
    const message = {
      id: 'm1',
      source: 'demo',
      kind: 'message',
      ts: 1762324200,
      channel: 'wecom_kf',
      conversationId: 'S1',
      customer: { id: 'wm_1', region: '北京', tags: ['VIP'] },
      role: 'customer',
      text: '在吗',
    };
    expect(fastEvent(message)).toEqual({ ...message, ts: 1762324200000, msgType: 'text' });
    expect(fastEvent({ kind: 'order', id: 7, ts: 1762324200000, channel: 'shop' })).toEqual({
      kind: 'order',
      id: '7',
      ts: 1762324200000,
      channel: 'shop',
      type: 'order',
      amount: 0,
    });
    // Declined by the fast path; zod keeps the verdict and names the field.
    expect(fastEvent({ ...message, extra: 1 })).toBeNull();
    expect(fastEvent({ ...message, role: 'robot' })).toBeNull();
    expect(validateEvent({ ...message, role: 'robot' })).toMatchObject({ ok: false, reason: /^role: / });
  });
});
