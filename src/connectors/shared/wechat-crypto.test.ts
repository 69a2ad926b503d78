import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OWN_FIXTURES } from './testing.ts';
import { parseXml } from './xml.ts';
import {
  randomAesKey,
  sha1Sorted,
  signedEncryptedPost,
  wechatEncrypt,
} from '../../../test/support/wechat.ts';
import {
  aesKeyOf,
  callbackProtocol,
  flatXml,
  decryptMessage,
  MAX_CLOCK_SKEW_S,
  wechatSignature,
} from './wechat-crypto.ts';

const req = (query: Record<string, string>, body = '') => ({ headers: {}, body: Buffer.from(body), query });

describe('WXBizMsgCrypt', () => {
  it('opens the official samples: the 公众号 Java sample and the 企业微信 VerifyURL example', () => {
    // Published with Tencent's WXBizMsgCrypt samples: AES key, appid and the ciphertext of 我是中文abcd123.
    expect(
      decryptMessage(
        'jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==',
        'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
        'wxb11529c136998cb6',
      ),
    ).toEqual({ message: '我是中文abcd123', receiveId: 'wxb11529c136998cb6' });
    const echostr =
      'P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==';
    expect(wechatSignature('QDG6eK', '1409659589', '263014780', echostr)).toBe(
      '5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3',
    );
    expect(
      decryptMessage(echostr, 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C', 'wx5823bf96d3bd56c7'),
    ).toEqual({
      message: '1616140317555161061',
      receiveId: 'wx5823bf96d3bd56c7',
    });
  });

  it('round-trips what the platform encrypts, any length, and refuses the wrong key, receiver or padding', () => {
    const key = randomAesKey();
    for (const msg of ['', 'a', 'x'.repeat(31), 'x'.repeat(32), '<xml>你好</xml>'.repeat(50)]) {
      expect(decryptMessage(wechatEncrypt(msg, key, 'wwcorp'), key, 'wwcorp')).toEqual({
        message: msg,
        receiveId: 'wwcorp',
      });
    }
    const enc = wechatEncrypt('hello', key, 'wwcorp');
    expect(decryptMessage(enc, key, 'wwother')).toEqual({
      error: expect.stringMatching(/encrypted for "wwcorp"/),
    });
    const other = decryptMessage(enc, randomAesKey());
    expect('error' in other).toBe(true);
    expect(decryptMessage('not base64!', key)).toEqual({ error: 'Encrypt is not base64' });
    expect(decryptMessage('AAAA', key)).toEqual({
      error: expect.stringMatching(/not a whole number of AES blocks/),
    });
    expect(aesKeyOf('short')).toMatch(/43 characters/);
  });

  it('signs plain mode over token, timestamp, nonce, sorted', () => {
    expect(wechatSignature('b', 'a', 'c')).toBe(sha1Sorted('a', 'b', 'c'));
    expect(wechatSignature('token', '1', '2')).not.toBe(wechatSignature('token', '1', '3'));
  });
});

describe('callback protocol', () => {
  const token = 'tok3n';
  const aesKey = randomAesKey();
  const now = Date.now();
  const ts = String(Math.floor(now / 1000));

  it('公众号 plain mode: signature over token, timestamp and nonce; the echostr is echoed', () => {
    const oa = callbackProtocol('oa');
    const creds = { secret: token, options: {} };
    const signature = sha1Sorted(token, ts, '42');
    expect(oa.verify(req({ signature, timestamp: ts, nonce: '42' }), creds, now)).toBeNull();
    expect(oa.verify(req({ signature, timestamp: ts, nonce: '43' }), creds, now)).toMatch(/does not match/);
    expect(oa.verify(req({ timestamp: ts, nonce: '42' }), creds, now)).toMatch(/signature missing/);
    const old = String(Number(ts) - MAX_CLOCK_SKEW_S - 5);
    expect(
      oa.verify(req({ signature: sha1Sorted(token, old, '1'), timestamp: old, nonce: '1' }), creds, now),
    ).toMatch(/minutes from this server's clock/);
    expect(oa.handshake(req({ signature, timestamp: ts, nonce: '42', echostr: 'e123' }), creds)).toEqual({
      status: 200,
      contentType: 'text/plain',
      body: 'e123',
    });
    expect(
      oa.handshake(req({ signature: 'f'.repeat(40), timestamp: ts, nonce: '42', echostr: 'e' }), creds)
        .status,
    ).toBe(401);
    // A source in safe mode does not take plain requests, whose signature does not cover the body.
    expect(
      oa.verify(req({ signature, timestamp: ts, nonce: '42' }), { secret: token, options: { aesKey } }, now),
    ).toMatch(/safe mode/);
  });

  it('safe mode: msg_signature covers the Encrypt; the body opens to the inner XML', () => {
    const oa = callbackProtocol('oa');
    const creds = { secret: token, options: { aesKey, appId: 'wxapp' } };
    const inner = '<xml><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[在吗]]></Content></xml>';
    const post = signedEncryptedPost(inner, { token, aesKey, receiveId: 'wxapp', timestamp: ts });
    const r = req(post.query, post.body);
    expect(oa.verify(r, creds, now)).toBeNull();
    expect(oa.open(r, creds)).toEqual({ doc: { MsgType: 'text', Content: '在吗' } });
    expect(
      oa.verify(
        req(
          post.query,
          post.body.replace(/Encrypt><!\[CDATA\[(.)/, (_, c) => `Encrypt><![CDATA[${c === 'Z' ? 'Y' : 'Z'}`),
        ),
        creds,
        now,
      ),
    ).toMatch(/msg_signature does not match/);
    expect(oa.verify(req(post.query, '<xml></xml>'), creds, now)).toMatch(/no <Encrypt>/);
    expect(oa.open(r, { secret: token, options: { aesKey, appId: 'wxother' } })).toEqual({
      error: expect.stringMatching(/encrypted for "wxapp"/),
    });
  });

  it('企业微信: always encrypted; the GET echostr is answered decrypted', () => {
    const wecom = callbackProtocol('wecom');
    const creds = { secret: token, options: { aesKey, corpId: 'wwcorp' } };
    const echostr = wechatEncrypt('8765309', aesKey, 'wwcorp');
    const q = { msg_signature: sha1Sorted(token, ts, '7', echostr), timestamp: ts, nonce: '7', echostr };
    expect(wecom.handshake(req(q), creds)).toEqual({
      status: 200,
      contentType: 'text/plain',
      body: '8765309',
    });
    expect(wecom.handshake(req({ ...q, nonce: '8' }), creds).status).toBe(401);
    // Plain 公众号-style signatures mean nothing to 企业微信.
    expect(
      wecom.verify(req({ signature: sha1Sorted(token, ts, '7'), timestamp: ts, nonce: '7' }), creds, now),
    ).toMatch(/msg_signature missing/);
    expect(wecom.verify(req({}), { secret: null, options: {} }, now)).toMatch(/no token/);
  });
});

describe('flat XML fast path', () => {
  const general = (text: string) => {
    const r = parseXml(text);
    return 'doc' in r ? r.doc.xml : { error: r.error };
  };

  it('reads flat WeChat messages exactly as the general parser does, and leaves the rest to it', () => {
    const name = fc.constantFrom(
      'ToUserName',
      'FromUserName',
      'CreateTime',
      'MsgType',
      'Content',
      'MsgId',
      'a',
      'b_1',
      'x.y',
      '__proto__',
      'constructor',
      'prototype',
      'toString',
      'hasOwnProperty',
    );
    const value = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.constantFrom('', ' 1 ', '你好 <b>', ']]>', '&lt;', '&', 'a > b', '\n多行\n', '\u0000', '\ud800'),
    );
    const element = fc
      .tuple(name, value, fc.boolean(), fc.constantFrom('', ' ', '\n', '\r\n\t'))
      .map(([n, v, cdata, ws]) => `${ws}<${n}>${cdata ? `<![CDATA[${v}]]>` : v}</${n}>`);
    const doc = fc
      .tuple(fc.array(element, { maxLength: 8 }), fc.constantFrom('', '\n', ' '))
      .map(([els, ws]) => `${ws}<xml>${els.join('')}${ws}</xml>${ws}`);
    let fast = 0;
    fc.assert(
      fc.property(fc.oneof(doc, fc.string()), (text) => {
        const f = flatXml(text);
        if (f === null) return;
        fast++;
        expect(f).toEqual(general(text));
      }),
      { numRuns: 5_000 },
    );
    // Enough generated documents take the fast path (the others repeat or reserve names).
    expect(fast).toBeGreaterThan(100);
    // Every message and event fixture of the family is flat: all take it, and agree.
    for (const dir of ['wechat_oa', 'wecom_app', 'wecom_kf'])
      for (const f of readdirSync(join(OWN_FIXTURES, dir)).filter((n) => n.endsWith('.xml'))) {
        const text = readFileSync(join(OWN_FIXTURES, dir, f), 'utf8');
        expect(flatXml(text), f).toEqual(general(text));
      }
    expect(flatXml('<xml><a x="1">v</a></xml>')).toBeNull();
    expect(flatXml('<xml><a><b>v</b></a></xml>')).toBeNull();
    expect(flatXml('<xml><a>1</a><a>2</a></xml>')).toBeNull();
    expect(flatXml('<?xml version="1.0"?><xml><a>1</a></xml>')).toBeNull();
    expect(flatXml(`<xml>${'<a>'.repeat(5000)}</xml>`)).toBeNull();
  });
});
