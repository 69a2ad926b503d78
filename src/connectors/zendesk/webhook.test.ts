import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateEvent } from '../../model/events.ts';
import { splitDocuments } from '../platform/reader.ts';
import { readEvents } from '../index.ts';
import { mutatedPayloads } from '../shared/payload-mutations.ts';
import { collect } from '../shared/testing.ts';
import { detectPlatform } from '../webhooks.ts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, zendeskWebhook } from './webhook.ts';

const DIR = join(import.meta.dirname, '../../../test/fixtures/connectors/zendesk');
const FILES = readdirSync(DIR).filter((f) => /\.(nd)?json$/.test(f));
const docs = (name: string): unknown[] =>
  splitDocuments(readFileSync(join(DIR, name), 'utf8')).map((d) => d.doc);
// biome-ignore lint/suspicious/noExplicitAny: fixtures are edited field by field in the tests.
const fixture = (name: string): any => docs(`${name}.json`)[0];
const parse = (doc: unknown) => zendeskWebhook.parse(doc);
const iso = (s: string) => Date.parse(s);

describe('Zendesk', () => {
  it('turns every fixture document into valid events or typed rejects, each recognised as Zendesk', () => {
    expect(FILES).toHaveLength(6);
    let documents = 0;
    for (const f of FILES)
      for (const doc of docs(f)) {
        documents++;
        expect(detectPlatform(doc)?.platform, f).toBe('zendesk');
        const r = parse(doc);
        expect(r.events.length + r.rejects.length, f).toBeGreaterThan(0);
        for (const e of r.events) expect(validateEvent(e).ok, `${f} ${JSON.stringify(e)}`).toBe(true);
        for (const j of r.rejects) expect(j.reason, f).not.toMatch(/unreadable/);
      }
    expect(documents).toBe(12);
  });

  it('a ticket gives ticket events: created with category, due and assignee; its inline rating', () => {
    expect(parse(fixture('ticket_show')).events).toEqual([
      {
        kind: 'ticket',
        id: 'ticket:35436:created',
        ts: iso('2009-07-20T22:55:29Z'),
        channel: 'zendesk',
        conversationId: '35436',
        customer: { id: '20978392' },
        tags: ['enterprise', 'other_tag'],
        ticketId: '35436',
        category: 'incident',
        account: '235323',
        status: 'created',
      },
      {
        kind: 'rating',
        id: 'csat:1234',
        ts: iso('2011-05-05T10:38:52Z'),
        channel: 'zendesk',
        conversationId: '35436',
        customer: { id: '20978392' },
        score: 'good',
        scale: 'good_bad',
        comment: 'Great support!',
      },
    ]);
    const solvedUrgent = parse(fixture('ticket_comments_with_ticket')).events.filter(
      (e) => e.kind === 'ticket',
    );
    expect(solvedUrgent.map((e) => (e.kind === 'ticket' ? e.status : ''))).toEqual([
      'created',
      'escalated',
      'resolved',
    ]);
    expect(solvedUrgent[0]).toMatchObject({ dueTs: iso('2009-07-23T22:55:29Z') });
  });

  it('public comments: the requester is the customer, anyone else the agent; private ones are notes', () => {
    const r = parse(fixture('ticket_comments_with_ticket'));
    const messages = r.events.filter((e) => e.kind === 'message');
    expect(messages).toEqual([
      {
        kind: 'message',
        id: 'comment:1274',
        ts: iso('2009-07-20T22:55:29Z'),
        channel: 'zendesk',
        conversationId: '35436',
        customer: { id: '20978392' },
        role: 'customer',
        msgType: 'text',
        text: 'The fire is very colorful.',
      },
      {
        kind: 'message',
        id: 'comment:1275',
        ts: iso('2009-07-20T23:10:02Z'),
        channel: 'zendesk',
        conversationId: '35436',
        customer: { id: '20978392' },
        role: 'agent',
        account: '235323',
        msgType: 'image',
        text: 'Please unplug the printer. Photo of the switch attached.',
      },
    ]);
    expect(r.rejects.map((j) => j.reason)).toEqual([
      'Zendesk comment 1276: private comment (internal note), not a reply',
    ]);
    const orphan = { comments: fixture('ticket_comments_with_ticket').comments };
    expect(parse(orphan).rejects[0]!.reason).toMatch(/without its ticket/);
  });

  it('audits: assignment then transfer, escalation, solved → close resolved + ticket resolved, rating', () => {
    const r = parse(fixture('ticket_audits'));
    expect(r.events.map((e) => [e.kind, e.id])).toEqual([
      ['ticket', 'ticket:35436:created'],
      ['message', 'comment:1564245'],
      ['assignment', 'assign:1564250'],
      ['message', 'comment:1564251'],
      ['assignment', 'assign:1564253'],
      ['ticket', 'ticket:35436:escalated:1564254'],
      ['close', 'close:1564260'],
      ['ticket', 'ticket:35436:resolved:1564260'],
      ['rating', 'csat:1564270'],
    ]);
    const byId = (id: string) => r.events.find((e) => e.id === id);
    expect(byId('comment:1564245')).toMatchObject({
      role: 'customer',
      customer: { id: '20978392', name: 'Amy Requester' },
    });
    expect(byId('comment:1564251')).toMatchObject({
      role: 'agent',
      account: '235323',
      accountName: 'Sam Agent',
    });
    expect(byId('assign:1564250')).not.toHaveProperty('transfer');
    expect(byId('assign:1564253')).toMatchObject({
      account: '35334',
      transfer: true,
      ts: iso('2009-07-20T23:10:02Z'),
    });
    expect(byId('close:1564260')).toMatchObject({
      resolved: true,
      account: '35334',
      ts: iso('2009-07-21T09:00:00Z'),
    });
    expect(byId('csat:1564270')).toMatchObject({
      score: 'bad',
      scale: 'good_bad',
      comment: 'Still smoking.',
    });
    expect(r.rejects.map((j) => j.reason)).toEqual([
      'Zendesk audit 2127301143: events without facts: Create requester_id, Notification',
      'Zendesk comment 1564252: private comment (internal note), not a reply',
      'Zendesk audit 2127301146: events without facts: Notification',
    ]);
  });

  it('satisfaction ratings good/bad are ratings, offered is not; ticket metrics are kept for cross-checking', () => {
    const r = parse(fixture('satisfaction_ratings'));
    expect(r.events.map((e) => (e.kind === 'rating' ? [e.conversationId, e.score, e.ts] : []))).toEqual([
      ['208', 'good', iso('2011-07-20T22:55:29Z')],
      ['209', 'bad', iso('2011-07-21T10:05:00Z')],
    ]);
    expect(r.rejects[0]!.reason).toMatch(/score "offered" is not a rating given/);
    const m = parse(fixture('ticket_metrics'));
    expect(m.events).toEqual([]);
    expect(m.rejects[0]!.reason).toMatch(/ticket 4343 \(reply_time_in_minutes 2391\).*cross-checking/);
    expect(m.rejects[0]!.raw).toMatchObject({ ticket_id: 4343, replies: 322 });
  });

  it('event webhooks: staff comments are agent replies, assignment changes transfers, SOLVED closes', () => {
    const all = docs('webhook_events.ndjson').map((d) => parse(d));
    const events = all.flatMap((r) => r.events);
    expect(events.map((e) => e.kind)).toEqual([
      'ticket',
      'message',
      'message',
      'assignment',
      'close',
      'ticket',
    ]);
    expect(events[0]).toMatchObject({ status: 'created', category: 'question', ticketId: '5158' });
    expect(events[1]).toMatchObject({
      role: 'customer',
      customer: { id: '8447388090495', name: 'Li Lei' },
      ts: iso('2025-01-08T10:14:00.101Z'),
    });
    expect(events[2]).toMatchObject({ role: 'agent', account: '8447388090494', accountName: 'Wang Fang' });
    expect(events[3]).toMatchObject({ account: '8447388090500', transfer: true });
    expect(events[4]).toMatchObject({ resolved: true, conversationId: '5158' });
    const rejects = all.flatMap((r) => r.rejects.map((j) => j.reason));
    expect(rejects).toEqual([
      'Zendesk comment 31207046739742: private comment (internal note), not a reply',
      'Zendesk event "zen:event-type:ticket.tags_changed" changes no fact CS Pulse measures',
    ]);
    expect(parse({ type: 'zen:event-type:user.created', detail: {} }).rejects[0]!.reason).toMatch(
      /not about a ticket/,
    );
  });

  it('verifies base64(HMAC-SHA256(secret, timestamp + body))', () => {
    const body = Buffer.from(readFileSync(join(DIR, 'webhook_events.ndjson'), 'utf8').split('\n')[0]!);
    const ts = '2025-01-08T10:12:08Z';
    const good = createHmac('sha256', 'zd-signing')
      .update(ts + body.toString())
      .digest('base64');
    const req = (h: Record<string, string>) => ({ headers: h, body, query: {} });
    const creds = { secret: 'zd-signing', options: {} };
    expect(
      zendeskWebhook.verify(req({ [SIGNATURE_HEADER]: good, [TIMESTAMP_HEADER]: ts }), creds),
    ).toBeNull();
    expect(
      zendeskWebhook.verify(
        req({ [SIGNATURE_HEADER]: good, [TIMESTAMP_HEADER]: '2025-01-08T10:12:09Z' }),
        creds,
      ),
    ).toMatch(/does not match/);
    const hex = createHmac('sha256', 'zd-signing')
      .update(ts + body.toString())
      .digest('hex');
    expect(zendeskWebhook.verify(req({ [SIGNATURE_HEADER]: hex, [TIMESTAMP_HEADER]: ts }), creds)).toMatch(
      /does not match/,
    );
    expect(zendeskWebhook.verify(req({ [SIGNATURE_HEADER]: good }), creds)).toMatch(/missing .*timestamp/);
    expect(zendeskWebhook.verify(req({ [TIMESTAMP_HEADER]: ts }), creds)).toMatch(
      /missing x-zendesk-webhook-signature /,
    );
    expect(
      zendeskWebhook.verify(req({ [SIGNATURE_HEADER]: good, [TIMESTAMP_HEADER]: ts }), {
        secret: null,
        options: {},
      }),
    ).toMatch(/no secret/);
  });

  it('imports the fixture folder with --format auto', async () => {
    let events = 0;
    let rejects = 0;
    for (const f of FILES) {
      const got = await collect(readEvents(join(DIR, f), 'auto'));
      events += got.items.length;
      rejects += got.rejects.length;
      for (const j of got.rejects) expect(j.reason, f).toMatch(/^zendesk /);
    }
    expect([events, rejects]).toEqual([24, 8]);
  });

  it('survives 10,000 generated and mutated payloads with only valid events or typed rejects', () => {
    const bases = FILES.flatMap((f) => docs(f));
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
          for (const j of r.rejects) expect(j.reason).not.toMatch(/unreadable Zendesk payload/);
        },
      ),
      { numRuns: 10_000 },
    );
    expect(events).toBeGreaterThan(5000);
  });
});
