/**
 * Real data: the twcs (Customer Support on Twitter) files of shared/fixtures, imported and reported
 * by channel and by agent, against an independent computation of METRICS.md's definitions written
 * here from the raw CSV (its own parsing, threading and signature rules; none of src/connectors).
 * The files are test-only (licence): read from ../shared, skipped with a message where absent.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFiles } from '../../src/cli/import.ts';
import { runReport } from '../../src/metrics/report.ts';
import type { Store } from '../../src/store/db.ts';
import { DIALECTS, freshStore } from '../support/stores.ts';

const DIR = join(import.meta.dirname, '../../../shared/fixtures/twcs');
const FILES = ['kaggle_sample.csv', 'monalisapatra26_twcs_first5000.csv', 'divya-gh_twcs_random5000.csv'];
const present = existsSync(DIR);
if (!present) console.warn(`twcs fixtures not found at ${DIR}: real-data tests skipped`);

interface Tweet {
  id: string;
  author: string;
  inbound: boolean;
  ts: number;
  text: string;
  parent: string | null;
}

const id = (v: string) => (v.trim() === '' ? null : String(Math.round(Number(v))));
const GREETING =
  /^\s*(?:在吗|在不在|在么|你好|您好|有人吗|hi|hello|hey|\?|？|嗨|哈喽)[\s!！?？~～。.,，…]*$/iu;

/** METRICS.md: `^XY` (1–4 letters after a caret) or `-Name` at the end (links may follow); else the brand. */
function agentOf(brand: string, text: string): string {
  const body = text.replace(/(?:\s*(?:https?:\/\/\S+|\(?\d{1,2}\/\d{1,2}\)?))*\s*$/u, '');
  const caret = /\^\s?([A-Za-z]{1,4})$/.exec(body);
  if (caret) return `${brand} ^${caret[1]}`;
  const dash = /(?:^|[^\p{L}\p{N}])-\s?([A-Z][A-Za-z]{0,19})$/u.exec(body);
  if (dash && !NOT_NAMES.has(dash[1]!)) return `${brand} -${dash[1]}`;
  return brand;
}
const NOT_NAMES = new Set([
  'Thanks',
  'Thank',
  'Thx',
  'Cheers',
  'Regards',
  'Enjoy',
  'Sorry',
  'Please',
  'Hi',
  'Hello',
  'Hey',
  'Yes',
  'No',
  'OK',
  'Ok',
  'DM',
  'FAQ',
  'URL',
  'US',
  'UK',
  'EU',
  'USA',
  'App',
  'Help',
  'Support',
  'Team',
]);

interface Expected {
  byChannel: Map<
    string,
    { conversations: number; messagesIn: number; messagesOut: number; missed: number; frt: number[] }
  >;
  /** by "channel|agent" */
  byAgent: Map<string, { received: number; messagesOut: number; frt: number[]; art: number[] }>;
}

/**
 * The independent computation. Threads are built per file ("the first ancestor present in the
 * file"); a tweet already imported from an earlier file is a duplicate and keeps its first place.
 */
function expected(files: string[]): Expected {
  const seen = new Set<string>();
  const conversations = new Map<string, { brand: string; tweets: Tweet[] }>();
  for (const f of files) {
    const tweets = new Map<string, Tweet>();
    // Only \n and \r\n end a record: the bare "\r\r" inside tweet 3399's text must not.
    const rows: Record<string, string>[] = parse(readFileSync(join(DIR, f)), {
      columns: (h: string[]) => h.map((c) => (c === '' ? '_index' : c)),
      record_delimiter: ['\r\n', '\n'],
      relax_quotes: true,
      relax_column_count: true,
    });
    for (const r of rows) {
      const tid = id(r.tweet_id ?? '');
      if (!tid || tweets.has(tid)) continue;
      tweets.set(tid, {
        id: tid,
        author: r.author_id!,
        inbound: r.inbound === 'True',
        ts: Date.parse(r.created_at!),
        text: r.text ?? '',
        parent: id(r.in_response_to_tweet_id ?? ''),
      });
    }
    const rootOf = (t: Tweet): string => {
      let cur = t;
      const path = new Set<string>();
      while (cur.parent && tweets.has(cur.parent) && !path.has(cur.id)) {
        path.add(cur.id);
        cur = tweets.get(cur.parent)!;
      }
      return cur.id;
    };
    const threads = new Map<string, Tweet[]>();
    for (const t of tweets.values()) {
      const r = rootOf(t);
      if (!threads.has(r)) threads.set(r, []);
      threads.get(r)!.push(t);
    }
    const brands = [...new Set([...tweets.values()].filter((t) => !t.inbound).map((t) => t.author))];
    for (const [root, list] of threads) {
      list.sort((a, b) => a.ts - b.ts || (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
      let brand = list.find((t) => !t.inbound)?.author;
      if (!brand) {
        const mentions = [...tweets.get(root)!.text.matchAll(/@(\w+)/g)].map((m) => m[1]!.toLowerCase());
        brand = mentions.map((m) => brands.find((b) => b.toLowerCase() === m)).find((b) => b !== undefined);
      }
      if (!brand) continue;
      const key = `${brand}|${root}`;
      const conv = conversations.get(key) ?? { brand, tweets: [] };
      conversations.set(key, conv);
      for (const t of list) if (!seen.has(t.id)) conv.tweets.push(t);
      for (const t of list) seen.add(t.id);
    }
  }
  const out: Expected = { byChannel: new Map(), byAgent: new Map() };
  for (const { brand, tweets: list } of conversations.values()) {
    list.sort((a, b) => a.ts - b.ts || (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
    const isAgent = (t: Tweet) => !t.inbound || t.author === brand;
    const customer = list.filter((t) => !isAgent(t));
    const agents = list.filter(isAgent);
    const firstCustomer = customer[0]?.ts;
    const replied = firstCustomer !== undefined && agents.some((a) => a.ts >= firstCustomer);
    const greetingOnly = customer.length > 0 && !replied && customer.every((t) => GREETING.test(t.text));
    const ch = out.byChannel.get(brand) ?? {
      conversations: 0,
      messagesIn: 0,
      messagesOut: 0,
      missed: 0,
      frt: [],
    };
    out.byChannel.set(brand, ch);
    if (customer.length && !greetingOnly) {
      ch.conversations++;
      ch.messagesIn += customer.length;
      if (!replied) ch.missed++;
    }
    ch.messagesOut += agents.length;
    // Segments: runs of one agent's tweets; a different signature is an implicit transfer.
    const segs: { agent: string; times: number[] }[] = [];
    for (const a of agents) {
      // A tweet is signed for its author's brand (another brand can answer in this brand's thread).
      const who = `${brand}|${agentOf(a.author, a.text)}`;
      if (!segs.length || segs[segs.length - 1]!.agent !== who) segs.push({ agent: who, times: [] });
      segs[segs.length - 1]!.times.push(a.ts);
    }
    for (const s of segs) {
      const ag = out.byAgent.get(s.agent) ?? { received: 0, messagesOut: 0, frt: [], art: [] };
      out.byAgent.set(s.agent, ag);
      if (!greetingOnly) ag.received++;
      ag.messagesOut += s.times.length;
    }
    if (firstCustomer !== undefined && segs.length) {
      const reply = segs[0]!.times.find((t) => t >= firstCustomer);
      if (reply !== undefined) {
        ch.frt.push((reply - firstCustomer) / 1000);
        out.byAgent.get(segs[0]!.agent)!.frt.push((reply - firstCustomer) / 1000);
      }
    }
    // Response intervals: a run of customer tweets → the next agent tweet, credited to its signer.
    let pending: number | null = null;
    for (const t of list) {
      if (!isAgent(t)) pending ??= t.ts;
      else if (pending !== null) {
        out.byAgent.get(`${brand}|${agentOf(t.author, t.text)}`)!.art.push((t.ts - pending) / 1000);
        pending = null;
      }
    }
  }
  return out;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const p = (s.length - 1) / 2;
  return s[Math.floor(p)]! + (s[Math.ceil(p)]! - s[Math.floor(p)]!) * (p - Math.floor(p));
}

describe.skipIf(!present).each(DIALECTS)(
  'twcs fixtures against an independent computation (%s)',
  (dialect) => {
    let store: Store;
    let exp: Expected;
    beforeAll(async () => {
      store = await freshStore(dialect);
      const summary = await importFiles(
        store,
        FILES.map((f) => join(DIR, f)),
        'twcs',
        { quiet: true },
      );
      expect(summary.accepted).toBeGreaterThan(9000);
      exp = expected(FILES);
    });
    afterAll(async () => store?.close());

    it('matches by channel (brand)', async () => {
      const r = await runReport(store, {
        by: ['channel'],
        metrics: ['conversations', 'messages_in', 'messages_out', 'missed', 'frt_avg_s', 'frt_median_s'],
      });
      const got = new Map(r.rows.map((x) => [String(x.key.channel), x.metrics]));
      expect([...got.keys()].sort()).toEqual([...exp.byChannel.keys()].sort());
      for (const [brand, e] of exp.byChannel) {
        const m = got.get(brand)!;
        expect({
          brand,
          conversations: m.conversations,
          in: m.messages_in,
          out: m.messages_out,
          missed: m.missed,
        }).toEqual({
          brand,
          conversations: e.conversations,
          in: e.messagesIn,
          out: e.messagesOut,
          missed: e.missed,
        });
        const avg = mean(e.frt);
        if (avg === null) expect(m.frt_avg_s).toBeNull();
        else expect(m.frt_avg_s).toBeCloseTo(avg, 3);
        const med = median(e.frt);
        if (med !== null) expect(m.frt_median_s).toBeCloseTo(med, 3);
      }
    });

    it('matches by agent (signature)', async () => {
      // By agent and channel: an agent's name is its account, and one brand can answer in another's thread.
      const r = await runReport(store, {
        by: ['agent', 'channel'],
        metrics: ['received', 'messages_out', 'frt_avg_s', 'art_avg_s'],
      });
      const got = new Map(r.rows.map((x) => [`${x.key.channel}|${x.key.agent}`, x.metrics]));
      for (const [agent, e] of exp.byAgent) {
        const m = got.get(agent);
        expect(m, `agent ${agent}`).toBeDefined();
        expect({ agent, received: m!.received, out: m!.messages_out }).toEqual({
          agent,
          received: e.received,
          out: e.messagesOut,
        });
        const frt = mean(e.frt);
        if (frt === null) expect(m!.frt_avg_s).toBeNull();
        else expect(m!.frt_avg_s).toBeCloseTo(frt, 3);
        const art = mean(e.art);
        if (art === null) expect(m!.art_avg_s).toBeNull();
        else expect(m!.art_avg_s).toBeCloseTo(art, 3);
      }
      expect(got.size).toBeGreaterThanOrEqual(exp.byAgent.size);
    });
  },
);
