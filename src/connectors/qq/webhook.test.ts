import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateEvent } from '../../model/events.ts';
import { readEvents } from '../index.ts';
import { assertTyped, mutatedPayloads } from '../shared/mutate.ts';
import { collect, OWN_FIXTURES } from '../shared/testing.ts';
import type { WebhookRequest } from '../webhooks.ts';
import { seedOf, signHex, verifyHex } from './ed25519.ts';
import { qqWebhook as qq, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './webhook.ts';

const DIR = join(OWN_FIXTURES, 'qq');
const FILES = readdirSync(DIR).filter((f) => f.endsWith('.json'));
const raw = (name: string) => readFileSync(join(DIR, `${name}.json`));
const load = (name: string) => JSON.parse(raw(name).toString('utf8'));
const SECRET = 'naOC0ocQE3shWLAfffVLB1rhYPG7';
const creds = { secret: SECRET, options: {} };
const signed = (body: Buffer, ts = '1725442341', secret = SECRET): WebhookRequest => ({
  headers: {
    [TIMESTAMP_HEADER]: ts,
    [SIGNATURE_HEADER]: signHex(secret, Buffer.concat([Buffer.from(ts), body])),
  },
  body,
  query: {},
});

describe('QQ bot webhook', () => {
  it('reads every fixture into valid events or typed rejects', () => {
    for (const f of FILES) {
      const r = qq.parse(JSON.parse(readFileSync(join(DIR, f), 'utf8')));
      expect(r.events.length + r.rejects.length, f).toBe(1);
      for (const e of r.events) expect(validateEvent(e).ok, f).toBe(true);
    }
  });

  it('a private (C2C) message: the user openid is the customer, the +08:00 time is read as such', () => {
    expect(qq.parse(load('c2c_message_create')).events).toEqual([
      {
        kind: 'message',
        id: 'ROBOT1.0_kxjbw5wbfxwgrpvn2h4ryq3e8o4kqq8g',
        ts: Date.UTC(2025, 10, 3, 2, 0, 0),
        channel: 'qq',
        customer: { id: 'E4F4AEA33253A2797FB897C50B81D7ED' },
        role: 'customer',
        msgType: 'text',
        text: '你好，我的订单还没发货',
      },
    ]);
  });

  it('group @, guild @ and guild private messages; attachments set the msgType', () => {
    expect(qq.parse(load('group_at_message_create')).events[0]).toMatchObject({
      customer: { id: 'C9F778FE6ADF9D1D1DBE395BF744A33A' },
      text: '退款多久到账？',
    });
    expect(qq.parse(load('at_message_create')).events[0]).toMatchObject({
      customer: { id: '1234567890123456789', name: '小明' },
      ts: Date.UTC(2025, 10, 3, 4, 0, 0),
    });
    expect(qq.parse(load('direct_message_create')).events[0]).toMatchObject({ text: '发票在哪里开' });
    const image = qq.parse(load('c2c_message_image')).events[0] as Record<string, unknown>;
    expect(image).toMatchObject({ msgType: 'image' });
    expect(image.text).toBeUndefined();
    expect(qq.parse(load('friend_add')).rejects[0]!.reason).toBe(
      'QQ event "FRIEND_ADD" is not a chat message',
    );
    expect(qq.parse(load('validation')).rejects[0]).toMatchObject({
      at: 'op 13',
      reason: 'the URL check, not an event',
    });
    const fromBot = load('at_message_create');
    fromBot.d.author.bot = true;
    expect(qq.parse(fromBot).rejects[0]!.reason).toMatch(/another bot/);
  });

  it('derives the Ed25519 key from the secret and signs the URL check as the documentation shows', () => {
    expect(seedOf('DG5g3B4j9X2KOErG').toString()).toBe('DG5g3B4j9X2KOErGDG5g3B4j9X2KOErG');
    expect(seedOf(SECRET).toString()).toBe('naOC0ocQE3shWLAfffVLB1rhYPG7naOC');
    // The platform documentation's example: secret, event_ts + plain_token → this signature.
    const body = Buffer.from(
      JSON.stringify({ d: { plain_token: 'Arq0D5A61EgUu4OxUvOp', event_ts: '1725442341' }, op: 13 }),
    );
    const req: WebhookRequest = { headers: {}, body, query: {} };
    const docCreds = { secret: 'DG5g3B4j9X2KOErG', options: {} };
    expect(qq.verify(req, docCreds)).toBeNull();
    expect(qq.open!(req, docCreds)).toEqual({
      reply: {
        status: 200,
        body: {
          plain_token: 'Arq0D5A61EgUu4OxUvOp',
          signature:
            '87befc99c42c651b3aac0278e71ada338433ae26fcb24307bdc5ad38c1adc2d01bcfcadc0842edac85e85205028a1132afe09280305f13aa6909ffc2d652c706',
        },
      },
    });
  });

  it('refuses to sign an unsigned URL check whose token could be replayed as a body', () => {
    const forged = JSON.stringify({ op: 0, t: 'C2C_MESSAGE_CREATE', d: { id: 'x' } });
    const body = Buffer.from(JSON.stringify({ op: 13, d: { plain_token: forged, event_ts: '1725442341' } }));
    expect(qq.verify({ headers: {}, body, query: {} }, creds)).toMatch(/missing/);
    expect(qq.open!({ headers: {}, body, query: {} }, creds)).toHaveProperty('error');
  });

  it('verifies X-Signature-Ed25519 over timestamp + body', () => {
    const body = raw('c2c_message_create');
    expect(qq.verify(signed(body), creds)).toBeNull();
    expect(qq.verify(signed(body, '1725442341', 'another-secret'), creds)).toMatch(/does not match/);
    const moved = signed(body);
    moved.headers[TIMESTAMP_HEADER] = '1725442342';
    expect(qq.verify(moved, creds)).toMatch(/does not match/);
    expect(qq.verify({ ...signed(body), body: Buffer.concat([body, Buffer.from(' ')]) }, creds)).toMatch(
      /does not match/,
    );
    expect(qq.verify({ headers: {}, body, query: {} }, creds)).toMatch(/missing/);
    expect(verifyHex(SECRET, body, 'zz')).toBe(false);
    expect(qq.ack).toEqual({ status: 200, body: { op: 12 } });
  });

  it('imports the fixture files with --format auto', async () => {
    let items = 0;
    for (const f of FILES) {
      const got = await collect(readEvents(join(DIR, f), 'auto'));
      for (const r of got.rejects) expect(r.reason, f).toMatch(/^qq /);
      items += got.items.length;
    }
    expect(items).toBe(5);
  });

  it('survives 10,000 mutated payloads with only valid events or typed rejects', () => {
    const bases = FILES.map((f) => JSON.parse(readFileSync(join(DIR, f), 'utf8')));
    fc.assert(
      fc.property(mutatedPayloads(bases), (doc) => assertTyped(qq.parse(doc))),
      { numRuns: 10_000 },
    );
  });
});
