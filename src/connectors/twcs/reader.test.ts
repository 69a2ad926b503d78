import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateEvent } from '../../model/events.ts';
import { collect, OWN_FIXTURES, sharedTwcsDir } from '../shared/testing.ts';
import { buildThreads, normaliseTweetId, readTwcs, readTwcsFile, type TwcsTweet } from './reader.ts';
import { agentAccount, parseSignature } from './signature.ts';

const SMALL = join(OWN_FIXTURES, 'twcs_small.csv');
const TWCS = sharedTwcsDir();
if (!TWCS) console.log('shared/fixtures/twcs not found: skipping the real-data twcs tests');

type Msg = Record<string, unknown> & { id: string; customer?: { id: string } };

describe('twcs signatures', () => {
  it.each([
    ['@105835 Please DM us your details. ^RR https://t.co/znUu1VJn9r', '^', 'RR'],
    ['@105836 Have you tried from another device, Miriam ^MM', '^', 'MM'],
    ['Does this link help https://t.co/0m2mpH15eh ? ^MM', '^', 'MM'],
    ['sorry for any inconvenience the delay has caused. 2/2 ^JR', '^', 'JR'],
    ['thanks ^sp', '^', 'sp'],
    ['Let us know. -Becky', '-', 'Becky'],
    ['check it out - Paige', '-', 'Paige'],
    ['This should fix it. Thanks - Lee 2/2', '-', 'Lee'],
    ['we can set up a return for you. -E (2/2)', '-', 'E'],
    ['thanks --JV', '-', 'JV'],
  ])('%s', (text, marker, name) => {
    expect(parseSignature(text)).toEqual({ marker, name });
  });

  it.each([
    ['Join us in DM. https://t.co/GDrqU22YpT'],
    ['keep up the good work guys. Steven'],
    ['Switch to T-Mobile'],
    ['works on Wi-Fi'],
    ['read this and/OR'],
    ['great - Thanks'],
    [''],
  ])('no signature: %s', (text) => {
    expect(parseSignature(text)).toBeNull();
  });

  it('makes the account unique per brand', () => {
    expect(agentAccount('AppleSupport', 'hi ^JK')).toBe('AppleSupport ^JK');
    // Outside the contract's two conventions: the brand account itself (METRICS.md twcs mapping).
    expect(agentAccount('Delta', 'hi *AST')).toBe('Delta');
    expect(agentAccount('British_Airways', 'Kind Regards ^Jools')).toBe('British_Airways');
    expect(agentAccount('AppleSupport', 'Join us in DM.')).toBe('AppleSupport');
  });

  it('stays fast on a hostile megabyte of spaces', () => {
    const t0 = Date.now();
    expect(parseSignature(`a${' '.repeat(1_000_000)}x`)).toBeNull();
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});

describe('twcs ids', () => {
  it('reads pandas floats as integers', () => {
    expect(normaliseTweetId('3.0')).toBe('3');
    expect(normaliseTweetId('119237')).toBe('119237');
    expect(normaliseTweetId(' 42.000 ')).toBe('42');
    expect(normaliseTweetId('2.98795e+06')).toBe('2987950');
    expect(normaliseTweetId('3.5')).toBeNull();
    expect(normaliseTweetId('abc')).toBeNull();
    expect(normaliseTweetId('')).toBeNull();
  });
});

describe('twcs reader on a hand-written file', () => {
  it('builds threads, brands, customers and agents', async () => {
    const r = await readTwcsFile(SMALL);
    const byId = new Map(r.items.map((i) => [(i.raw as Msg).id, i.raw as Msg]));
    expect(r.stats).toMatchObject({
      rows: 14,
      messages: 9,
      threads: 3,
      skippedThreads: 1,
      skippedMessages: 1,
      rejectedRows: 4,
    });

    // Thread rooted at 11: the brand is the author of the first brand tweet; ids "11.0" → "11".
    expect(byId.get('10')).toMatchObject({
      source: 'twcs',
      role: 'agent',
      channel: 'AcmeCare',
      conversationId: '11',
      account: 'AcmeCare ^JK',
      accountName: 'AcmeCare ^JK',
      customer: { id: '900' },
      ts: Date.UTC(2017, 9, 31, 22, 10, 47),
    });
    expect(byId.get('11')).toMatchObject({
      role: 'customer',
      channel: 'AcmeCare',
      conversationId: '11',
      customer: { id: '900' },
    });
    // A bare \r\r inside an unquoted field is data, not a row break.
    expect(byId.get('12')).toMatchObject({ text: '@AcmeCare done\r\rthanks', conversationId: '11' });
    expect(byId.get('13')).toMatchObject({
      account: 'AcmeCare -Becky',
      text: '@900 Got it, we will check -Becky https://t.co/abc',
    });

    // No brand tweet: the first @mention of a known brand in the root (case-insensitive).
    expect(byId.get('20')).toMatchObject({
      channel: 'AcmeCare',
      conversationId: '20',
      role: 'customer',
      customer: { id: '901' },
    });
    expect(byId.get('21')).toMatchObject({ channel: 'AcmeCare', conversationId: '20' });

    // Brand-to-brand: AcmeCare writing inbound into OtherBrand's thread is a customer there.
    expect(byId.get('40')).toMatchObject({
      channel: 'OtherBrand',
      account: 'OtherBrand',
      customer: { id: '903' },
    });
    expect(byId.get('42')).toMatchObject({
      channel: 'OtherBrand',
      role: 'customer',
      customer: { id: 'AcmeCare' },
    });
    expect(byId.get('42')!.account).toBeUndefined();

    expect(byId.has('30')).toBe(false);
    const reasons = r.rejects.map((x) => `${x.line}: ${x.reason}`);
    expect(reasons).toEqual([
      expect.stringMatching(/^8: thread 30 skipped \(1 tweet\): no brand reply/),
      '12: created_at: expected a date like "Tue Oct 31 22:10:47 +0000 2017", got "not a date"',
      '13: tweet_id: duplicate of the tweet on line 2',
      '14: tweet_id: expected a tweet id like "119237" or "3.0", got "abc"',
      '15: inbound: expected True or False, got "maybe"',
    ]);
    for (const it of r.items) expect(validateEvent(it.raw)).toMatchObject({ ok: true });
  });

  it('batches items and rejects in file order', async () => {
    const c = await collect(readTwcs(SMALL, { batchSize: 4 }));
    expect(c.items).toHaveLength(9);
    expect(c.rejects).toHaveLength(5);
    expect(c.batches.every((b) => b.items.length + b.rejects.length <= 4)).toBe(true);
    const spans = c.batches.map((b) => {
      const lines = [...b.items.map((i) => i.line), ...b.rejects.map((x) => x.line)];
      return [Math.min(...lines), Math.max(...lines)] as const;
    });
    for (let k = 1; k < spans.length; k++) expect(spans[k]![0]).toBeGreaterThan(spans[k - 1]![1]);
  });

  it('survives reply cycles', () => {
    const t = (id: string, parent: string, inbound: boolean, author: string): TwcsTweet => ({
      line: Number(id),
      id,
      author,
      inbound,
      ts: 1_509_487_847_000 + Number(id),
      text: '@x hi',
      parent,
    });
    const r = buildThreads('cycle.csv', [
      t('1', '2', true, '5'),
      t('2', '3', false, 'Brand'),
      t('3', '1', true, '5'),
    ]);
    expect(r.stats.threads).toBe(1);
    expect(new Set(r.items.map((i) => i.raw.conversationId)).size).toBe(1);
  });
});

describe.skipIf(!TWCS)('twcs reader on shared/fixtures/twcs', () => {
  it('kaggle_sample.csv: 93 messages in 27 threads of 13 brands', async () => {
    const r = await readTwcsFile(join(TWCS!, 'kaggle_sample.csv'));
    expect(r.stats).toMatchObject({
      rows: 93,
      messages: 93,
      threads: 27,
      skippedThreads: 0,
      rejectedRows: 0,
      brands: 13,
    });
    const byId = new Map(r.items.map((i) => [(i.raw as Msg).id, i.raw as Msg]));
    // 119238 (ChaseSupport, "^RR") answers 119239, the root, by customer 105835.
    expect(byId.get('119238')).toMatchObject({
      role: 'agent',
      channel: 'ChaseSupport',
      conversationId: '119239',
      account: 'ChaseSupport ^RR',
      customer: { id: '105835' },
      ts: Date.UTC(2017, 9, 11, 13, 25, 49),
    });
    expect(byId.get('119239')).toMatchObject({
      role: 'customer',
      channel: 'ChaseSupport',
      customer: { id: '105835' },
    });
    // VirginTrains thread: 119243 → 119241 → 119240 → 119242 → 119246, the earliest tweet in the file.
    expect(byId.get('119243')).toMatchObject({
      channel: 'VirginTrains',
      account: 'VirginTrains ^MM',
      conversationId: '119246',
    });
    expect(byId.get('119240')).toMatchObject({ conversationId: '119246', account: 'VirginTrains' });
    expect(byId.get('119335')).toMatchObject({ channel: 'Tesco', account: 'Tesco -Lee' });
    expect(byId.get('119248')).toMatchObject({ channel: 'AppleSupport', account: 'AppleSupport' });
    for (const it of r.items) expect(validateEvent(it.raw)).toMatchObject({ ok: true });
  });

  it('monalisapatra26 first 5000: contiguous threads, tweet 3399 intact', async () => {
    const r = await readTwcsFile(join(TWCS!, 'monalisapatra26_twcs_first5000.csv'));
    expect(r.stats).toMatchObject({
      rows: 5000,
      messages: 5000,
      threads: 1312,
      skippedThreads: 0,
      rejectedRows: 0,
      brands: 76,
    });
    const t3399 = r.items.find((i) => (i.raw as Msg).id === '3399')!;
    expect(t3399.line).toBe(2589);
    expect(t3399.raw).toMatchObject({
      role: 'customer',
      channel: 'AskPayPal',
      customer: { id: '116510' },
      text: '@AskPayPal \r\rI just love the start of email 😁 https://t.co/8u1Pf5rJoN',
      ts: Date.UTC(2017, 9, 31, 18, 13, 6),
    });
    // The row after it is a row of its own, not the tail of 3399.
    const next = r.items.find((i) => i.line === 2590)!;
    expect(typeof (next.raw as Msg).id).toBe('string');
    expect((next.raw as Msg).id).not.toBe('3399');
    // Tweet 1 (sprintcare) answers 3, which answers 4 … the thread roots at its earliest tweet in the file.
    const t1 = r.items.find((i) => (i.raw as Msg).id === '1')!.raw as Msg;
    expect(t1).toMatchObject({ channel: 'sprintcare', customer: { id: '115712' } });
    for (const it of r.items) expect(validateEvent(it.raw)).toMatchObject({ ok: true });
  });

  it('divya-gh random 5000: broken threads, some skipped', async () => {
    const r = await readTwcsFile(join(TWCS!, 'divya-gh_twcs_random5000.csv'));
    expect(r.stats).toMatchObject({
      rows: 5000,
      messages: 4348,
      threads: 4344,
      skippedThreads: 652,
      skippedMessages: 652,
      rejectedRows: 0,
      brands: 100,
    });
    expect(r.rejects).toHaveLength(652);
    expect(r.rejects.every((x) => /^thread \d+ skipped/.test(x.reason))).toBe(true);
    for (const it of r.items) expect(validateEvent(it.raw)).toMatchObject({ ok: true });
  });
});
