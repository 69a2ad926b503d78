import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateEvent } from '../../model/events.ts';
import { readEvents } from '../index.ts';
import { assertTyped, mutatedPayloads } from '../shared/mutate.ts';
import { collect, OWN_FIXTURES } from '../shared/testing.ts';
import { BOT_FRAMEWORK_ISSUER } from './jwt.ts';
import { botKey, botToken } from './test-keys.ts';
import { botframeworkWebhook as bf } from './webhook.ts';

const DIR = join(OWN_FIXTURES, 'botframework');
const FILES = readdirSync(DIR).filter((f) => f.endsWith('.json'));
const load = (name: string) => JSON.parse(readFileSync(join(DIR, `${name}.json`), 'utf8'));

describe('Bot Framework (Skype / Teams) activities', () => {
  it('reads every fixture into valid events or typed rejects', () => {
    expect(FILES).toHaveLength(15);
    let events = 0;
    for (const f of FILES) {
      const r = bf.parse(JSON.parse(readFileSync(join(DIR, f), 'utf8')));
      expect(r.events.length + r.rejects.length, f).toBe(1);
      for (const e of r.events) expect(validateEvent(e).ok, f).toBe(true);
      events += r.events.length;
    }
    // The message, the endOfConversation and the handoff; the simple message has no timestamp.
    expect(events).toBe(3);
  });

  it('a user message: conversation.id, channelId as channel, the UTC timestamp', () => {
    expect(bf.parse(load('01-message')).events).toEqual([
      {
        kind: 'message',
        id: 'message-activity-1',
        ts: Date.UTC(2025, 8, 15, 10, 0, 1),
        channel: 'msteams',
        conversationId: 'conv-1',
        customer: { id: 'user-id-1', name: 'John Doe' },
        role: 'customer',
        msgType: 'text',
        text: 'Hello, I need help with my order.',
      },
    ]);
  });

  it("the bot's messages are the bot's; attachments without text set the msgType; local offsets are honoured", () => {
    const m = load('01-message');
    m.from = { id: 'bot-id-1', name: 'HelpBot', role: 'bot' };
    m.recipient = { id: 'user-id-1', name: 'John Doe', role: 'user' };
    delete m.text;
    delete m.timestamp;
    expect(bf.parse(m).events[0]).toMatchObject({
      role: 'bot',
      account: 'bot-id-1',
      accountName: 'HelpBot',
      customer: { id: 'user-id-1' },
      msgType: 'card',
      // localTimestamp 03:00:01-07:00 is 10:00:01 UTC.
      ts: Date.UTC(2025, 8, 15, 10, 0, 1),
    });
    m.attachments = [{ contentType: 'image/png', contentUrl: 'https://example.org/a.png' }];
    expect(bf.parse(m).events[0]).toMatchObject({ msgType: 'image' });
  });

  it('the handoff is an assignment to the live-agent hub at the handoff time', () => {
    expect(bf.parse(load('14-handoff')).events).toEqual([
      {
        kind: 'assignment',
        id: 'handoff-1',
        ts: Date.UTC(2025, 8, 15, 10, 0, 14),
        channel: 'custom-channel',
        conversationId: 'conv-8',
        account: 'human-agent-system',
        accountName: 'Live Agent Hub',
      },
    ]);
    const initiate = { ...load('06-event'), name: 'handoff.initiate', value: { skill: 'billing' } };
    expect(bf.parse(initiate).events[0]).toMatchObject({
      kind: 'assignment',
      account: 'handoff:webchat',
      conversationId: 'conv-5',
    });
  });

  it('endOfConversation closes it: completedSuccessfully is resolved, a failure code is not', () => {
    expect(bf.parse(load('05-endOfConversation')).events).toEqual([
      {
        kind: 'close',
        id: 'end-of-conv-1',
        ts: Date.UTC(2025, 8, 15, 10, 0, 5),
        channel: 'msteams',
        conversationId: 'conv-4',
        resolved: true,
      },
    ]);
    expect(bf.parse({ ...load('05-endOfConversation'), code: 'botTimedOut' }).events[0]).toMatchObject({
      resolved: false,
    });
  });

  it('names every activity that is not conversation', () => {
    const reasons = Object.fromEntries(
      FILES.map((f) => [f, bf.parse(JSON.parse(readFileSync(join(DIR, f), 'utf8'))).rejects[0]?.reason]),
    );
    expect(reasons['02-contactRelationUpdate.json']).toBe(
      'Bot Framework contactRelationUpdate: the user added or removed the bot, not a message',
    );
    expect(reasons['04-typing.json']).toBe('Bot Framework typing: a typing indicator, not a message');
    expect(reasons['06-event.json']).toBe(
      'Bot Framework event "locationReceived" is not a message or handoff',
    );
    expect(reasons['15-simple-message.json']).toBe(
      'timestamp: missing or not an ISO time (nor localTimestamp)',
    );
    for (const f of ['03', '07', '08', '09', '10', '11', '12', '13'])
      expect(Object.entries(reasons).find(([k]) => k.startsWith(f))![1]).toMatch(
        /^Bot Framework \w+: .*, not a message$/,
      );
    expect(bf.parse({ ...load('04-typing'), type: 'hologram' }).rejects[0]!.reason).toBe(
      'unknown Bot Framework activity type "hologram"',
    );
  });

  describe('the Bearer JWT', () => {
    const { privateKey, jwk } = botKey('key-1', ['msteams', 'skype']);
    const other = botKey('key-1');
    const options = { appId: 'app-123', jwks: JSON.stringify({ keys: [jwk] }) };
    const body = readFileSync(join(DIR, '01-message.json'));
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: BOT_FRAMEWORK_ISSUER, aud: 'app-123', exp: now + 3600, nbf: now - 60 };
    const req = (token?: string, b = body) => ({
      headers: token ? { authorization: `Bearer ${token}` } : {},
      body: b,
      query: {},
    });
    const check = (token?: string, b = body) => bf.verify(req(token, b), { secret: null, options });

    it('accepts a token signed by a listed key for this app', () => {
      expect(check(botToken(privateKey, 'key-1', claims))).toBeNull();
      expect(
        check(
          botToken(privateKey, 'key-1', { ...claims, serviceUrl: 'https://smba.trafficmanager.net/amer/' }),
        ),
      ).toBeNull();
    });

    it('refuses forged, foreign, stale, early, misdirected and malformed tokens', () => {
      expect(check(botToken(other.privateKey, 'key-1', claims))).toMatch(/signature does not match/);
      expect(check(botToken(privateKey, 'key-2', claims))).toMatch(/no key "key-2"/);
      expect(check(botToken(privateKey, 'key-1', { ...claims, aud: 'someone-else' }))).toMatch(/audience/);
      expect(check(botToken(privateKey, 'key-1', { ...claims, iss: 'https://evil.example' }))).toMatch(
        /issuer/,
      );
      expect(check(botToken(privateKey, 'key-1', { ...claims, exp: now - 600 }))).toMatch(/expired/);
      expect(check(botToken(privateKey, 'key-1', { ...claims, nbf: now + 600 }))).toMatch(/not valid yet/);
      expect(
        check(botToken(privateKey, 'key-1', { ...claims, serviceUrl: 'https://evil.example/' })),
      ).toMatch(/serviceUrl/);
      expect(check(botToken(privateKey, 'key-1', claims, 'none'))).toMatch(/alg "none"/);
      const webchat = Buffer.from(JSON.stringify({ ...load('01-message'), channelId: 'webchat' }));
      expect(check(botToken(privateKey, 'key-1', claims), webchat)).toMatch(
        /not endorsed for channel webchat/,
      );
      expect(check('not.a-token')).toMatch(/not a JWT|base64url/);
      expect(check()).toMatch(/missing Authorization/);
      expect(
        bf.verify(req(botToken(privateKey, 'key-1', claims)), { secret: null, options: { appId: 'x' } }),
      ).toMatch(/jwks/);
    });
  });

  it('imports the fixture files with --format auto', async () => {
    let items = 0;
    for (const f of FILES) {
      const got = await collect(readEvents(join(DIR, f), 'auto'));
      for (const r of got.rejects) expect(r.reason, f).toMatch(/^botframework /);
      items += got.items.length;
    }
    expect(items).toBe(3);
  });

  it('survives 10,000 mutated activities with only valid events or typed rejects', () => {
    const bases = FILES.map((f) => JSON.parse(readFileSync(join(DIR, f), 'utf8')));
    fc.assert(
      fc.property(mutatedPayloads(bases), (doc) => assertTyped(bf.parse(doc))),
      { numRuns: 10_000 },
    );
  });
});
