import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateEvent } from '../../model/events.ts';
import { readEvents } from '../index.ts';
import { mutatedPayloads } from '../shared/payload-mutations.ts';
import { timeMs } from '../shared/payload-values.ts';
import { collect } from '../shared/testing.ts';
import { detectPlatform } from '../webhooks.ts';
import { chatwootWebhook, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './webhook.ts';

const DIR = join(import.meta.dirname, '../../../test/fixtures/connectors/chatwoot');
const FILES = readdirSync(DIR).filter((f) => f.endsWith('.json'));
// biome-ignore lint/suspicious/noExplicitAny: fixtures are edited field by field in the tests.
const fixture = (name: string): any =>
  JSON.parse(readFileSync(join(DIR, `gemwallet_chatwoot_${name}.json`), 'utf8'));
const parse = (doc: unknown) => chatwootWebhook.parse(doc);

describe('Chatwoot webhook', () => {
  it('turns every fixture into valid events, and recognises it as Chatwoot', () => {
    expect(FILES).toHaveLength(3);
    for (const f of FILES) {
      const doc = JSON.parse(readFileSync(join(DIR, f), 'utf8'));
      expect(detectPlatform(doc)?.platform, f).toBe('chatwoot');
      const r = parse(doc);
      expect(r.rejects, f).toEqual([]);
      expect(r.events.length, f).toBe(1);
      for (const e of r.events) expect(validateEvent(e).ok, f).toBe(true);
    }
  });

  it('reads an agent reply: user sender → agent, ISO created_at in ms, account-scoped conversation id', () => {
    expect(parse(fixture('message_created')).events).toEqual([
      {
        kind: 'message',
        id: 'message:1',
        ts: Date.UTC(2025, 11, 23, 8, 23, 13, 554),
        channel: 'chatwoot',
        conversationId: '1:1',
        customer: { id: '1', name: 'test-user' },
        role: 'agent',
        account: '1',
        accountName: 'Test Agent',
        msgType: 'text',
        text: 'from agent',
      },
    ]);
    expect(parse(fixture('bot_message_incoming')).events[0]).toMatchObject({
      role: 'customer',
      customer: { id: '2', name: 'test-user-2' },
      conversationId: '1:42',
      text: 'How do I stake my tokens?',
    });
  });

  it('reads the messages a conversation payload carries, with unix-second times', () => {
    expect(parse(fixture('conversation_updated')).events).toEqual([
      expect.objectContaining({
        id: 'message:1',
        ts: 1766475695000,
        conversationId: '1:1',
        role: 'agent',
        account: '1',
        accountName: 'Test Agent',
      }),
    ]);
  });

  it('keeps private notes, CSAT prompts, edits and unknown events out, saying why', () => {
    const note = fixture('message_created');
    note.private = true;
    expect(parse(note).events).toEqual([]);
    expect(parse(note).rejects[0]!.reason).toMatch(/private note/);
    const prompt = fixture('message_created');
    prompt.content_type = 'input_csat';
    prompt.message_type = 'template';
    expect(parse(prompt).rejects[0]!.reason).toMatch(/CSAT survey prompt/);
    const edit = fixture('message_created');
    edit.event = 'message_updated';
    expect(parse(edit).rejects[0]!.reason).toMatch(/edit/);
    const other = { event: 'contact_created', id: 5, account: { id: 1 } };
    expect(parse(other).rejects[0]!.reason).toContain('contact_created');
    expect(parse({ hello: 1 }).rejects[0]!.reason).toMatch(/no "event"/);
    const noAccount = fixture('conversation_updated');
    noAccount.messages = [];
    expect(parse(noAccount).rejects[0]!.reason).toMatch(/no account or conversation id/);
  });

  it('reads roles and types: activity → system, agent_bot → bot, attachments by file type', () => {
    const activity = fixture('message_created');
    activity.message_type = 'activity';
    activity.sender = undefined;
    expect(parse(activity).events[0]).toMatchObject({ role: 'system' });
    const bot = fixture('message_created');
    bot.sender = { id: 5, name: 'Captain', type: 'agent_bot' };
    expect(parse(bot).events[0]).toMatchObject({ role: 'bot', account: 'bot:5', accountName: 'Captain' });
    const voice = fixture('bot_message_incoming');
    voice.attachments = [{ id: 9, file_type: 'audio', data_url: 'https://x/a.ogg' }];
    voice.content = null;
    expect(parse(voice).events[0]).toMatchObject({ role: 'customer', msgType: 'voice' });
    expect(parse(voice).events[0]).not.toHaveProperty('text');
    const location = fixture('bot_message_incoming');
    location.attachments = [{ id: 10, file_type: 'location', coordinates_lat: 31.2 }];
    expect(parse(location).events[0]).toMatchObject({ msgType: 'location' });
  });

  it('resolved → close with resolved:true at the float-seconds updated_at; assignee changes → assignment', () => {
    const resolved = fixture('conversation_updated');
    resolved.event = 'conversation_status_changed';
    resolved.status = 'resolved';
    resolved.messages[0].account_id = 3;
    const r = parse(resolved);
    expect(r.events.find((e) => e.kind === 'close')).toEqual({
      kind: 'close',
      id: 'close:3:1:1766475695',
      ts: 1766475695664,
      channel: 'chatwoot',
      conversationId: '3:1',
      customer: { id: '1', name: 'test-user' },
      resolved: true,
    });
    const snoozed = fixture('conversation_updated');
    snoozed.event = 'conversation_status_changed';
    snoozed.status = 'snoozed';
    expect(parse(snoozed).rejects[0]!.reason).toMatch(/"snoozed" is not a close/);

    const assigned = fixture('conversation_updated');
    assigned.messages = [{ ...assigned.messages[0], id: 2 }];
    assigned.meta.assignee = { id: 7, name: '小李', type: 'user' };
    assigned.changed_attributes = [{ assignee_id: { previous_value: null, current_value: 7 } }];
    expect(parse(assigned).events.find((e) => e.kind === 'assignment')).toMatchObject({
      account: '7',
      accountName: '小李',
      conversationId: '1:1',
    });
    expect(parse(assigned).events.find((e) => e.kind === 'assignment')).not.toHaveProperty('transfer');
    assigned.changed_attributes = [{ assignee_id: { previous_value: 7, current_value: 9 } }];
    expect(parse(assigned).events.find((e) => e.kind === 'assignment')).toMatchObject({
      account: '9',
      transfer: true,
    });
    assigned.changed_attributes = [{ assignee_id: { previous_value: 9, current_value: null } }];
    expect(parse(assigned).rejects.map((j) => j.reason)).toContainEqual(expect.stringMatching(/unassigned/));
  });

  it('reads the CSAT answer (1–5) as the conversation rating', () => {
    const answer = fixture('message_created');
    answer.event = 'message_updated';
    answer.content_type = 'input_csat';
    answer.message_type = 'template';
    answer.updated_at = '2025-12-23T09:00:00.000Z';
    answer.content_attributes = {
      submitted_values: { csat_survey_response: { rating: 4, feedback_message: '回复很快' } },
    };
    expect(parse(answer).events).toEqual([
      {
        kind: 'rating',
        id: 'csat:1:1',
        ts: Date.UTC(2025, 11, 23, 9),
        channel: 'chatwoot',
        conversationId: '1:1',
        customer: { id: '1', name: 'test-user' },
        score: 4,
        scale: '5',
        comment: '回复很快',
      },
    ]);
  });

  it('reads times in every unit one payload mixes', () => {
    expect(timeMs(1766478193)).toBe(1766478193000);
    expect(timeMs(1766478193.559521)).toBe(1766478193560);
    expect(timeMs(1766478193554)).toBe(1766478193554);
    expect(timeMs('1766478193')).toBe(1766478193000);
    expect(timeMs('2025-12-23T08:23:13.554Z')).toBe(1766478193554);
    expect(timeMs('2025-12-23T16:23:13+08:00')).toBe(1766478193000);
    for (const bad of [0, -5, Number.NaN, '2025-12-23', 'yesterday', '', null, {}, 1e300])
      expect(timeMs(bad), String(bad)).toBeUndefined();
  });

  it('verifies the HMAC signature over "timestamp.body", or the ?token= of unsigned versions', () => {
    const body = Buffer.from(JSON.stringify(fixture('message_created')));
    const ts = '1766478200';
    const sig = createHmac('sha256', 'cw-secret').update(`${ts}.${body.toString()}`).digest('hex');
    const req = (headers: Record<string, string>, query: Record<string, string> = {}) => ({
      headers,
      body,
      query,
    });
    const creds = (options: Record<string, string> = {}) => ({ secret: 'cw-secret', options });
    expect(
      chatwootWebhook.verify(req({ [SIGNATURE_HEADER]: `sha256=${sig}`, [TIMESTAMP_HEADER]: ts }), creds()),
    ).toBeNull();
    expect(
      chatwootWebhook.verify(req({ [SIGNATURE_HEADER]: sig, [TIMESTAMP_HEADER]: ts }), creds()),
    ).toBeNull();
    expect(
      chatwootWebhook.verify(
        req({ [SIGNATURE_HEADER]: `sha256=${sig}`, [TIMESTAMP_HEADER]: '1766478201' }),
        creds(),
      ),
    ).toMatch(/does not match/);
    expect(chatwootWebhook.verify(req({ [SIGNATURE_HEADER]: `sha256=${sig}` }), creds())).toMatch(/without/);
    const tampered = {
      ...req({ [SIGNATURE_HEADER]: `sha256=${sig}`, [TIMESTAMP_HEADER]: ts }),
      body: Buffer.from('{}'),
    };
    expect(chatwootWebhook.verify(tampered, creds())).toMatch(/does not match/);
    expect(chatwootWebhook.verify(req({}, { token: 'cw-secret' }), creds())).toBeNull();
    expect(chatwootWebhook.verify(req({}, { token: 'cw-secreT' }), creds())).toMatch(/token= does not match/);
    expect(chatwootWebhook.verify(req({}), creds())).toMatch(/unsigned/);
    expect(chatwootWebhook.verify(req({}, { token: 'cw-secret' }), creds({ signed_only: 'true' }))).toMatch(
      /signed requests only/,
    );
    expect(chatwootWebhook.verify(req({}, { token: 'x' }), { secret: null, options: {} })).toMatch(
      /no secret/,
    );
  });

  it('imports the fixture folder with --format auto', async () => {
    let events = 0;
    for (const f of FILES) {
      const got = await collect(readEvents(join(DIR, f), 'auto'));
      expect(got.rejects, f).toEqual([]);
      events += got.items.length;
    }
    expect(events).toBe(3);
  });

  it('survives 10,000 generated and mutated payloads with only valid events or typed rejects', () => {
    const bases = FILES.map((f) => JSON.parse(readFileSync(join(DIR, f), 'utf8')));
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
          for (const j of r.rejects) {
            expect(typeof j.reason).toBe('string');
            expect(j.reason).not.toMatch(/unreadable Chatwoot payload/);
          }
        },
      ),
      { numRuns: 10_000 },
    );
    expect(events).toBeGreaterThan(1000);
  });
});
