/**
 * Organisation settings: every knob METRICS.md names, with its default. Stored in the database
 * (table `settings`, one JSON document) and printed on every export's 口径说明 sheet.
 * Changing a knob that facts depend on (timezone, business hours, idle timeout, greetings,
 * attribution, windows) needs `cspulse recompute`; the CLI says so.
 */
import { z } from 'zod';
import { isValidTimeZone } from './time.ts';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'expected HH:MM');
const interval = z.object({ start: hhmm, end: hhmm });
const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD');

/** Weekly schedule: ISO weekday "1" (Monday) … "7" (Sunday) → open intervals in local time. */
export const businessHoursSchema = z.object({
  weekly: z.partialRecord(z.enum(['1', '2', '3', '4', '5', '6', '7']), z.array(interval)),
  /**
   * Dated overrides: a public holiday is `{date, hours: []}`; a 调休 make-up working Saturday is
   * `{date, hours: [{start:'09:00', end:'18:00'}]}`.
   */
  overrides: z.array(z.object({ date, hours: z.array(interval), note: z.string().optional() })).default([]),
});
export type BusinessHours = z.infer<typeof businessHoursSchema>;

const nineToSix = [{ start: '09:00', end: '18:00' }];

export const settingsSchema = z.object({
  timezone: z
    .string()
    .refine(isValidTimeZone, 'expected an IANA time zone such as Asia/Shanghai')
    .default('Asia/Shanghai'),
  businessHours: businessHoursSchema.default({
    weekly: { '1': nineToSix, '2': nineToSix, '3': nineToSix, '4': nineToSix, '5': nineToSix },
    overrides: [],
  }),
  /** Per-group schedules, by group name; groups not listed use `businessHours`. */
  groupBusinessHours: z.record(z.string(), businessHoursSchema).default({}),
  thresholds: z
    .object({
      /** seconds: frt_s above this is a first-response timeout (seed 000: 45 s). */
      firstResponse: z.number().positive().default(45),
      /** seconds: a response interval above this is a response timeout. */
      response: z.number().positive().default(120),
    })
    .prefault({}),
  session: z
    .object({
      /** minutes of silence after which a customer message starts a new conversation. */
      idleTimeoutMinutes: z.number().positive().default(30),
      /** per channel overrides, e.g. { email: 4320 }. */
      idleTimeoutByChannel: z.record(z.string(), z.number().positive()).default({}),
    })
    .prefault({}),
  filters: z
    .object({
      /** Regular expressions matched against a whole customer message. */
      greetingPatterns: z
        .array(z.string())
        .default([
          '在吗',
          '在不在',
          '在么',
          '你好',
          '您好',
          '有人吗',
          'hi',
          'hello',
          'hey',
          '\\?',
          '？',
          '嗨',
          '哈喽',
        ]),
      excludeGreetingOnly: z.boolean().default(true),
    })
    .prefault({}),
  resolution: z
    .object({
      rule: z.enum(['closed_and_rated', 'platform_flag', 'no_repeat']).default('closed_and_rated'),
      /** closed_and_rated: the minimum rating (1–5) that counts as resolved. */
      minRating: z.number().min(1).max(5).default(3),
      unrated: z.enum(['excluded', 'resolved', 'unresolved']).default('excluded'),
      repeatDays: z.number().positive().default(7),
    })
    .prefault({}),
  fcr: z.object({ windowDays: z.number().positive().default(7) }).prefault({}),
  conversion: z.object({ windowDays: z.number().positive().default(7) }).prefault({}),
  attribution: z
    .object({
      offline: z.enum(['last_handler', 'split']).default('last_handler'),
      split: z.object({ original: z.number().min(0).max(1).default(0.5) }).prefault({}),
    })
    .prefault({}),
  tickets: z.object({ repeatDays: z.number().positive().default(7) }).prefault({}),
});

export type Settings = z.output<typeof settingsSchema>;
export type SettingsInput = z.input<typeof settingsSchema>;

export const DEFAULT_SETTINGS: Settings = settingsSchema.parse({});

/** Parse user-supplied settings; the error names the field. */
export function parseSettings(raw: unknown): Settings {
  const r = settingsSchema.safeParse(raw ?? {});
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new Error(`settings.${i.path.join('.')}: ${i.message}`);
  }
  return r.data;
}

export function idleTimeoutMs(s: Settings, channel: string): number {
  return (s.session.idleTimeoutByChannel[channel] ?? s.session.idleTimeoutMinutes) * 60_000;
}
