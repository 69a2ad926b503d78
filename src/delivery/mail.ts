/**
 * E-mail over SMTP with nodemailer. The server comes from the environment, never from the
 * database: CSPULSE_SMTP_URL (smtp://user:pass@host:587, smtps://… for implicit TLS), or
 * SMTP_HOST, SMTP_PORT, SMTP_USER, SMTP_PASS (SMTP_SECURE=true for implicit TLS); the sender is
 * CSPULSE_MAIL_FROM.
 */
import { basename } from 'node:path';
import nodemailer from 'nodemailer';
import { asHtml, asText, type PushMessage } from './message.ts';

export interface MailConfig {
  transport: string | Record<string, unknown>;
  from: string;
  /** For messages: the server without its password. */
  describe: string;
}

export function mailConfig(env: NodeJS.ProcessEnv = process.env): MailConfig {
  const from = env.CSPULSE_MAIL_FROM;
  if (!from)
    throw new Error('未设置发件人 CSPULSE_MAIL_FROM / CSPULSE_MAIL_FROM (the sender address) is not set');
  if (env.CSPULSE_SMTP_URL) {
    const url = env.CSPULSE_SMTP_URL;
    return { transport: url, from, describe: url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@') };
  }
  if (!env.SMTP_HOST)
    throw new Error(
      '未配置 SMTP:请设置 CSPULSE_SMTP_URL 或 SMTP_HOST/SMTP_PORT/SMTP_USER/SMTP_PASS / SMTP is not configured: set CSPULSE_SMTP_URL or SMTP_HOST, SMTP_PORT, SMTP_USER, SMTP_PASS',
    );
  const port = Number(env.SMTP_PORT ?? 587);
  if (!Number.isInteger(port) || port <= 0)
    throw new Error(`SMTP_PORT: expected a port number, got "${env.SMTP_PORT}"`);
  const secure = env.SMTP_SECURE === 'true' || port === 465;
  return {
    transport: {
      host: env.SMTP_HOST,
      port,
      secure,
      ...(env.SMTP_USER ? { auth: { user: env.SMTP_USER, pass: env.SMTP_PASS ?? '' } } : {}),
    },
    from,
    describe: `${secure ? 'smtps' : 'smtp'}://${env.SMTP_USER ? `${env.SMTP_USER}:***@` : ''}${env.SMTP_HOST}:${port}`,
  };
}

export async function sendMail(
  to: string[],
  m: PushMessage,
  files: string[],
  env?: NodeJS.ProcessEnv,
): Promise<string> {
  const cfg = mailConfig(env);
  const transport = nodemailer.createTransport(
    cfg.transport as Parameters<typeof nodemailer.createTransport>[0],
  );
  try {
    const info = await transport.sendMail({
      from: cfg.from,
      to,
      subject: m.title,
      text: asText(m),
      html: asHtml(m),
      attachments: files.map((path) => ({ filename: basename(path), path })),
    });
    return String(info.messageId ?? '');
  } catch (e) {
    throw new Error(
      `邮件发送失败 / mail to ${to.join(', ')} via ${cfg.describe} failed: ${(e as Error).message}`,
    );
  } finally {
    transport.close();
  }
}
