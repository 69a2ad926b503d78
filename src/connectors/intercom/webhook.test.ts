import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateEvent } from '../../model/events.ts';
import { readEvents } from '../index.ts';
import { mutatedPayloads } from '../shared/payload-mutations.ts';
import { collect } from '../shared/testing.ts';
import { detectPlatform } from '../webhooks.ts';
import { intercomWebhook, SIGNATURE_HEADER } from './webhook.ts';

const DIR = join(import.meta.dirname, '../../../test/fixtures/connectors/intercom');
const FILES = readdirSync(DIR).filter((f) => f.endsWith('.json'));
// biome-ignore lint/suspicious/noExplicitAny: fixtures are edited field by field in the tests.
const fixture = (name: string): any => JSON.parse(readFileSync(join(DIR, `${name}.json`), 'utf8'));
const parse = (doc: unknown) => intercomWebhook.parse(doc);
const NOT_CONVERSATIONS = [
  'get_admins_admin_id_Admin_found.json',
  'post_conversations_conversation_created.json',
  'post_conversations_conversation_id_convert_successful.json',
];

/** A user's comment, written after the conversation_part schema of API v2.11. */
const userComment = (id: string, at: number) => ({
  type: 'conversation_part',
  id,
  part_type: 'comment',
  body: '<p>我的订单 <b>#123</b> 还没到 &amp; 没有物流信息</p>',
  created_at: at,
  updated_at: at,
  notified_at: at,
  assigned_to: null,
  author: { id: '667d60d88a68186f43bafde1', type: 'user', name: 'Joe Bloggs', email: 'joe@example.com' },
  attachments: [],
  external_id: null,
  redacted: false,
});

describe('Intercom conversations', () => {
  it('turns every conversation fixture into valid events; other objects are typed rejects', () => {
    expect(FILES.length).toBe(16);
    for (const f of FILES) {
      const doc = JSON.parse(readFileSync(join(DIR, f), 'utf8'));
      const r = parse(doc);
      for (const e of r.events) expect(validateEvent(e).ok, f).toBe(true);
      if (NOT_CONVERSATIONS.includes(f)) {
        expect(detectPlatform(doc)?.platform, f).toBeUndefined();
        expect(r.events, f).toEqual([]);
        expect(r.rejects[0]!.reason, f).toMatch(/is not a conversation/);
      } else {
        expect(detectPlatform(doc)?.platform, f).toBe('intercom');
        expect(r.events.length, f).toBeGreaterThan(0);
      }
    }
  });

  it('reads the source: an admin-initiated conversation opens with the agent message, seconds → ms', () => {
    expect(parse(fixture('get_conversations_conversation_id_conversation_found')).events).toEqual([
      {
        kind: 'message',
        id: '367:source',
        ts: 1719492825000,
        channel: 'intercom',
        conversationId: '367',
        customer: { id: '667d60d88a68186f43bafde1' },
        role: 'agent',
        account: '991267553',
        accountName: 'Ciaran153 Lee',
        msgType: 'text',
        text: 'this is the message body',
      },
    ]);
  });

  it('a user reply reopening a conversation is a customer message; notes are not replies', () => {
    const reply = parse(fixture('post_conversations_conversation_id_reply_User_reply')).events;
    expect(reply[1]).toEqual({
      kind: 'message',
      id: 'part:99',
      ts: 1719492850000,
      channel: 'intercom',
      conversationId: '387',
      customer: { id: '667d60f18a68186f43bafdf4', name: 'Joe Bloggs' },
      role: 'customer',
      msgType: 'text',
      text: 'Thanks again :)',
    });
    const note = parse(fixture('post_conversations_conversation_id_reply_Admin_note_reply'));
    expect(note.events.map((e) => e.id)).toEqual(['388:source']);
    expect(note.rejects[0]!.reason).toMatch(/note is an internal note/);
  });

  it('assignment parts assign to the admin; to nobody is a reject; close with a message gives both', () => {
    const assign = parse(fixture('post_conversations_conversation_id_parts_Assign_a_conversation')).events;
    expect(assign[1]).toEqual({
      kind: 'assignment',
      id: 'assign:106',
      ts: 1719492875000,
      channel: 'intercom',
      conversationId: '405',
      customer: { id: '667d610a8a68186f43bafe05' },
      account: '991267615',
    });
    const rules = parse(
      fixture(
        'post_conversations_conversation_id_run_assignment_rules_Assign_a_conversation_using_assignment_rules',
      ),
    );
    expect(rules.events.filter((e) => e.kind === 'assignment')).toEqual([]);
    expect(rules.rejects[0]!.reason).toMatch(/default_assignment to nobody_admin/);
    const close = parse(fixture('post_conversations_conversation_id_parts_Close_a_conversation')).events;
    expect(close.map((e) => [e.kind, e.id])).toEqual([
      ['message', '394:source'],
      ['message', 'part:102'],
      ['close', 'close:102'],
    ]);
    expect(close[1]).toMatchObject({ role: 'agent', account: '991267608', text: 'Goodbye :)' });
    expect(close[2]).toMatchObject({ account: '991267608', ts: 1719492862000 });
  });

  it('open without a reply, snoozed and attribute updates are rejects that say why', () => {
    expect(
      parse(fixture('post_conversations_conversation_id_parts_Open_a_conversation')).rejects[0]!.reason,
    ).toMatch(/reopened without a reply/);
    expect(
      parse(fixture('post_conversations_conversation_id_parts_Snooze_a_conversation')).rejects[0]!.reason,
    ).toMatch(/snoozed/);
    expect(
      parse(fixture('put_conversations_conversation_id_conversation_found')).rejects.map((r) => r.reason),
    ).toEqual([
      expect.stringContaining('"conversation_attribute_updated_by_admin"'),
      expect.stringContaining('"conversation_attribute_updated_by_admin"'),
    ]);
  });

  it('reads a webhook notification, its comment parts as plain text, attachments and the rating', () => {
    const conversation = fixture('get_conversations_conversation_id_conversation_found');
    conversation.conversation_parts.conversation_parts = [
      userComment('200', 1719493000),
      {
        ...userComment('201', 1719493060),
        body: null,
        attachments: [{ type: 'upload', name: 'a.jpg', url: 'https://x/a.jpg', content_type: 'image/jpeg' }],
      },
      {
        ...userComment('202', 1719493100),
        author: { id: '991267553', type: 'bot', name: 'Fin', email: '' },
        body: '<p>Fin here</p>',
      },
    ];
    conversation.conversation_rating = {
      rating: 2,
      remark: '太慢',
      created_at: 1719494000,
      contact: {},
      teammate: {},
    };
    const notification = {
      type: 'notification_event',
      app_id: 'abc',
      topic: 'conversation.user.replied',
      id: 'notif_1',
      created_at: 1719493001,
      data: { type: 'notification_event_data', item: conversation },
    };
    expect(detectPlatform(notification)?.platform).toBe('intercom');
    const events = parse(notification).events;
    expect(events.find((e) => e.id === 'part:200')).toMatchObject({
      role: 'customer',
      text: '我的订单 #123 还没到 & 没有物流信息',
      customer: { id: '667d60d88a68186f43bafde1', name: 'Joe Bloggs' },
    });
    expect(events.find((e) => e.id === 'part:201')).toMatchObject({ role: 'customer', msgType: 'image' });
    expect(events.find((e) => e.id === 'part:202')).toMatchObject({ role: 'bot', account: 'bot:991267553' });
    expect(events.find((e) => e.kind === 'rating')).toEqual({
      kind: 'rating',
      id: 'rating:367',
      ts: 1719494000000,
      channel: 'intercom',
      conversationId: '367',
      customer: { id: '667d60d88a68186f43bafde1' },
      score: 2,
      scale: '5',
      comment: '太慢',
    });
    const ping = {
      type: 'notification_event',
      topic: 'ping',
      data: { item: { type: 'ping', message: 'hi' } },
    };
    expect(parse(ping).rejects[0]!.reason).toMatch(/"ping" carries no conversation/);
  });

  it('verifies X-Hub-Signature: sha1 HMAC of the raw body with the client secret', () => {
    const body = Buffer.from('{"type":"notification_event","topic":"ping"}');
    const good = `sha1=${createHmac('sha1', 'client-secret').update(body).digest('hex')}`;
    const req = (v?: string) => ({ headers: v ? { [SIGNATURE_HEADER]: v } : {}, body, query: {} });
    const creds = { secret: 'client-secret', options: {} };
    expect(intercomWebhook.verify(req(good), creds)).toBeNull();
    expect(intercomWebhook.verify(req(good.replace('sha1=', 'sha256=')), creds)).toMatch(/does not match/);
    expect(intercomWebhook.verify(req(`sha1=${'0'.repeat(40)}`), creds)).toMatch(/does not match/);
    expect(intercomWebhook.verify({ ...req(good), body: Buffer.from('{}') }, creds)).toMatch(
      /does not match/,
    );
    expect(intercomWebhook.verify(req(), creds)).toMatch(/missing/);
    expect(intercomWebhook.verify(req(good), { secret: null, options: {} })).toMatch(/no secret/);
  });

  it('imports the fixture folder: conversations with --format auto, the rest named as no platform', async () => {
    let events = 0;
    for (const f of FILES) {
      if (NOT_CONVERSATIONS.includes(f)) {
        await expect(collect(readEvents(join(DIR, f), 'auto'))).rejects.toThrow(
          /not a payload of any known platform/,
        );
        const forced = await collect(readEvents(join(DIR, f), 'intercom'));
        expect(forced.items).toEqual([]);
        expect(forced.rejects[0]!.reason).toMatch(/^intercom .*is not a conversation/);
        continue;
      }
      const got = await collect(readEvents(join(DIR, f), 'auto'));
      events += got.items.length;
    }
    // 13 conversations, one source message each; 6 parts that are messages, assignments or closes.
    expect(events).toBe(19);
  });

  it('survives 10,000 generated and mutated payloads with only valid events or typed rejects', () => {
    const bases = FILES.filter((f) => !NOT_CONVERSATIONS.includes(f)).map((f) =>
      JSON.parse(readFileSync(join(DIR, f), 'utf8')),
    );
    const withParts = fixture('get_conversations_conversation_id_conversation_found');
    withParts.conversation_parts.conversation_parts = [
      userComment('1', 1719493000),
      userComment('2', 1719493001),
    ];
    withParts.conversation_rating = { rating: 5, remark: 'ok', created_at: 1719494000 };
    bases.push({ type: 'notification_event', topic: 'conversation.user.replied', data: { item: withParts } });
    let events = 0;
    fc.assert(
      fc.property(
        fc.oneof({ weight: 9, arbitrary: mutatedPayloads(bases) }, { weight: 1, arbitrary: fc.anything() }),
        (doc) => {
          const r = parse(doc);
          for (const e of r.events) {
            const v = validateEvent(e);
            if (!v.ok) throw new Error(`invalid event ${JSON.stringify(e).slice(0, 300)}: ${v.reason}`);
            events++;
          }
          for (const j of r.rejects) expect(j.reason).not.toMatch(/unreadable Intercom payload/);
        },
      ),
      { numRuns: 10_000 },
    );
    expect(events).toBeGreaterThan(5000);
  });
});
