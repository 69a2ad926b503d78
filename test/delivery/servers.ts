/**
 * Real receivers on 127.0.0.1 for delivery tests: an SMTP server (smtp-server) that parses what it
 * receives (mailparser), and one HTTP server that answers as 企业微信, 钉钉 and 飞书 group bots do,
 * verifying their signatures itself (independently of src/delivery).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface Mail {
  from: string;
  to: string[];
  parsed: ParsedMail;
}

export async function startSmtp(): Promise<{
  url: string;
  mails: Mail[];
  /** The next n messages are refused with a temporary 451. */
  failNext: (n: number) => void;
  close: () => Promise<void>;
}> {
  const mails: Mail[] = [];
  let failing = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          if (failing > 0) {
            failing--;
            callback(Object.assign(new Error('mailbox busy, try again later'), { responseCode: 451 }));
            return;
          }
          mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            parsed,
          });
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    failNext: (n) => {
      failing = n;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export interface BotHit {
  bot: 'wecom' | 'wecom_upload' | 'dingtalk' | 'feishu';
  /** JSON body, or for uploads the file: name, declared length, bytes. */
  body: Record<string, unknown>;
  file?: { name: string; filelength: number; data: Buffer };
  signatureOk?: boolean;
}

const equal = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * WeCom: /cgi-bin/webhook/send?key=K and /cgi-bin/webhook/upload_media?key=K&type=file.
 * DingTalk: /robot/send?access_token=T&timestamp&sign. Feishu: /open-apis/bot/v2/hook/<token>.
 */
export async function startBots(secrets: { dingtalk: string; feishu: string; wecomKey: string }): Promise<{
  base: string;
  hits: BotHit[];
  close: () => Promise<void>;
}> {
  const hits: BotHit[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const reply = (o: unknown) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(o));
      };
      if (url.pathname === '/cgi-bin/webhook/upload_media') {
        if (url.searchParams.get('key') !== secrets.wecomKey || url.searchParams.get('type') !== 'file')
          return reply({ errcode: 93000, errmsg: 'invalid webhook url' });
        const boundary = /boundary=(.+)$/.exec(req.headers['content-type'] ?? '')?.[1];
        const text = raw.toString('latin1');
        const headerEnd = text.indexOf('\r\n\r\n');
        const disposition = Buffer.from(text.slice(0, headerEnd), 'latin1').toString('utf8');
        const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? '';
        const filelength = Number(/filelength=(\d+)/.exec(disposition)?.[1]);
        const end = text.lastIndexOf(`\r\n--${boundary}--`);
        const data = raw.subarray(headerEnd + 4, end);
        hits.push({ bot: 'wecom_upload', body: {}, file: { name, filelength, data } });
        return reply({
          errcode: 0,
          errmsg: 'ok',
          type: 'file',
          media_id: `media_${hits.length}`,
          created_at: '1',
        });
      }
      const body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
      if (url.pathname === '/cgi-bin/webhook/send') {
        if (url.searchParams.get('key') !== secrets.wecomKey)
          return reply({ errcode: 93000, errmsg: 'invalid webhook url' });
        hits.push({ bot: 'wecom', body });
        return reply({ errcode: 0, errmsg: 'ok' });
      }
      if (url.pathname === '/robot/send') {
        const ts = url.searchParams.get('timestamp') ?? '';
        const expected = createHmac('sha256', secrets.dingtalk)
          .update(`${ts}\n${secrets.dingtalk}`)
          .digest('base64');
        // URLSearchParams has already decoded the URL-encoded sign.
        const ok = equal(url.searchParams.get('sign') ?? '', expected);
        hits.push({ bot: 'dingtalk', body, signatureOk: ok });
        return reply(ok ? { errcode: 0, errmsg: 'ok' } : { errcode: 310000, errmsg: 'sign not match' });
      }
      if (url.pathname.startsWith('/open-apis/bot/v2/hook/')) {
        const ts = String(body.timestamp ?? '');
        const expected = createHmac('sha256', `${ts}\n${secrets.feishu}`).update('').digest('base64');
        const ok = equal(String(body.sign ?? ''), expected);
        hits.push({ bot: 'feishu', body, signatureOk: ok });
        return reply(
          ok
            ? { code: 0, msg: 'success', data: {} }
            : { code: 19021, msg: 'sign match fail or timestamp is not within one hour from current time' },
        );
      }
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    hits,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
