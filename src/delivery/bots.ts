/**
 * Group bots (custom robots) of the three chat tools teams in China use, each as its platform
 * documents it:
 *   企业微信群机器人  POST {webhook} markdown; files via upload_media?key=…&type=file (multipart
 *                    field "media"), then a message of msgtype "file" with the media_id.
 *   钉钉自定义机器人  POST {webhook}&timestamp=…&sign=…, sign = base64(HMAC-SHA256(secret,
 *                    timestamp + "\n" + secret)), URL-encoded; markdown only, so files go as links.
 *   飞书自定义机器人  POST {webhook} with timestamp (s) and sign in the body, sign =
 *                    base64(HMAC-SHA256(key = timestamp + "\n" + secret, message = "")); a rich
 *                    text "post", files as links.
 * A reply with a non-zero errcode / code is a failure (the bots answer HTTP 200 to most errors).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { asMarkdown, type PushMessage } from './message.ts';
import { type Recipient, resolveWebhook, secretFromEnv } from './schedules.ts';

const TIMEOUT_MS = 20_000;
/** WeCom refuses files above 20 MB. */
const WECOM_MAX_FILE = 20 * 2 ** 20;

export function dingtalkSign(secret: string, timestampMs: number): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`).digest('base64');
}

export function feishuSign(secret: string, timestampS: number): string {
  return createHmac('sha256', `${timestampS}\n${secret}`).update('').digest('base64');
}

async function postJson(url: string, body: unknown, what: string): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  return checkReply(res, what);
}

async function checkReply(res: Response, what: string): Promise<Record<string, unknown>> {
  const text = await res.text();
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${text.slice(0, 200)}`);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${what}: 回复不是 JSON / reply is not JSON: ${text.slice(0, 200)}`);
  }
  const code = json.errcode ?? json.code ?? json.StatusCode ?? 0;
  if (code !== 0) throw new Error(`${what}: ${String(code)} ${String(json.errmsg ?? json.msg ?? '')}`.trim());
  return json;
}

export interface BotContext {
  env?: NodeJS.ProcessEnv;
  /** Clock for signatures; tests pin it. */
  now?: () => number;
}

/** Sends the message (and, where the bot can carry them, the files) to one bot recipient. */
export async function sendToBot(
  r: Exclude<Recipient, { kind: 'email' }>,
  m: PushMessage,
  files: string[],
  ctx: BotContext = {},
): Promise<void> {
  const env = ctx.env ?? process.env;
  const now = ctx.now ?? Date.now;
  const url = resolveWebhook(r.webhook, env);
  switch (r.kind) {
    case 'wecom': {
      await postJson(
        url,
        { msgtype: 'markdown', markdown: { content: clip(asMarkdown(m, 'wecom'), 4096) } },
        '企业微信机器人 / WeCom bot',
      );
      for (const f of files) {
        const media = await wecomUpload(url, f);
        await postJson(
          url,
          { msgtype: 'file', file: { media_id: media } },
          '企业微信机器人文件 / WeCom bot file',
        );
      }
      return;
    }
    case 'dingtalk': {
      const secret = secretFromEnv(r.secretEnv, env);
      let target = url;
      if (secret) {
        const ts = now();
        const u = new URL(url);
        u.searchParams.set('timestamp', String(ts));
        u.searchParams.set('sign', dingtalkSign(secret, ts));
        target = u.toString();
      }
      await postJson(
        target,
        { msgtype: 'markdown', markdown: { title: m.title, text: clip(asMarkdown(m, 'dingtalk'), 5000) } },
        '钉钉机器人 / DingTalk bot',
      );
      return;
    }
    case 'feishu': {
      const secret = secretFromEnv(r.secretEnv, env);
      const ts = Math.floor(now() / 1000);
      const signed = secret ? { timestamp: String(ts), sign: feishuSign(secret, ts) } : {};
      await postJson(
        url,
        { ...signed, msg_type: 'post', content: { post: { zh_cn: feishuPost(m) } } },
        '飞书机器人 / Feishu bot',
      );
      return;
    }
  }
}

function feishuPost(m: PushMessage) {
  const text = (t: string) => [{ tag: 'text', text: t }];
  const content = m.headlines.map((h) =>
    text(`${h.label}:${h.value}${h.change ? `(环比 ${h.change})` : ''}`),
  );
  if (m.anomalies.length)
    content.push(text(`异常提醒 ${m.anomalies.length} 条:`), ...m.anomalies.map((a) => text(`· ${a}`)));
  for (const f of m.files)
    content.push(f.url ? [{ tag: 'a', text: f.name, href: f.url } as never] : text(`文件:${f.name}`));
  return { title: m.title, content };
}

/** upload_media: the same key as the webhook, multipart with the length WeCom asks for. */
async function wecomUpload(webhook: string, file: string): Promise<string> {
  const data = readFileSync(file);
  if (data.length > WECOM_MAX_FILE)
    throw new Error(
      `${basename(file)}: ${data.length} 字节,企业微信机器人文件上限 20 MB / over the WeCom bot's 20 MB file limit`,
    );
  const u = new URL(webhook);
  u.pathname = u.pathname.replace(/\/send$/, '/upload_media');
  u.searchParams.set('type', 'file');
  const boundary = `----cspulse${randomBytes(12).toString('hex')}`;
  const name = basename(file).replace(/"/g, '');
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="media"; filename="${name}"; filelength=${data.length}\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const body = Buffer.concat([head, data, Buffer.from(`\r\n--${boundary}--\r\n`)]);
  const res = await fetch(u, {
    method: 'POST',
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    body,
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const json = await checkReply(res, `企业微信上传 / WeCom upload ${name}`);
  if (typeof json.media_id !== 'string' || !json.media_id)
    throw new Error(`企业微信上传 / WeCom upload ${name}: no media_id in the reply`);
  return json.media_id;
}

/** Cut a message to the bot's limit (bytes of UTF-8), on a character boundary. */
function clip(s: string, maxBytes: number): string {
  if (Buffer.byteLength(s) <= maxBytes) return s;
  let out = '';
  let n = 0;
  for (const ch of s) {
    const b = Buffer.byteLength(ch);
    if (n + b > maxBytes - 4) break;
    out += ch;
    n += b;
  }
  return `${out}\n…`;
}
