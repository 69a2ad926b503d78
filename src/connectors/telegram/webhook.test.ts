import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateEvent } from '../../model/events.ts';
import { SECRET_HEADER, telegramWebhook } from './webhook.ts';

const DIR = join(import.meta.dirname, '../../../test/fixtures/connectors/telegram');
const creds = (secret: string | null) => ({ secret, options: {} });
const fixture = (name: string) => JSON.parse(readFileSync(join(DIR, `nutgram_${name}.json`), 'utf8'));

describe('Telegram webhook', () => {
  it('turns every fixture into valid events or typed rejects, never throwing', () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThan(15);
    let events = 0;
    for (const f of files) {
      const r = telegramWebhook.parse(JSON.parse(readFileSync(join(DIR, f), 'utf8')));
      expect(r.events.length + r.rejects.length, f).toBe(1);
      for (const e of r.events) {
        expect(validateEvent(e).ok, f).toBe(true);
        events++;
      }
    }
    expect(events).toBeGreaterThanOrEqual(8);
  });

  it('reads a customer message: chat as customer, seconds as time, content type', () => {
    const [e] = telegramWebhook.parse(fixture('text')).events;
    expect(e).toMatchObject({
      kind: 'message',
      id: '12345678:123456',
      ts: 1631818904,
      channel: 'telegram',
      role: 'customer',
      customer: { id: '12345678', name: 'Mario Bros' },
      msgType: 'text',
      text: 'aaaaaaaaaa',
    });
    expect(telegramWebhook.parse(fixture('sticker')).events[0]?.kind === 'message').toBe(true);
    expect(telegramWebhook.parse(fixture('sticker')).events[0]).toMatchObject({ msgType: 'sticker' });
    expect(telegramWebhook.parse(fixture('voice')).events[0]).toMatchObject({ msgType: 'voice' });
  });

  it('Telegram Business: the customer is the chat, anyone else writing is the agent', () => {
    const body = fixture('business_message');
    expect(telegramWebhook.parse(body).events[0]).toMatchObject({
      role: 'customer',
      customer: { id: '456' },
    });
    body.business_message.from = { id: 999, is_bot: false, first_name: '小王', username: 'shop_wang' };
    expect(telegramWebhook.parse(body).events[0]).toMatchObject({
      role: 'agent',
      account: 'shop_wang',
      accountName: '小王',
      customer: { id: '456' },
    });
  });

  it('keeps edits, reactions, callbacks and service messages as rejects with the reason', () => {
    for (const [name, words] of [
      ['edited_message', 'edited_message'],
      ['message_reaction', 'message_reaction'],
      ['callback_query', 'callback_query'],
      ['business_connection', 'business_connection'],
      ['new_chat_members', 'service message'],
    ] as const) {
      const r = telegramWebhook.parse(fixture(name));
      expect(r.events, name).toEqual([]);
      expect(r.rejects[0]?.reason, name).toContain(words);
    }
  });

  it('verifies the secret token header', () => {
    const req = (v?: string) => ({
      headers: v ? { [SECRET_HEADER]: v } : {},
      body: Buffer.from('{}'),
      query: {},
    });
    expect(telegramWebhook.verify(req('s3cret'), creds('s3cret'))).toBeNull();
    expect(telegramWebhook.verify(req('wrong!'), creds('s3cret'))).toMatch(/wrong/);
    expect(telegramWebhook.verify(req(), creds('s3cret'))).toMatch(/missing/);
    expect(telegramWebhook.verify(req('x'), creds(null))).toMatch(/no secret/);
  });

  it('survives 10,000 generated and mutated updates with only valid events or rejects', () => {
    const base = fixture('text');
    const mutated = fc.record({
      update_id: fc.oneof(fc.integer(), fc.string(), fc.constant(undefined)),
      message: fc.oneof(
        fc.anything(),
        fc.record(
          {
            message_id: fc.oneof(fc.integer(), fc.string()),
            date: fc.oneof(fc.integer(), fc.double(), fc.string()),
            chat: fc.oneof(
              fc.anything(),
              fc.record({ id: fc.oneof(fc.integer(), fc.string()), type: fc.string() }),
            ),
            from: fc.oneof(fc.constant(undefined), fc.anything(), fc.constant(base.message.from)),
            text: fc.oneof(fc.string(), fc.anything()),
            photo: fc.anything(),
          },
          { requiredKeys: [] },
        ),
      ),
    });
    fc.assert(
      fc.property(fc.oneof(fc.anything(), mutated), (body) => {
        const r = telegramWebhook.parse(body);
        for (const e of r.events) {
          const v = validateEvent(e);
          // What the parser emits is either valid or gets a typed reject at validation.
          if (!v.ok) expect(typeof v.reason).toBe('string');
        }
        for (const j of r.rejects) expect(typeof j.reason).toBe('string');
      }),
      { numRuns: 10_000 },
    );
  });
});
