import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mutatedFrom } from '../../../test/support/mutate.ts';
import { validateEvent } from '../../model/events.ts';
import { readEvents } from '../index.ts';
import { splitDocuments } from '../platform/reader.ts';
import { collect, OWN_FIXTURES } from '../shared/testing.ts';
import { detectPlatform } from '../webhooks.ts';
import { wecomAppWebhook } from './webhook.ts';

const DIR = join(OWN_FIXTURES, 'wecom_app');
const files = readdirSync(DIR).filter((f) => f.endsWith('.xml'));
const doc = (f: string) => splitDocuments(readFileSync(join(DIR, f), 'utf8'))[0]!.doc;

describe('企业微信 self-built app callbacks', () => {
  it('reads every fixture: members’ messages as customer messages on wecom_app, events as rejects', async () => {
    expect(files).toHaveLength(12);
    let items = 0;
    let rejects = 0;
    for (const f of files) {
      expect(detectPlatform(doc(f))?.platform, f).toBe('wecom_app');
      const got = await collect(readEvents(join(DIR, f), 'auto'));
      for (const it of got.items) expect(validateEvent(it.raw).ok, f).toBe(true);
      items += got.items.length;
      rejects += got.rejects.length;
    }
    expect({ items, rejects }).toEqual({ items: 7, rejects: 5 });
    expect(
      wecomAppWebhook.parse(doc('wecom_callback__test_work_parser__test_parse_text_message.xml')).events,
    ).toEqual([
      {
        kind: 'message',
        id: '1234567890123456',
        ts: 1348831860000,
        channel: 'wecom_app',
        customer: { id: 'fromUser' },
        role: 'customer',
        msgType: 'text',
        text: 'this is a test',
      },
    ]);
    expect(
      wecomAppWebhook.parse(doc('wecom_callback__test_work_parser__test_subscribe_event.xml')).rejects[0]!
        .reason,
    ).toBe('event subscribe (关注, follow) is not conversation');
  });

  it('survives 10,000 mutated payloads with only valid events or typed rejects', () => {
    fc.assert(
      fc.property(mutatedFrom(files.map(doc)), (d) => {
        const r = wecomAppWebhook.parse(d);
        for (const e of r.events) expect(validateEvent(e).ok).toBe(true);
        for (const j of r.rejects) expect(typeof j.reason).toBe('string');
      }),
      { numRuns: 10_000 },
    );
  });
});
