import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateEvent } from '../../model/events.ts';
import { readEvents } from '../index.ts';
import { assertTyped, mutatedPayloads } from '../shared/mutate.ts';
import { collect, OWN_FIXTURES } from '../shared/testing.ts';
import type { WebhookRequest } from '../webhooks.ts';
import { decryptFeishu, encryptFeishu } from './crypto.ts';
import { feishuWebhook as feishu, NONCE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './webhook.ts';

const DIR = join(OWN_FIXTURES, 'feishu');
const FILES = readdirSync(DIR).filter((f) => f.endsWith('.json'));
const load = (name: string) => JSON.parse(readFileSync(join(DIR, `${name}.json`), 'utf8'));
const GUEST = 'ou_84aad35d084aa403a838cf73ee18467';
const AGENT = 'ou_37019b7c830210acd88fdce886e25c71';
const TICKET = '6626871355780366331';
const TOKEN = 'rvaYgkND1GOiu5MM0E1rncYC6PLtF7JV';

const request = (body: string, headers: Record<string, string> = {}): WebhookRequest => ({
  headers,
  body: Buffer.from(body),
  query: {},
});

describe('Feishu events and Helpdesk', () => {
  it('reads every fixture into valid events or typed rejects', () => {
    expect(FILES).toHaveLength(8);
    for (const f of FILES) {
      const r = feishu.parse(JSON.parse(readFileSync(join(DIR, f), 'utf8')));
      expect(r.events.length + r.rejects.length, f).toBeGreaterThan(0);
      for (const e of r.events) expect(validateEvent(e).ok, f).toBe(true);
    }
  });

  it('im.message.receive_v1: the user is the customer, create_time is ms, content is JSON in a string', () => {
    expect(feishu.parse(load('im.message.receive_v1.event'))).toEqual({
      events: [
        {
          kind: 'message',
          id: 'om_5ce6d572455d361153b7cb51da133945',
          ts: 1609073151345,
          channel: 'feishu',
          customer: { id: GUEST },
          role: 'customer',
          msgType: 'text',
          text: '@_user_1 hello',
        },
      ],
      rejects: [],
    });
  });

  it('every message_type counts, with its words where the content has some', () => {
    const doc = load('im.message.receive_v1.event');
    const as = (type: string, content: unknown) => {
      const d = structuredClone(doc);
      d.event.message.message_type = type;
      d.event.message.content = JSON.stringify(content);
      return feishu.parse(d).events[0] as Record<string, unknown>;
    };
    expect(
      as('post', {
        title: '退货',
        content: [
          [
            { tag: 'text', text: '订单 ' },
            { tag: 'a', text: '123' },
          ],
          [{ tag: 'img' }],
        ],
      }),
    ).toMatchObject({ msgType: 'text', text: '退货\n订单 123' });
    expect(as('post', { zh_cn: { title: '', content: [[{ tag: 'text', text: '你好' }]] } })).toMatchObject({
      text: '你好',
    });
    expect(as('image', { image_key: 'img_x' })).toMatchObject({ msgType: 'image' });
    expect(as('image', { image_key: 'img_x' }).text).toBeUndefined();
    expect(as('file', { file_key: 'f', file_name: '发票.pdf' })).toMatchObject({
      msgType: 'file',
      text: '发票.pdf',
    });
    expect(as('audio', { file_key: 'f', duration: 2000 })).toMatchObject({ msgType: 'voice' });
    expect(as('media', { file_key: 'f', file_name: 'a.mp4' })).toMatchObject({ msgType: 'video' });
    expect(as('sticker', { file_key: 'f' })).toMatchObject({ msgType: 'sticker' });
    expect(as('location', { name: '上海虹桥站', longitude: '121.3', latitude: '31.2' })).toMatchObject({
      msgType: 'location',
      text: '上海虹桥站',
    });
    expect(as('interactive', { title: '订单卡片', elements: [] })).toMatchObject({
      msgType: 'card',
      text: '订单卡片',
    });
    const unknown = structuredClone(doc);
    unknown.event.message.message_type = 'hologram';
    expect(feishu.parse(unknown).rejects[0]!.reason).toBe('unknown Feishu message_type "hologram"');
    const app = structuredClone(doc);
    app.event.sender.sender_type = 'app';
    expect(feishu.parse(app).rejects[0]!.reason).toMatch(/sender_type "app"/);
  });

  it('a ticket created is a ticket event; an update from bot-closed (50) to 1 is a reopen', () => {
    expect(feishu.parse(load('helpdesk.ticket.created_v1.event')).events).toEqual([
      {
        kind: 'ticket',
        id: `ticket:${TICKET}:created`,
        ts: 1616920429000,
        ticketId: TICKET,
        status: 'created',
        channel: 'feishu',
        customer: { id: GUEST },
      },
    ]);
    expect(feishu.parse(load('helpdesk.ticket.updated_v1.event')).events).toEqual([
      {
        kind: 'ticket',
        id: `ticket:${TICKET}:reopened:1616920429000`,
        ts: 1616920429000,
        ticketId: TICKET,
        status: 'reopened',
        channel: 'feishu',
        customer: { id: GUEST, name: 'abc' },
      },
    ]);
  });

  it('closing a ticket: resolved when solved, a close with the platform flag, the 1–3 score as a rating', () => {
    const doc = load('helpdesk.ticket.updated_v1.event');
    doc.event.object.status = 51;
    doc.event.object.solve = 2;
    doc.event.object.score = 3;
    doc.event.object.closed_at = 1616920500000;
    doc.event.old_object.status = 2;
    const r = feishu.parse(doc);
    expect(r.events.map((e) => [e.kind, (e as { status?: string }).status])).toEqual([
      ['ticket', 'resolved'],
      ['close', undefined],
      ['rating', undefined],
    ]);
    expect(r.events[1]).toMatchObject({ conversationId: TICKET, resolved: true, ts: 1616920500000 });
    expect(r.events[2]).toMatchObject({
      id: `rating:${TICKET}`,
      score: 3,
      scale: '3',
      conversationId: TICKET,
    });
  });

  it('a rating given after the close arrives in an update of a ticket that stays closed', () => {
    const doc = load('helpdesk.ticket.updated_v1.event');
    doc.event.object.status = 51;
    doc.event.object.score = 2;
    doc.event.old_object = { status: 51, score: 0, updated_at: 1616920000000 };
    const r = feishu.parse(doc);
    expect(r.events.map((e) => [e.kind, (e as { status?: string }).status])).toEqual([
      ['ticket', 'updated'],
      ['rating', undefined],
    ]);
    expect(r.events[1]).toMatchObject({ score: 2, scale: '3', ts: 1616920429000 });
    doc.event.object.score = 0;
    expect(feishu.parse(doc).events.map((e) => e.kind)).toEqual(['ticket']);
  });

  it('a ticket message is in the ticket conversation; the ticket owner is the assignment', () => {
    const r = feishu.parse(load('helpdesk.ticket_message.created_v1.event'));
    expect(r.rejects).toEqual([]);
    expect(r.events).toEqual([
      {
        kind: 'message',
        id: 'om_8baa3656c7b41900d29bf9104bf5310b',
        ts: 1608725989000,
        channel: 'feishu',
        conversationId: TICKET,
        customer: { id: GUEST },
        role: 'customer',
        msgType: 'text',
        text: '请问vpn怎么下载',
      },
      {
        kind: 'assignment',
        id: `assign:${TICKET}:${AGENT}`,
        ts: 1636444596000,
        channel: 'feishu',
        conversationId: TICKET,
        account: AGENT,
        accountName: 'abc',
      },
    ]);
    const agentSide = load('helpdesk.ticket_message.created_v1.event');
    agentSide.event.sender_type = 2;
    agentSide.event.sender_id = { open_id: AGENT };
    expect(feishu.parse(agentSide).events[0]).toMatchObject({ role: 'agent', account: AGENT });
    expect(feishu.parse(agentSide).events[0]!.customer).toBeUndefined();
    const faqBot = load('helpdesk.ticket_message.created_v1.event');
    delete faqBot.event.sender_id;
    expect(feishu.parse(faqBot).events[0]).toMatchObject({ role: 'bot' });
    faqBot.event.sender_type = 9;
    expect(feishu.parse(faqBot).rejects[0]!.reason).toMatch(/^sender_type 9 without sender_id/);
  });

  it('Helpdesk API responses: created, assigned, closed unsolved with the 不满意 rating', () => {
    for (const name of ['helpdesk.v1.tickets.get.response', 'helpdesk.v1.tickets.list.response']) {
      const r = feishu.parse(load(name));
      expect(r.rejects, name).toEqual([]);
      expect(
        r.events.map((e) => [e.kind, e.ts]),
        name,
      ).toEqual([
        ['ticket', 1616920429000],
        ['assignment', 1636444596000],
        ['ticket', 1616920429000],
        ['close', 1616920429000],
        ['rating', 1616920429000],
      ]);
      expect(r.events[2], name).toMatchObject({ status: 'closed' });
      // closed_by is the guest here: the customer closed it, so no agent account on the close.
      expect(r.events[3], name).toEqual({
        kind: 'close',
        id: `close:${TICKET}:1616920429000`,
        ts: 1616920429000,
        conversationId: TICKET,
        resolved: false,
        channel: 'feishu',
        customer: { id: AGENT, name: 'abc' },
      });
      expect(r.events[4], name).toMatchObject({ score: 1, scale: '3' });
    }
    const messages = feishu.parse(load('helpdesk.v1.tickets.messages.list.response'));
    expect(messages.events).toEqual([]);
    expect(messages.rejects[0]!.reason).toMatch(/names neither the ticket nor whether the sender/);
    expect(feishu.parse(load('im.message.message_read_v1.event')).rejects[0]!.reason).toMatch(/read receipt/);
    expect(
      feishu.parse({ schema: '2.0', header: { event_type: 'contact.user.created_v3' }, event: {} })
        .rejects[0]!.reason,
    ).toBe('Feishu event "contact.user.created_v3" is not read: not a chat message or ticket event');
  });

  it('url_verification: the token is checked, then the challenge is answered', () => {
    const body = JSON.stringify({ challenge: 'ajls384kdjx98XX', token: 'vt', type: 'url_verification' });
    const creds = { secret: null, options: { verifyToken: 'vt' } };
    const req = request(body);
    expect(feishu.verify(req, creds)).toBeNull();
    expect(feishu.open!(req, creds)).toEqual({
      reply: { status: 200, body: { challenge: 'ajls384kdjx98XX' } },
    });
    expect(feishu.verify(request(body), { secret: null, options: { verifyToken: 'other' } })).toMatch(
      /token/,
    );
    expect(feishu.verify(request(body), { secret: null, options: {} })).toMatch(/verifyToken/);
  });

  it('decrypts AES-256-CBC bodies (the documentation vector) and answers the encrypted URL check', () => {
    expect(decryptFeishu('P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=', 'test key')).toEqual({
      text: 'hello world',
    });
    expect(decryptFeishu('P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=', 'wrong key')).toHaveProperty(
      'error',
    );
    const creds = { secret: null, options: { verifyToken: 'vt', encryptKey: 'k3y' } };
    const check = JSON.stringify({ challenge: 'c-1', token: 'vt', type: 'url_verification' });
    const req = request(JSON.stringify({ encrypt: encryptFeishu(check, 'k3y') }));
    expect(feishu.verify(req, creds)).toBeNull();
    expect(feishu.open!(req, creds)).toEqual({ reply: { status: 200, body: { challenge: 'c-1' } } });
    const noKey = request(JSON.stringify({ encrypt: encryptFeishu(check, 'k3y') }));
    expect(feishu.open!(noKey, { secret: null, options: { verifyToken: 'vt' } })).toEqual({
      error: 'Feishu body: the body is encrypted but the source has no encryptKey option',
    });
  });

  it('X-Lark-Signature = sha256(timestamp + nonce + encrypt key + body), required for events once a key is set', () => {
    const creds = { secret: null, options: { verifyToken: TOKEN, encryptKey: 'k3y' } };
    const body = JSON.stringify({
      encrypt: encryptFeishu(readFileSync(join(DIR, 'im.message.receive_v1.event.json'), 'utf8'), 'k3y'),
    });
    const ts = '1700000000';
    const nonce = 'n-42';
    const sig = createHash('sha256')
      .update(ts + nonce + 'k3y' + body)
      .digest('hex');
    const signed = request(body, { [TIMESTAMP_HEADER]: ts, [NONCE_HEADER]: nonce, [SIGNATURE_HEADER]: sig });
    expect(feishu.verify(signed, creds)).toBeNull();
    const opened = feishu.open!(signed, creds);
    expect('doc' in opened && feishu.parse(opened.doc).events[0]).toMatchObject({
      id: 'om_5ce6d572455d361153b7cb51da133945',
    });
    expect(
      feishu.verify(
        request(body, { [TIMESTAMP_HEADER]: '1700000001', [NONCE_HEADER]: nonce, [SIGNATURE_HEADER]: sig }),
        creds,
      ),
    ).toMatch(/does not match/);
    expect(feishu.verify(request(body), creds)).toMatch(/missing x-lark-signature/);
    // Without an encrypt key, the event's header.token is the proof.
    const plain = readFileSync(join(DIR, 'im.message.receive_v1.event.json'), 'utf8');
    expect(feishu.verify(request(plain), { secret: null, options: { verifyToken: TOKEN } })).toBeNull();
    expect(feishu.verify(request(plain), { secret: null, options: { verifyToken: 'forged' } })).toMatch(
      /token/,
    );
  });

  it('imports the fixture files with --format auto', async () => {
    let items = 0;
    for (const f of FILES) {
      const got = await collect(readEvents(join(DIR, f), 'auto'));
      for (const r of got.rejects) expect(r.reason, f).toMatch(/^feishu /);
      items += got.items.length;
    }
    // receive 1, created 1, updated 1, ticket message 2, get 5, list 5.
    expect(items).toBe(15);
  });

  it('survives 10,000 mutated events and responses with only valid events or typed rejects', () => {
    const bases = [
      ...FILES.map((f) => JSON.parse(readFileSync(join(DIR, f), 'utf8'))),
      { challenge: 'c', token: 't', type: 'url_verification' },
      { uuid: 'u', token: 't', ts: '1', type: 'event_callback', event: { type: 'message' } },
    ];
    fc.assert(
      fc.property(mutatedPayloads(bases), (doc) => assertTyped(feishu.parse(doc))),
      { numRuns: 10_000 },
    );
  });
});
