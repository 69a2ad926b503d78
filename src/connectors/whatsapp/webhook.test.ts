import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateEvent } from '../../model/events.ts';
import { readEvents } from '../index.ts';
import { assertTyped, mutatedPayloads } from '../shared/mutate.ts';
import { collect, OWN_FIXTURES } from '../shared/testing.ts';
import { SIGNATURE_HEADER, whatsappWebhook as wa } from './webhook.ts';

const DIR = join(OWN_FIXTURES, 'whatsapp');
const file = (name: string) => JSON.parse(readFileSync(join(DIR, `pywa_updates_${name}.json`), 'utf8'));
const body = (name: string, key: string) => file(name)[key];

describe('WhatsApp Cloud API webhook', () => {
  it('reads every fixture body into valid events or typed rejects', () => {
    let events = 0;
    let bodies = 0;
    for (const f of readdirSync(DIR).filter((n) => n.endsWith('.json'))) {
      for (const [k, b] of Object.entries(JSON.parse(readFileSync(join(DIR, f), 'utf8')))) {
        bodies++;
        const r = wa.parse(b);
        expect(r.events.length + r.rejects.length, `${f} ${k}`).toBeGreaterThan(0);
        for (const e of r.events) expect(validateEvent(e).ok, `${f} ${k}`).toBe(true);
        events += r.events.length;
      }
    }
    expect(bodies).toBe(42);
    // 23 inbound kinds less 3 reactions, plus 2 system notices, 3 buttons/replies, 2 selections,
    // the order event and one echo.
    expect(events).toBe(20 + 2 + 3 + 2 + 1 + 1);
  });

  it('reads a customer text: wa_id, profile name, seconds to ms, the wamid as id', () => {
    const [e, ...rest] = wa.parse(body('message', 'text')).events;
    expect(rest).toEqual([]);
    expect(e).toEqual({
      kind: 'message',
      id: 'wamid.xyzxyz',
      ts: 1697043223000,
      channel: 'whatsapp',
      customer: { id: '972987654321', name: 'Test Name' },
      role: 'customer',
      msgType: 'text',
      text: 'Body Text',
    });
  });

  it('gives every message kind its msgType and words', () => {
    const kinds: [string, string, string | undefined][] = [
      ['image', 'image', undefined],
      ['video', 'video', 'caption'],
      ['document', 'file', 'caption'],
      ['audio', 'audio', undefined],
      ['voice', 'voice', undefined],
      ['static_sticker', 'sticker', undefined],
      ['animated_sticker', 'sticker', undefined],
      ['current_location', 'location', undefined],
      ['chosen_location', 'location', 'Facebook HQ 1 Hacker Way, Menlo Park, CA 94025'],
      ['contacts', 'contact', 'Chandler Bing, Monica, Rachel Green'],
      ['unsupported', 'unsupported', undefined],
      ['interactive_message_with_err', 'interactive', undefined],
      ['referral', 'text', 'BODY'],
    ];
    for (const [key, msgType, words] of kinds) {
      const e = wa.parse(body('message', key)).events[0] as Record<string, unknown>;
      expect(e, key).toMatchObject({ kind: 'message', role: 'customer', msgType });
      expect(e.text, key).toBe(words);
    }
    expect(wa.parse(body('callback_button', 'button')).events[0]).toMatchObject({
      msgType: 'interactive',
      text: 'title',
    });
    expect(wa.parse(body('callback_button', 'quick_reply')).events[0]).toMatchObject({
      msgType: 'button',
      text: 'title',
    });
    expect(wa.parse(body('callback_selection', 'description')).events[0]).toMatchObject({
      msgType: 'interactive',
      text: 'title',
    });
    expect(wa.parse(body('system', 'identity_change')).events[0]).toMatchObject({
      role: 'system',
      msgType: 'system',
      text: 'User identity changed',
    });
  });

  it('an order is a message and an order event: 3×30 + 2×35 + 2×10 = 180', () => {
    const r = wa.parse(body('message', 'order'));
    expect(r.events.map((e) => e.kind)).toEqual(['message', 'order']);
    expect(r.events[1]).toEqual({
      kind: 'order',
      id: 'order:wamid.xyzxyz',
      ts: 1697044668000,
      channel: 'whatsapp',
      customer: { id: '972987654321', name: 'Test Name' },
      amount: 180,
    });
  });

  it('business app echoes are the agent side, under the business phone number id', () => {
    const [e] = wa.parse(body('outgoing_message', 'text')).events;
    expect(e).toMatchObject({
      role: 'agent',
      account: '1122334455667',
      accountName: '972123456789',
      customer: { id: '<WHATSAPP_USER_PHONE_NUMBER>' },
      text: 'Test message',
      ts: 1697043223000,
    });
  });

  it('keeps statuses, reactions, edits, deletions and errors as rejects with the reason', () => {
    const cases: [string, string, RegExp][] = [
      ['message_status', 'read', /status "read": a delivery receipt/],
      ['message_status', 'failed', /status "failed"/],
      ['message', 'reaction', /reaction to an earlier message/],
      ['deleted_message', 'revoke', /deleted an earlier message/],
      ['edited_message', 'image', /edit of an earlier message/],
      ['outgoing_message', 'edit', /edit of an earlier message/],
    ];
    for (const [f, k, reason] of cases) {
      const r = wa.parse(body(f, k));
      expect(r.events, `${f} ${k}`).toEqual([]);
      expect(r.rejects[0]?.reason, `${f} ${k}`).toMatch(reason);
    }
    const withErr = wa.parse(body('message', 'interactive_message_with_err'));
    expect(withErr.rejects[0]?.reason).toBe('WhatsApp reported error 131000: Something went wrong');
    const odd = structuredClone(body('message', 'text'));
    odd.entry[0].changes[0].value.messages[0].type = 'hologram';
    expect(wa.parse(odd).rejects[0]?.reason).toBe('unknown WhatsApp message type "hologram"');
    odd.entry[0].changes[0].field = 'account_update';
    expect(wa.parse(odd).rejects[0]?.reason).toMatch(/field "account_update" carries no chat message/);
  });

  it('verifies X-Hub-Signature-256 over the raw body', () => {
    const raw = Buffer.from(JSON.stringify(body('message', 'text')));
    const sig = `sha256=${createHmac('sha256', 'app-secret').update(raw).digest('hex')}`;
    const req = (s?: string) => ({ headers: s ? { [SIGNATURE_HEADER]: s } : {}, body: raw, query: {} });
    const creds = { secret: 'app-secret', options: { verifyToken: 't' } };
    expect(wa.verify(req(sig), creds)).toBeNull();
    expect(wa.verify(req(sig.replace(/.$/, (c) => (c === '0' ? '1' : '0'))), creds)).toMatch(
      /does not match/,
    );
    expect(wa.verify(req(), creds)).toMatch(/missing/);
    expect(wa.verify(req(sig), { ...creds, secret: 'other' })).toMatch(/does not match/);
  });

  it('answers the GET subscription check with the challenge, else 403', () => {
    const creds = { secret: 's', options: { verifyToken: 'vt-1' } };
    const get = (q: Record<string, string>) =>
      wa.handshake!({ headers: {}, body: Buffer.alloc(0), query: q }, creds);
    expect(
      get({ 'hub.mode': 'subscribe', 'hub.verify_token': 'vt-1', 'hub.challenge': '1158201444' }),
    ).toEqual({
      status: 200,
      contentType: 'text/plain; charset=utf-8',
      body: '1158201444',
    });
    expect(get({ 'hub.mode': 'subscribe', 'hub.verify_token': 'nope', 'hub.challenge': '1' }).status).toBe(
      403,
    );
    expect(get({ 'hub.verify_token': 'vt-1', 'hub.challenge': '1' }).status).toBe(403);
  });

  it('imports the fixture files with --format auto', async () => {
    let items = 0;
    for (const f of readdirSync(DIR).filter((n) => n.endsWith('.json'))) {
      const got = await collect(readEvents(join(DIR, f), 'auto'));
      expect(got.items.length + got.rejects.length, f).toBeGreaterThan(0);
      for (const r of got.rejects) expect(r.reason, f).toMatch(/^whatsapp /);
      items += got.items.length;
    }
    expect(items).toBe(29);
  });

  it('survives 10,000 mutated bodies with only valid events or typed rejects', () => {
    const bases = readdirSync(DIR)
      .filter((n) => n.endsWith('.json'))
      .flatMap((f) => Object.values(JSON.parse(readFileSync(join(DIR, f), 'utf8'))));
    fc.assert(
      fc.property(mutatedPayloads(bases), (doc) => assertTyped(wa.parse(doc))),
      { numRuns: 10_000 },
    );
  });
});
