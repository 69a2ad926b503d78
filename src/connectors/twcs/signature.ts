/**
 * Agent signatures at the end of brand tweets, exactly as METRICS.md "The twcs mapping" defines
 * them: `^XY` (1–4 letters after a caret) or `-Name` (a dash, an optional space, a capitalised
 * name). Links and "2/2" part markers after the signature are skipped ("… ^RR https://t.co/…").
 * Other conventions seen in the fixtures (Delta's `*AST`, Spotify's `/AY`, British Airways'
 * `^Jools`) are not in the contract, so those tweets count for the brand account itself; widening
 * the rule is a change to METRICS.md first.
 */

// Only the end of a tweet can hold a signature; the cap keeps the regexes linear on hostile input.
const SCAN_CHARS = 400;

/** What may follow a signature: links, "1/2" part markers, whitespace. */
const TRAILER = /(?:\s*(?:https?:\/\/\S+|\(?\d{1,2}\/\d{1,2}\)?))*\s*$/u;

const CARET = /\^\s?([A-Za-z]{1,4})$/u;
// Not inside a word: the dash of "T-Mobile" is no signature.
const DASH = /(?<![\p{L}\p{N}])-\s?([A-Z][A-Za-z]{0,19})$/u;

/** Words that end a tweet after a dash without being anyone's name ("… - Thanks"). */
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
  marker: '^' | '-';
  name: string;
}

export function parseSignature(text: string): Signature | null {
  const t = text.slice(-SCAN_CHARS).replace(TRAILER, '');
  const caret = CARET.exec(t);
  if (caret) return { marker: '^', name: caret[1]! };
  const dash = DASH.exec(t);
  if (dash && !NOT_NAMES.has(dash[1]!)) return { marker: '-', name: dash[1]! };
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
