import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mutatedFrom } from '../../../test/support/mutate.ts';
import { addSource } from '../../ingest/sources.ts';
import { validateEvent } from '../../model/events.ts';
import { openStore } from '../../store/db.ts';
import { readEvents } from '../index.ts';
import { collect, OWN_FIXTURES, tempDir } from '../shared/testing.ts';
import { detectPlatform } from '../webhooks.ts';
import { wecomMsgauditConnector as connector } from './connector.ts';

const DIR = join(OWN_FIXTURES, 'wecom_msgaudit');
const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));
// biome-ignore lint/suspicious/noExplicitAny: fixtures are edited field by field.
const doc = (name: string): any => JSON.parse(readFileSync(join(DIR, `${name}.json`), 'utf8'));
const parse = (d: unknown) => connector.parse(d);

describe('企业微信 会话内容存档', () => {
  it('reads all 30 fixtures: messages with an external contact, rejects saying why for the rest', () => {
    expect(files).toHaveLength(30);
    const byFile: Record<string, string> = {};
    for (const f of files) {
      const d = JSON.parse(readFileSync(join(DIR, f), 'utf8'));
      expect(detectPlatform(d)?.platform, f).toBe('wecom_msgaudit');
      const r = parse(d);
      expect(r.events.length + r.rejects.length, f).toBe(1);
      for (const e of r.events) expect(validateEvent(e).ok, f).toBe(true);
      byFile[f.replace('.json', '')] = r.events[0]
        ? `${(r.events[0] as { role: string }).role}`
        : r.rejects[0]!.reason.replace(/ \(.*$/, '').slice(0, 30);
    }
    expect(byFile).toEqual({
      agree: 'msgtype agree',
      calendar: 'internal chat',
      card: 'agent',
      chatrecord: 'internal chat',
      collect: 'internal chat',
      collect_2: 'internal chat',
      disagree: 'msgtype disagree',
      docMsg: 'internal chat',
      emotion: 'agent',
      externalRedpacket: 'customer',
      file: 'agent',
      image: 'msgtime 0 is not epoch millise',
      link: 'internal chat',
      location: 'agent',
      markDown: 'internal chat',
      meeting: 'internal chat',
      meetingVoiceCall: 'customer',
      meeting_2: 'internal chat',
      mixed: 'internal chat',
      news: 'internal chat',
      redpacket: 'internal chat',
      revoke: 'action recall',
      sphfeed: 'agent',
      switchlog: 'action switch',
      text: 'internal chat',
      video: 'agent',
      voice: 'customer',
      voipDocShare: 'agent',
      voipDocShare_2: 'agent',
      weapp: 'agent',
    });
  });

  it('roles by id: members are agents (userid = account), wo/wm customers, wb robots; a group is its room', () => {
    expect(parse(doc('voice')).events[0]).toEqual({
      kind: 'message',
      id: '10958372969718811103_1603875609',
      ts: 1603875609704,
      channel: 'wecom',
      customer: { id: 'wmGAgeDQAAdBjb8CK4ieMPRm7Cqm-9VA' },
      role: 'customer',
      msgType: 'voice',
    });
    expect(parse(doc('location')).events[0]).toEqual({
      kind: 'message',
      id: '2641513858500683770_1603876152',
      ts: 1603876152141,
      channel: 'wecom',
      customer: { id: 'wmN6etBgAA0sbJ3invMvRxPQDFoq9uWA' },
      role: 'agent',
      account: 'icefog',
      msgType: 'location',
      text: 'xxx管理中心\n北京市xxx区xxx路xxx大厦x座',
    });
    expect(parse(doc('externalRedpacket')).events[0]).toMatchObject({
      customer: { id: 'wrJ7ijBwAAG1vly_DzVI72Ghc-PtA5Dw' },
      role: 'customer',
      msgType: 'external_redpacket',
      text: '恭喜发财，大吉大利',
    });
    const text = doc('text');
    text.tolist = ['wmCustomer1'];
    expect(parse(text).events[0]).toMatchObject({
      role: 'agent',
      account: 'XuJinSheng',
      customer: { id: 'wmCustomer1' },
      text: '这是一条引用/回复消息："\n------\n@nick777',
    });
    const mixed = doc('mixed');
    mixed.tolist.push('woGuest');
    expect(parse(mixed).events[0]).toMatchObject({
      customer: { id: 'wr_tZ2BwAAUwHpYMwy9cIWqnlU3Hzqfg' },
      msgType: 'mixed',
      text: '你好[微笑]',
    });
    const robot = doc('text');
    robot.from = 'wbRobot';
    robot.tolist = ['wmCustomer1'];
    expect(parse(robot).events[0]).toMatchObject({ role: 'bot', account: 'wbRobot' });
    // Not decrypted yet: recognised, and the reject says what to do.
    const sealed = {
      errcode: 0,
      errmsg: 'ok',
      chatdata: [
        {
          seq: 196,
          msgid: 'CAQQ2fbb4QUY0On2rYSAgAMgip/yzgs=',
          publickey_ver: 3,
          encrypt_random_key: 'ftJ+uz3n',
          encrypt_chat_msg:
            '898WSfGMnIeytTsea7Rc0WsOocs0bIAerF6de0v2cFwqo9uOxrW9wYe5rCjCHHH5bDrNvLxBE/xOoFfcwOTYX0HQxTJaH0ES9OHDZ61p8gcbfGdJKnq2UU4tAEgGb8H+Q9n8syRXIjaI3KuVCqGIi4QGHFmxWenPFfjF/vRuPd0EpzUNwmqfUxLBWLpGhv+dLnqiEOBW41Zdc0OO0St6E+JeIeHlRZAR+E13Isv9eS09xNbF0qQXWIyNUi+ucLr5VuZnPGXBrSfvwX8f0QebTwpy1tT2zvQiMM2MBugKH6NuMzzuvEsXeD+6+3VRqL',
        },
      ],
    };
    expect(detectPlatform(sealed)?.platform).toBe('wecom_msgaudit');
    expect(parse(sealed).rejects[0]!.reason).toMatch(/decrypt it with the Finance SDK/);
    // Records in seconds (some SDK wrappers convert) are read as seconds.
    const seconds = doc('voice');
    seconds.msgtime = 1603875609;
    expect(parse(seconds).events[0]!.ts).toBe(1603875609000);
  });

  it('is file import only: not a live source, and every request is refused', async () => {
    expect(connector.live).toBe(false);
    expect(
      connector.verify({ headers: {}, body: Buffer.from('{}'), query: {} }, { secret: 'x', options: {} }),
    ).toMatch(/pull only/);
    const tmp = tempDir();
    const store = await openStore(join(tmp.dir, 'a.db'));
    try {
      await expect(addSource(store, { platform: 'wecom_msgaudit', name: '存档' })).rejects.toThrow(
        /file import only/,
      );
    } finally {
      await store.close();
      tmp.cleanup();
    }
  });

  it('cspulse import --format auto reads the fixture folder', async () => {
    let items = 0;
    let rejects = 0;
    for (const f of files) {
      const got = await collect(readEvents(join(DIR, f), 'auto'));
      items += got.items.length;
      rejects += got.rejects.length;
      for (const j of got.rejects) expect(j.reason).toMatch(/^wecom_msgaudit /);
    }
    expect({ items, rejects }).toEqual({ items: 12, rejects: 18 });
  });

  it('survives 10,000 mutated records with only valid events or typed rejects', () => {
    const bases = files.map((f) => JSON.parse(readFileSync(join(DIR, f), 'utf8')));
    for (const b of bases) if (Array.isArray(b.tolist) && b.action === 'send') b.tolist.push('wmX');
    fc.assert(
      fc.property(mutatedFrom(bases), (d) => {
        const r = parse(d);
        for (const e of r.events) expect(validateEvent(e).ok).toBe(true);
        for (const j of r.rejects) expect(typeof j.reason).toBe('string');
      }),
      { numRuns: 10_000 },
    );
  });

  it('ids, senders, receivers and rooms at every length up to past the model’s limits: valid or rejected', () => {
    const bases = files.map((f) => JSON.parse(readFileSync(join(DIR, f), 'utf8')));
    fc.assert(
      fc.property(
        fc.constantFrom(...bases),
        fc.constantFrom('msgid', 'from', 'roomid', 'tolist'),
        fc.constantFrom('', 'wm', 'wb'),
        fc.integer({ min: 1, max: 520 }),
        (base, field, prefix, n) => {
          const v = prefix + 'x'.repeat(n);
          const d = { ...base, [field]: field === 'tolist' ? [v] : v };
          for (const e of parse(d).events) expect(validateEvent(e).ok).toBe(true);
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
