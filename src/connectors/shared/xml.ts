/**
 * XML as the WeChat family sends it (`<xml><ToUserName><![CDATA[…]]></ToUserName>…</xml>`): every
 * value stays a string — ids such as MsgId overflow a double, and CreateTime is read by the
 * connector, not guessed here. Attributes are not used by these platforms and are dropped.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: true,
  processEntities: true,
  // A hostile body must not expand entities without bound.
  htmlEntities: false,
});

/** The document, or an error message with the line where the XML breaks. */
export function parseXml(text: string): { doc: Record<string, unknown> } | { error: string } {
  let doc: unknown;
  try {
    const valid = XMLValidator.validate(text);
    if (valid !== true) return { error: `invalid XML at line ${valid.err.line}: ${valid.err.msg}` };
    doc = parser.parse(text) as unknown;
  } catch (e) {
    // fast-xml-parser throws on some hostile input (e.g. "Maximum nested tags exceeded").
    return { error: `unreadable XML: ${(e as Error).message}` };
  }
  if (!doc || typeof doc !== 'object') return { error: 'XML without an element' };
  return { doc: doc as Record<string, unknown> };
}
