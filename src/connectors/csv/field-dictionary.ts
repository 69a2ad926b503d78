/**
 * The header dictionary of the CSV/XLSX import: which column headers mean which canonical field.
 * The content is data, in `dictionaries/*.json`, loaded at start: `standard.json` holds every field
 * with its Chinese and English synonyms and the words of coded columns (roles, kinds, statuses…);
 * one file per vendor (sobot.json, wecom_kf.json, meiqia.json, qiyu.json, easemob.json…) holds that
 * vendor's headers, with the codes it writes instead of words. Adding a platform's synonyms is adding
 * or editing a file; `cspulse sources dictionaries` lists them. Users add their own dictionaries (in
 * the database or a directory: see user-dictionaries.ts) in the vendor-file format.
 *
 * Matching is case-, space-, underscore-, dash- and dot-insensitive, and full-width characters count
 * as their half-width forms (see normaliseHeader in columns.ts). When several columns of a file map
 * to the same field, the one whose synonym comes first wins (the standard synonyms in file order,
 * then vendor headers by `rank`); the others are reported as ignored (or fill the field's
 * `secondary`, e.g. a second agent column becomes the agent's display name).
 *
 * Vendor headers come from shared/fixtures/cn_saas_fields: 智齿 Sobot (get_detail_by_cid, query_cids,
 * tickets), 企业微信 微信客服 (sync_msg; its statistics fields are daily aggregates, not events, so
 * they are deliberately absent and show up as ignored columns), 美洽 Meiqia, 网易七鱼 Qiyu, 环信 Easemob,
 * 容联七陌/useasy.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

export const CANONICAL_FIELDS = [
  'id',
  'kind',
  'source',
  'ts',
  'role',
  'sender',
  'receiver',
  'account',
  'accountName',
  'customer.id',
  'customer.name',
  'customer.region',
  'customer.tags',
  'text',
  'msgType',
  'channel',
  'conversationId',
  'tags',
  'rating',
  'ratingScale',
  'comment',
  'transfer',
  'resolved',
  'ticketId',
  'status',
  'category',
  'dueTs',
  'amount',
  'orderType',
] as const;
export type CanonicalField = (typeof CANONICAL_FIELDS)[number];

/** A vendor's header with, where the vendor writes codes instead of words, what the codes mean. */
export interface VendorHeader {
  header: string;
  vendor: string;
  /** Raw cell value → canonical value (a role, msgType, ticket status, 'true'/'false'). */
  codes?: Readonly<Record<string, string>>;
  /** The vendor's rating scale, when the header implies one. */
  scale?: '5' | '10' | '3' | '100' | 'good_bad';
  note?: string;
}

export interface FieldEntry {
  field: CanonicalField;
  description: string;
  zh: readonly string[];
  en: readonly string[];
  vendor?: readonly VendorHeader[];
  /** Where a second column mapping to this field goes, when that field has no column of its own. */
  secondary?: CanonicalField;
}

const label = z.object({ zh: z.string(), en: z.string() });
const field = z.enum(CANONICAL_FIELDS);
const words = z.record(z.string(), z.string());

/** A vendor (or user) dictionary file: headers, each naming the canonical field it means. */
export const vendorDictionarySchema = z.object({
  name: z.string().regex(/^[a-z0-9_-]{1,40}$/, 'lower-case letters, digits, _ or -, at most 40'),
  label: label.optional(),
  /** Where the headers come from (documentation, SDK, a sample export). */
  source: z.string().optional(),
  headers: z
    .array(
      z.object({
        header: z.string().min(1).max(200),
        field,
        /** The vendor name shown on a match when it differs from the file's `name`. */
        vendor: z.string().optional(),
        codes: words.optional(),
        scale: z.enum(['5', '10', '3', '100', 'good_bad']).optional(),
        note: z.string().optional(),
        /** Order among the vendor headers of one field: lower wins a tie. Without it: after all. */
        rank: z.number().int().nonnegative().optional(),
      }),
    )
    .min(1),
});
export type VendorDictionary = z.infer<typeof vendorDictionarySchema>;

const standardSchema = z.object({
  name: z.literal('standard'),
  label,
  fields: z.array(
    z.object({
      field,
      description: z.string(),
      zh: z.array(z.string()),
      en: z.array(z.string()),
      secondary: field.optional(),
    }),
  ),
  values: z.object({
    role: z.record(z.string(), z.enum(['customer', 'agent', 'bot', 'system'])),
    kind: words,
    msgType: words,
    ticketStatus: words,
    presence: words,
    boolean: z.record(z.string(), z.boolean()),
  }),
});

export const DICTIONARY_DIR = join(import.meta.dirname, 'dictionaries');

/** Read and check one dictionary file; the error names the file and the field that is wrong. */
export function parseDictionaryFile(path: string, text = readFileSync(path, 'utf8')): VendorDictionary {
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new Error(`${path}: not JSON (${(e as Error).message})`);
  }
  const r = vendorDictionarySchema.safeParse(doc);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new Error(`${path}: ${issue.path.join('.') || 'dictionary'}: ${issue.message}`);
  }
  return r.data;
}

function loadStandard(): z.infer<typeof standardSchema> {
  const path = join(DICTIONARY_DIR, 'standard.json');
  const r = standardSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new Error(`${path}: ${issue.path.join('.')}: ${issue.message}`);
  }
  return r.data;
}

const STANDARD = loadStandard();

/** The vendor dictionaries shipped with CS Pulse, in file-name order. */
export const VENDOR_DICTIONARIES: readonly VendorDictionary[] = readdirSync(DICTIONARY_DIR)
  .filter((f) => f.endsWith('.json') && f !== 'standard.json')
  .sort()
  .map((f) => parseDictionaryFile(join(DICTIONARY_DIR, f)));

/** The standard fields with the given vendor dictionaries' headers, in matching order. */
export function assembleDictionary(vendors: readonly VendorDictionary[]): FieldEntry[] {
  return STANDARD.fields.map((f) => {
    const headers = vendors
      .flatMap((d, fileOrder) =>
        d.headers
          .filter((h) => h.field === f.field)
          .map((h) => ({ h, vendor: h.vendor ?? d.name, fileOrder })),
      )
      .sort(
        (a, b) =>
          (a.h.rank ?? Number.MAX_SAFE_INTEGER) - (b.h.rank ?? Number.MAX_SAFE_INTEGER) ||
          a.fileOrder - b.fileOrder,
      )
      .map(
        ({ h, vendor }): VendorHeader => ({
          header: h.header,
          vendor,
          ...(h.codes ? { codes: h.codes } : {}),
          ...(h.scale ? { scale: h.scale } : {}),
          ...(h.note ? { note: h.note } : {}),
        }),
      );
    return {
      field: f.field,
      description: f.description,
      zh: f.zh,
      en: f.en,
      ...(headers.length ? { vendor: headers } : {}),
      ...(f.secondary ? { secondary: f.secondary } : {}),
    };
  });
}

export const FIELD_DICTIONARY: readonly FieldEntry[] = assembleDictionary(VENDOR_DICTIONARIES);

/** The standard dictionary's name and label, for listings. */
export const STANDARD_DICTIONARY = { name: STANDARD.name, label: STANDARD.label };

// Coded values, as maps without a prototype: a cell saying "constructor" is not a match.
const table = <T>(o: Record<string, T>): Readonly<Record<string, T>> =>
  Object.assign(Object.create(null) as Record<string, T>, o);

/** Values of the role column. */
export const ROLE_WORDS = table(STANDARD.values.role);
/** Values of the kind column. */
export const KIND_WORDS = table(STANDARD.values.kind);
export const MSGTYPE_WORDS = table(STANDARD.values.msgType);
export const TICKET_STATUS_WORDS = table(STANDARD.values.ticketStatus);
export const PRESENCE_WORDS = table(STANDARD.values.presence);
export const BOOLEAN_WORDS = table(STANDARD.values.boolean);
