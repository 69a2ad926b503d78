/**
 * Masking (脱敏, METRICS.md "Masking") for viewers without pii:view: mainland mobiles 138****5678,
 * international numbers keep the country code and the last 4 digits, e-mails a***@x.com, 18-digit
 * ID numbers first 6 + last 4, bank cards last 4, addresses down to the district, names 张*.
 *
 * Every mask is idempotent (masking a masked text changes nothing), so a text may pass through
 * several renderers, and no mask leaves a run of digits that another rule would read as a number.
 * Statistics never see masked values: only renderers call these.
 */

/** ITU country calling codes of one and two digits; every other code has three. */
const CC1 = new Set(['1', '7']);
const CC2 = new Set([
  '20',
  '27',
  '30',
  '31',
  '32',
  '33',
  '34',
  '36',
  '39',
  '40',
  '41',
  '43',
  '44',
  '45',
  '46',
  '47',
  '48',
  '49',
  '51',
  '52',
  '53',
  '54',
  '55',
  '56',
  '57',
  '58',
  '60',
  '61',
  '62',
  '63',
  '64',
  '65',
  '66',
  '81',
  '82',
  '84',
  '86',
  '90',
  '91',
  '92',
  '93',
  '94',
  '95',
  '98',
]);

function countryCodeLength(digits: string): number {
  if (CC1.has(digits[0])) return 1;
  return CC2.has(digits.slice(0, 2)) ? 2 : 3;
}

const stars = (n: number): string => '*'.repeat(Math.max(1, n));
const MAINLAND_MOBILE = /^1[3-9]\d{9}$/;
const mobile = (d: string): string => `${d.slice(0, 3)}****${d.slice(7)}`;

/**
 * E-mail: the local part keeps its first character. `*` is allowed in it so that a masked address
 * matches again, whole, and stays as it is. A domain runs into the next address's local part only when nothing else reads as a domain.
 */
const EMAIL =
  /[A-Za-z0-9._%+*-]+@(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![A-Za-z0-9-]*@)|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})/g;
/**
 * + country code and number, separators allowed between digits. It never ends where a mask's
 * stars begin ("+0 000000********000X" is a masked ID after "+0"), or a second pass would read the
 * kept digits as a number of their own.
 */
const INTERNATIONAL = /\+\d(?:[ -]?\d){6,16}(?!\d|\*{4}\d|\*{8}\d)/g;
/**
 * Runs of digit groups ("138 1234 5678", "4111-1111-1111-1111", "11010519491231002X"). Digits are
 * classified by run, never by separate passes with their own boundaries: one rule's stars would
 * otherwise open a boundary that another rule reads on the next pass, and masking would not be
 * idempotent (found by the property test).
 */
const DIGIT_GROUPS = /\d+(?:[Xx](?![A-Za-z]))?(?:[ -]\d+(?:[Xx](?![A-Za-z]))?)*/g;

function maskEmail(m: string): string {
  const at = m.indexOf('@');
  const local = m.slice(0, at);
  // Masked already (possibly with more stars in front, from a number masked beside it).
  if (local.endsWith('***')) return m;
  return `${local[0]}***${m.slice(at)}`;
}

function maskInternational(m: string): string {
  const digits = m.replace(/\D/g, '');
  const cc = digits.slice(0, countryCodeLength(digits));
  const national = digits.slice(cc.length);
  if (cc === '86' && MAINLAND_MOBILE.test(national)) return `+86 ${mobile(national)}`;
  return `+${cc} ${stars(national.length - 4)}${national.slice(-4)}`;
}

function plausibleBirthDate(id: string): boolean {
  const y = Number(id.slice(6, 10));
  const mo = Number(id.slice(10, 12));
  const d = Number(id.slice(12, 14));
  return y >= 1900 && y <= 2100 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31;
}

function luhn(d: string): boolean {
  let sum = 0;
  for (let i = 0; i < d.length; i++) {
    let x = d.charCodeAt(d.length - 1 - i) - 48;
    if (i % 2 === 1) {
      x *= 2;
      if (x > 9) x -= 9;
    }
    sum += x;
  }
  return sum % 10 === 0;
}

/** The masked form of a number held by `digits` (ID numbers may end in X), or undefined. */
function maskNumber(digits: string): string | undefined {
  const d = digits;
  if (/[Xx]$/.test(d)) {
    if (d.length === 18 && plausibleBirthDate(d)) return `${d.slice(0, 6)}${'*'.repeat(8)}${d.slice(14)}`;
    // Not an ID: the X is a letter after a number ("13812345678X"), which may still be one.
    const inner = maskNumber(d.slice(0, -1));
    return inner === undefined ? undefined : inner + d.slice(-1);
  }
  if (MAINLAND_MOBILE.test(d)) return mobile(d);
  if (d.length === 13 && d.startsWith('86') && MAINLAND_MOBILE.test(d.slice(2)))
    return `86${mobile(d.slice(2))}`;
  if (d.length === 15 && d.startsWith('0086') && MAINLAND_MOBILE.test(d.slice(4)))
    return `0086${mobile(d.slice(4))}`;
  if (d.length === 18 && plausibleBirthDate(d)) return `${d.slice(0, 6)}${'*'.repeat(8)}${d.slice(14)}`;
  if (d.length >= 16 && d.length <= 19 && luhn(d)) return `${'*'.repeat(d.length - 4)}${d.slice(-4)}`;
  return undefined;
}

/**
 * A run of digit groups: the longest consecutive groups, from the left, whose digits together make
 * a number to mask are masked as one; other groups stay as they are. The digits a mask keeps (the
 * 5678 of 138****5678, the 138 before its stars) are never joined with a neighbouring group, or a
 * second pass would read them as part of a new number.
 */
function maskDigitGroups(run: string, offset: number, text: string): string {
  // Every number masked here has at least 11 digits (a mobile).
  if (run.length < 11) return run;
  const parts = run.split(/([ -])/);
  const groups = parts.filter((_, i) => i % 2 === 0);
  const seps = parts.filter((_, i) => i % 2 === 1);
  const after = text.slice(offset + run.length, offset + run.length + 13);
  const lockFirst = text[offset - 1] === '*' && /^\d{3}[\dXx]$/.test(groups[0]);
  // A mask's remnant may be followed by any letter ("130****0000A"), only not by another digit.
  const lockLast = /^(?:\*{4}\d{4}|\*{8}\d{3}[\dXx])(?!\d)/.test(after);
  const joinable = (i: number, j: number) =>
    i === j || ((!lockFirst || i > 0) && (!lockLast || j < groups.length - 1));
  let out = '';
  let i = 0;
  while (i < groups.length) {
    let j = groups.length - 1;
    let masked: string | undefined;
    for (; j >= i; j--) {
      const slice = groups.slice(i, j + 1);
      if (!joinable(i, j) || slice.slice(0, -1).some((g) => /[Xx]$/.test(g))) continue;
      masked = maskNumber(slice.join(''));
      if (masked !== undefined) break;
    }
    if (masked === undefined) j = i;
    out += masked ?? groups[i];
    if (j + 1 < groups.length) out += seps[j];
    i = j + 1;
  }
  return out;
}

const ADMIN_UNIT = '(?:省|自治区|特别行政区|市|自治州|地区|盟)';
const DISTRICT = '(?:区|县|旗|市)';
const DETAIL = '[\\p{Script=Han}A-Za-z0-9#\\-—()()]';
const DETAIL_WORD = /路|街|道|巷|弄|号|村|镇|乡|栋|幢|楼|室|单元|小区|大厦|花园|苑|里/u;
/**
 * A Chinese address: at least one administrative unit, then a district, then the detail that
 * identifies a home. Only the detail is masked; the district stays (METRICS.md).
 */
const ADDRESS = new RegExp(
  `((?:\\p{Script=Han}{2,8}?${ADMIN_UNIT}){1,2}\\p{Script=Han}{1,8}?${DISTRICT})(${DETAIL}{2,60})`,
  'gu',
);

function maskAddressMatch(_m: string, head: string, tail: string): string {
  return DETAIL_WORD.test(tail) ? `${head}****` : `${head}${tail}`;
}

/** Every number maskDigitGroups masks has 11 digits or more. */
function digitCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) n++;
  }
  return n;
}

/** Nothing to mask without a digit, an @ or an address's district. */
const MAYBE_PII = /[\d@区县旗市]/;

/**
 * Finds and masks personal data anywhere in a text: e-mails, phone numbers, ID and card numbers,
 * street addresses. Other text is returned unchanged.
 */
export function maskText(text: string): string {
  let s = text;
  // One rule's stars can open a boundary another rule reads on the next pass (an e-mail's domain
  // that began with a mobile, digits kept before an ID's stars). Masking until nothing changes
  // makes the result idempotent by construction; a further pass only ever hides more.
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const next = maskOnce(s);
    if (next === s) return s;
    s = next;
  }
  return s;
}

/** Passes seen in the property tests: at most three; each one hides digits or letters for good. */
const MAX_PASSES = 8;

function maskOnce(text: string): string {
  if (!text || !MAYBE_PII.test(text)) return text;
  let s = text;
  if (s.includes('@')) s = s.replace(EMAIL, maskEmail);
  if (s.includes('+')) s = s.replace(INTERNATIONAL, maskInternational);
  if (digitCount(s) >= 11) s = s.replace(DIGIT_GROUPS, maskDigitGroups);
  if (/[区县旗市]/.test(s)) s = s.replace(ADDRESS, maskAddressMatch);
  return s;
}

/**
 * A person's name: the first character and a star for each other one, at most three (张三 → 张*,
 * 欧阳小明 → 欧***, John Smith → J***). A "name" that is really a phone number or an e-mail (as
 * platforms often show) is masked as that instead.
 */
export function maskName(name: string): string {
  const s = name.trim();
  if (!s) return s;
  if (/^.\*{1,3}$/u.test(s)) return s;
  const asText = maskText(s);
  if (asText !== s || ALREADY_MASKED.test(s)) return asText;
  const chars = [...s];
  return chars[0] + '*'.repeat(Math.min(3, Math.max(1, chars.length - 1)));
}

/** What the masks of maskText leave behind: a name that looks like this was masked already. */
const ALREADY_MASKED = /\*{4,}\d{4}|\*{4}$|\*{3}@|\d{3}\*{4}\d{4}/u;

/** A structured address: everything after the district is masked. */
export function maskAddress(address: string): string {
  const s = address.trim();
  const m = new RegExp(
    `^((?:\\p{Script=Han}{2,8}?${ADMIN_UNIT}){0,2}\\p{Script=Han}{1,8}?(?:区|县|旗))`,
    'u',
  ).exec(s);
  if (m && m[1].length < s.length) return `${m[1]}****`;
  return maskText(s);
}

const RAW_MOBILE = /(?<!\d)1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?!\d)/;
/** As maskText reads them: the 6 digits an ID's mask keeps are not a number after a "+". */
const RAW_INTERNATIONAL = new RegExp(INTERNATIONAL.source);
const ANY_EMAIL = /[A-Za-z0-9._%+*-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;

/**
 * The first phone number or e-mail address a reader could still read in a text, or undefined: the
 * check that an export holds no unmasked contact (tests scan every part of a workbook with it).
 */
export function findUnmasked(text: string): string | undefined {
  const phone = RAW_MOBILE.exec(text) ?? RAW_INTERNATIONAL.exec(text);
  if (phone) return phone[0];
  for (const m of text.matchAll(ANY_EMAIL)) if (!m[0].includes('***@')) return m[0];
  return undefined;
}
