/**
 * Agent signatures at the end of brand tweets (METRICS.md "The twcs mapping"). The contract names
 * `^XY` and `-Name`; reading the 4,548 brand tweets of shared/fixtures/twcs showed more conventions.
 * Signed tweets by marker, as this parser reads them (2,734 signed, the rest unsigned):
 *
 *   ^XY / ^Name   1,496  AmazonHelp ^NR, ChaseSupport ^RR, SouthwestAir ^AC; British_Airways ^Jools
 *   -Name / -XY     760  ChipotleTweets -Becky, comcastcares -AD, sprintcare -AC, Tesco "- Paige", "--JV";
 *                        also ~XY and –XY (comcastcares signs the same initials with all three)
 *   *XY / *Name     314  Delta *AST, TMobileHelp *DanKing
 *   /XY             164  SpotifyCares /AY
 *
 * so all of them count: a CS manager wants Delta's and Spotify's agents, not one "Delta" agent, and
 * caret names may be longer than the contract's 1–4 letters (^Rashmi, ^Jools) for the same reason.
 * After the signature a tweet may carry URLs, "2/2" / "(1/2)" part markers and whitespace; they are
 * skipped ("… ^Rashmi https://t.co/…", "Thanks - Lee 2/2"). Bare names without a marker ("… sales.
 * Amanda") are not taken: they cannot be told from the last word of a sentence.
 */

const SCAN_CHARS = 400;

/** What may follow a signature: links, "1/2" part markers, whitespace. */
const TRAILER = /(?:\s*(?:https?:\/\/\S+|\(?\d{1,2}\/\d{1,2}\)?))*\s*$/u;

// A dash, tilde or star only marks a signature when it is not inside a word ("T-Mobile", "Wi-Fi").
const PATTERNS: { re: RegExp; marker: string }[] = [
  { re: /\^\s?([A-Za-z]{1,20})$/u, marker: '^' },
  { re: /(?<![\p{L}\p{N}])(?:-{1,2}|[–—~])\s?([A-Z][A-Za-z]{0,19})$/u, marker: '-' },
  { re: /(?<![\p{L}\p{N}*])\*([A-Z][A-Za-z]{0,19})$/u, marker: '*' },
  { re: /(?:^|\s)\/([A-Z]{1,4})$/u, marker: '/' },
];

/** Words that end a tweet after a dash without being anyone's name. */
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

export interface Signature {
  /** Canonical marker: '^', '-', '*' or '/' (en dash, em dash and tilde count as '-'). */
  marker: string;
  name: string;
}

export function parseSignature(text: string): Signature | null {
  // Only the end of a tweet can hold a signature; the cap keeps the regexes linear on hostile input.
  const t = text.slice(-SCAN_CHARS).replace(TRAILER, '');
  if (t.length === 0) return null;
  for (const { re, marker } of PATTERNS) {
    const m = re.exec(t);
    if (!m) continue;
    let name = m[1]!;
    if (marker !== '^' && NOT_NAMES.has(name)) return null;
    // "^sp" and "^SP" are one agent typing fast; longer lowercase names stay as written.
    if (name.length <= 4 && name === name.toLowerCase()) name = name.toUpperCase();
    return { marker, name };
  }
  return null;
}

/**
 * The agent account of a brand tweet: "<brand> <marker><name>" (e.g. "AppleSupport ^JK",
 * "ChipotleTweets -Becky"), unique per brand; the brand account itself without a signature.
 */
export function agentAccount(brand: string, text: string): string {
  const sig = parseSignature(text);
  return sig ? `${brand} ${sig.marker}${sig.name}` : brand;
}
