/**
 * Opening an input file: the checks that turn "cannot read this at all" into one clear Error naming
 * the file, and the sniffing (encoding, binary) every text reader needs before it streams.
 */
import { isUtf8 } from 'node:buffer';
import { open, stat } from 'node:fs/promises';

export const HEAD_BYTES = 64 * 1024;

export interface OpenedInput {
  path: string;
  size: number;
  /** The first HEAD_BYTES bytes (fewer when the file is smaller). */
  head: Buffer;
}

/** Stat the file and read its head; throws an Error naming the file when it cannot be read. */
export async function openInput(path: string): Promise<OpenedInput> {
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(path);
  } catch (err) {
    throw new Error(`${path}: ${describeFsError(err)}`);
  }
  if (st.isDirectory()) throw new Error(`${path}: is a directory, expected a file`);
  if (!st.isFile()) throw new Error(`${path}: is not a regular file`);
  if (st.size === 0) throw new Error(`${path}: file is empty`);
  const head = Buffer.alloc(Math.min(HEAD_BYTES, st.size));
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(path, 'r');
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    return { path, size: st.size, head: head.subarray(0, bytesRead) };
  } catch (err) {
    throw new Error(`${path}: ${describeFsError(err)}`);
  } finally {
    await fh?.close();
  }
}

function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOENT':
      return 'file not found';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory, expected a file';
    default:
      return `cannot read file (${(err as Error)?.message ?? String(err)})`;
  }
}

export type TextEncoding = 'utf8' | 'gb18030' | 'utf16le' | 'utf16be';

export interface SniffedText {
  encoding: TextEncoding;
  /** Bytes of byte-order mark to skip. */
  bomLength: number;
}

/**
 * Decide how to decode a text file from its head. Chinese SaaS exports opened and re-saved in Excel
 * are often GBK/GB18030 and carry no marker, so "not valid UTF-8" is the signal; GB18030 is a superset
 * of GBK and decodes every byte sequence, so it is the safe fallback.
 */
export function sniffEncoding(head: Buffer, headIsWholeFile: boolean): SniffedText {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { encoding: 'utf8', bomLength: 3 };
  if (head[0] === 0xff && head[1] === 0xfe) return { encoding: 'utf16le', bomLength: 2 };
  if (head[0] === 0xfe && head[1] === 0xff) return { encoding: 'utf16be', bomLength: 2 };
  const sample = headIsWholeFile ? head : trimPartialUtf8(head);
  return { encoding: isUtf8(sample) ? 'utf8' : 'gb18030', bomLength: 0 };
}

// The head is cut at an arbitrary byte; a multi-byte character split there must not count as invalid.
function trimPartialUtf8(buf: Buffer): Buffer {
  const n = buf.length;
  for (let back = 1; back <= 3 && back <= n; back++) {
    const b = buf[n - back]!;
    if (b < 0x80) return buf;
    if (b >= 0xc0) {
      const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      return need > back ? buf.subarray(0, n - back) : buf;
    }
  }
  return buf;
}

/**
 * A text file does not contain NUL bytes (unless UTF-16, which has a BOM) and is mostly printable.
 * Returns a description of why the head looks binary, or null.
 */
export function binaryReason(head: Buffer, sniffed: SniffedText): string | null {
  if (sniffed.encoding === 'utf16le' || sniffed.encoding === 'utf16be') return null;
  let control = 0;
  for (let i = 0; i < head.length; i++) {
    const b = head[i]!;
    if (b === 0) return 'looks like a binary file (NUL bytes), expected text';
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x0c) control++;
  }
  if (head.length >= 32 && control / head.length > 0.1) {
    return 'looks like a binary file (many control bytes), expected text';
  }
  return null;
}

/** Throw when the text holds nothing but whitespace (and a BOM). */
export function assertHasContent(opened: OpenedInput, sniffed: SniffedText): void {
  if (opened.size > opened.head.length) return;
  const body = opened.head.subarray(sniffed.bomLength);
  for (let i = 0; i < body.length; i++) {
    const b = body[i]!;
    if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x00) return;
  }
  throw new Error(`${opened.path}: file is empty (no data)`);
}
