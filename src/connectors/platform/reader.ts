/**
 * Platform payloads saved to files: what a platform's webhook or API sent, kept as it came (after
 * decryption). A file holds one JSON document, a JSON array of them, one document per line, or
 * XML documents (`<xml>…</xml>` one after another). The platform's connector (webhooks.ts) reads
 * each document exactly as it reads a webhook body, so a file import and the live path give the
 * same events.
 */
import { readFile } from 'node:fs/promises';
import type { Reject } from '../../model/events.ts';
import { assertHasContent, binaryReason, openInput, sniffEncoding } from '../shared/input.ts';
import { createDecoder } from '../shared/lines.ts';
import { parseXml } from '../shared/xml.ts';
import { clip, type ReadBatch } from '../types.ts';
import { detectPlatform, type WebhookConnector, webhookConnector } from '../webhooks.ts';

/** Payload files are read whole: platforms' exports of this kind stay far below this. */
export const MAX_PAYLOAD_FILE_BYTES = 256 * 1024 * 1024;

export interface PayloadDocument {
  /** 1-based line where the document starts. */
  line: number;
  doc?: unknown;
  error?: string;
}

/** Split a payload file's text into documents. */
export function splitDocuments(text: string): PayloadDocument[] {
  const body = text.replace(/^\uFEFF/, '');
  const start = body.search(/\S/);
  if (start < 0) return [];
  const lineAt = (offset: number) => countLines(body, offset);
  if (body[start] === '<') {
    const out: PayloadDocument[] = [];
    const re = /<xml[\s>][\s\S]*?<\/xml>/g;
    for (let m = re.exec(body); m; m = re.exec(body)) {
      const parsed = parseXml(m[0]);
      out.push({
        line: lineAt(m.index),
        ...('doc' in parsed ? { doc: parsed.doc.xml ?? parsed.doc } : parsed),
      });
    }
    if (out.length) return out;
    const parsed = parseXml(body);
    return [{ line: lineAt(start), ...('doc' in parsed ? { doc: parsed.doc } : parsed) }];
  }
  try {
    const whole = JSON.parse(body) as unknown;
    return Array.isArray(whole)
      ? whole.map((doc) => ({ line: lineAt(start), doc }))
      : [{ line: lineAt(start), doc: whole }];
  } catch {
    // Not one JSON document: one per line.
  }
  const out: PayloadDocument[] = [];
  body.split('\n').forEach((l, i) => {
    if (!l.trim()) return;
    try {
      out.push({ line: i + 1, doc: JSON.parse(l) });
    } catch (e) {
      out.push({ line: i + 1, error: `invalid JSON: ${(e as Error).message}` });
    }
  });
  return out;
}

function countLines(text: string, offset: number): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** The platform of a payload file from its first document, or null. */
export function detectPayloadPlatform(text: string): WebhookConnector | null {
  for (const d of splitDocuments(text).slice(0, 5))
    if (d.doc !== undefined) return detectPlatform(d.doc) ?? null;
  return null;
}

export async function readPayloadText(path: string): Promise<string> {
  const opened = await openInput(path);
  if (opened.size > MAX_PAYLOAD_FILE_BYTES)
    throw new Error(
      `${path}: ${opened.size} bytes; payload files are read whole, at most ${MAX_PAYLOAD_FILE_BYTES}`,
    );
  const sniffed = sniffEncoding(opened.head, opened.size <= opened.head.length);
  const why = binaryReason(opened.head, sniffed);
  if (why) throw new Error(`${path}: ${why}`);
  assertHasContent(opened, sniffed);
  const bytes = await readFile(path);
  const decoder = createDecoder(sniffed.encoding);
  return decoder.write(bytes.subarray(sniffed.bomLength)) + decoder.end();
}

/** Events of a payload file, through its platform's connector (given, or detected). */
export async function* readPayloadFile(path: string, platform?: string): AsyncGenerator<ReadBatch> {
  const text = await readPayloadText(path);
  const connector = platform ? webhookConnector(platform) : detectPayloadPlatform(text);
  if (!connector) throw new Error(`${path}: not a payload of any known platform`);
  const batch: ReadBatch = { items: [], rejects: [], bytesRead: 0, totalBytes: Buffer.byteLength(text) };
  const reject = (line: number, reason: string, raw?: unknown): Reject => ({
    file: path,
    line,
    reason,
    ...(raw === undefined ? {} : { raw: clip(typeof raw === 'string' ? raw : JSON.stringify(raw)) }),
  });
  for (const d of splitDocuments(text)) {
    if (d.error !== undefined) {
      batch.rejects.push(reject(d.line, d.error));
      continue;
    }
    const parsed = connector.parse(d.doc);
    for (const e of parsed.events) batch.items.push({ line: d.line, raw: e });
    for (const r of parsed.rejects)
      batch.rejects.push(reject(d.line, `${connector.platform} ${r.at}: ${r.reason}`, r.raw));
  }
  batch.bytesRead = batch.totalBytes;
  yield batch;
}
