import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateEvent } from '../../model/events.ts';
import { readEvents } from '../index.ts';
import { assertTyped, mutatedPayloads } from '../shared/mutate.ts';
import { collect, OWN_FIXTURES } from '../shared/testing.ts';
import { lineWebhook as line, SIGNATURE_HEADER } from './webhook.ts';

const DIR = join(OWN_FIXTURES, 'line');
const FILES = ['webhook_v3.json', 'webhook_legacy.json'];
const load = (f: string) => JSON.parse(readFileSync(join(DIR, f), 'utf8'));

describe('LINE Messaging API webhook', () => {
  it('reads every event of both fixture bodies into valid events or typed rejects', () => {
    const v3 = line.parse(load('webhook_v3.json'));
    const legacy = line.parse(load('webhook_legacy.json'));
    // v3: 28 events, of which 11 are messages (text ×4 incl. a redelivery, image ×2, video, audio,
    // location, sticker, file) and the rest other types or the unknown "undefined".
    expect(v3.events.length + v3.rejects.length).toBe(28);
    expect(v3.events).toHaveLength(11);
    expect(legacy.events.length + legacy.rejects.length).toBe(27);
    expect(legacy.events).toHaveLength(11);
    for (const e of [...v3.events, ...legacy.events]) expect(validateEvent(e).ok).toBe(true);
  });

  it('reads a message: userId as customer, ms timestamps, webhookEventId as id', () => {
    const [e] = line.parse(load('webhook_v3.json')).events;
    expect(e).toEqual({
      kind: 'message',
      id: 'testwebhookeventid',
      ts: 1462629479859,
      channel: 'line',
      customer: { id: 'U206d25c2ea6bd87c17655609a1c37cb8' },
      role: 'customer',
      msgType: 'text',
      text: 'Hello, world',
    });
  });

  it('every message type counts, with its words where it has some', () => {
    const events = line.parse(load('webhook_v3.json')).events as Record<string, unknown>[];
    expect(events.map((e) => e.msgType)).toEqual([
      'text',
      'image',
      'video',
      'voice',
      'location',
      'sticker',
      'text',
      'text',
      'file',
      'image',
      'text',
    ]);
    expect(events[4]!.text).toBe('my location Tokyo');
    expect(events[5]!.text).toBe('Just sticker');
    expect(events[8]!.text).toBe('file.txt');
    // A room message without a userId belongs to the room.
    expect(events[1]!.customer).toEqual({ id: 'Ra8dbf4673c4c812cd491258042226c99' });
  });

  it('a redelivery carries the same id, so it is stored once', () => {
    const body = load('webhook_v3.json');
    const first = body.events[0];
    const again = body.events.find(
      (e: { deliveryContext?: { isRedelivery?: boolean }; type: string }) =>
        e.type === 'message' && e.deliveryContext?.isRedelivery,
    );
    expect(again).toBeDefined();
    const ids = line.parse({ destination: 'U1', events: [first, again] }).events.map((e) => e.id);
    expect(new Set(ids).size).toBe(1);
  });

  it('names the type of every event that is not a message, and says when it is unknown', () => {
    const reasons = line.parse(load('webhook_v3.json')).rejects.map((r) => r.reason);
    expect(reasons).toContain(
      'LINE follow event: the user added the account as a friend, not a chat message',
    );
    expect(reasons).toContain('LINE unsend event: the user unsent an earlier message, not a chat message');
    expect(reasons).toContain(
      'LINE messageEdited event: an edit of an earlier message, not a new one, not a chat message',
    );
    expect(reasons).toContain('unknown LINE event type "undefined"');
    for (const t of [
      'unfollow',
      'join',
      'leave',
      'postback',
      'beacon',
      'accountLink',
      'memberJoined',
      'memberLeft',
    ])
      expect(reasons.some((r) => r.startsWith(`LINE ${t} event`))).toBe(true);
  });

  it('verifies X-Line-Signature = base64(HMAC-SHA256(channel secret, body))', () => {
    const raw = readFileSync(join(DIR, 'webhook_v3.json'));
    const good = createHmac('sha256', 'channel-secret').update(raw).digest('base64');
    const req = (s?: string) => ({ headers: s ? { [SIGNATURE_HEADER]: s } : {}, body: raw, query: {} });
    expect(line.verify(req(good), { secret: 'channel-secret', options: {} })).toBeNull();
    expect(line.verify(req(good), { secret: 'other-secret', options: {} })).toMatch(/does not match/);
    const tampered = { ...req(good), body: Buffer.concat([raw, Buffer.from(' ')]) };
    expect(line.verify(tampered, { secret: 'channel-secret', options: {} })).toMatch(/does not match/);
    expect(line.verify(req(), { secret: 'channel-secret', options: {} })).toMatch(/missing/);
  });

  it('imports the fixture files with --format auto', async () => {
    for (const f of FILES) {
      const got = await collect(readEvents(join(DIR, f), 'auto'));
      expect(got.items, f).toHaveLength(11);
      expect(
        got.rejects.every((r) => r.reason.startsWith('line events[')),
        f,
      ).toBe(true);
    }
  });

  it('survives 10,000 mutated bodies with only valid events or typed rejects', () => {
    const bases = FILES.flatMap((f) => {
      const body = load(f);
      // Single-event bodies keep the mutations on the parts that matter.
      return [body, ...body.events.map((e: unknown) => ({ destination: body.destination, events: [e] }))];
    });
    fc.assert(
      fc.property(mutatedPayloads(bases), (doc) => assertTyped(line.parse(doc))),
      { numRuns: 10_000 },
    );
  });
});
