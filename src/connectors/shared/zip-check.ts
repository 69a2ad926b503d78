/**
 * Integrity check of a zip (XLSX) before exceljs streams it. exceljs's WorkbookReader hangs forever
 * on a corrupt deflate stream (it pipes a worksheet entry to a temp file and waits for a 'finish'
 * that never comes), so a damaged upload would stall an import silently. Walking the central
 * directory and inflating every entry with its CRC checked turns that into an immediate, clear error.
 * It costs one extra decompression pass, done in zlib's native code.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInflateRaw, crc32 } from 'node:zlib';

interface Entry {
  name: string;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

const EOCD_SIG = 0x06054b50;
const CDH_SIG = 0x02014b50;
const LFH_SIG = 0x04034b50;
/** Entries beyond this are not a workbook export; the check refuses rather than spending minutes. */
const MAX_ENTRIES = 10_000;

/** Throws an Error (without the path; the caller adds it) describing the damage. */
export async function checkZip(path: string, size: number): Promise<void> {
  const fh = await open(path, 'r');
  let entries: Entry[];
  try {
    entries = await readDirectory(fh, size);
  } finally {
    await fh.close();
  }
  for (const e of entries) await checkEntry(path, e, size);
}

async function readAt(fh: Awaited<ReturnType<typeof open>>, pos: number, len: number): Promise<Buffer> {
  const buf = Buffer.alloc(len);
  const { bytesRead } = await fh.read(buf, 0, len, pos);
  return buf.subarray(0, bytesRead);
}

async function readDirectory(fh: Awaited<ReturnType<typeof open>>, size: number): Promise<Entry[]> {
  const tailLen = Math.min(size, 65_535 + 22);
  const tail = await readAt(fh, size - tailLen, tailLen);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD_SIG) {
      eocd = i;
      break;
    }
  }
  if (eocd === -1) throw new Error('truncated or not a zip file (no end-of-directory record)');
  const count = tail.readUInt16LE(eocd + 10);
  const cdSize = tail.readUInt32LE(eocd + 12);
  const cdOffset = tail.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdOffset === 0xffffffff) throw new Error('ZIP64 archives are not supported');
  if (count > MAX_ENTRIES) throw new Error(`too many zip entries (${count})`);
  if (cdOffset + cdSize > size) throw new Error('truncated zip (directory beyond end of file)');
  const cd = await readAt(fh, cdOffset, cdSize);
  const entries: Entry[] = [];
  let p = 0;
  for (let k = 0; k < count; k++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== CDH_SIG) throw new Error('corrupt zip directory');
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    entries.push({
      method: cd.readUInt16LE(p + 10),
      crc: cd.readUInt32LE(p + 16),
      compressedSize: cd.readUInt32LE(p + 20),
      size: cd.readUInt32LE(p + 24),
      localOffset: cd.readUInt32LE(p + 42),
      name: cd.subarray(p + 46, p + 46 + nameLen).toString('utf8'),
    });
    p += 46 + nameLen + extraLen + commentLen;
  }
  for (const e of entries) {
    const lfh = await readAt(fh, e.localOffset, 30);
    if (lfh.length < 30 || lfh.readUInt32LE(0) !== LFH_SIG)
      throw new Error(`corrupt zip entry ${JSON.stringify(e.name)}`);
    // exceljs reads the zip as a stream, trusting the local headers rather than the directory: a
    // local header that disagrees with the directory makes it wait forever for bytes never sent.
    const deferred = (lfh.readUInt16LE(6) & 0x8) !== 0; // sizes in a data descriptor after the data
    if (
      lfh.readUInt16LE(8) !== e.method ||
      (!deferred &&
        (lfh.readUInt32LE(14) >>> 0 !== e.crc >>> 0 ||
          lfh.readUInt32LE(18) !== e.compressedSize ||
          lfh.readUInt32LE(22) !== e.size))
    )
      throw new Error(
        `corrupt zip entry ${JSON.stringify(e.name)} (local header disagrees with the directory)`,
      );
    (e as Entry & { dataOffset: number }).dataOffset =
      e.localOffset + 30 + lfh.readUInt16LE(26) + lfh.readUInt16LE(28);
  }
  return entries;
}

async function checkEntry(path: string, e: Entry, size: number): Promise<void> {
  const start = (e as Entry & { dataOffset: number }).dataOffset;
  const name = JSON.stringify(e.name);
  if (e.name.endsWith('/') && e.size === 0) return;
  if (start + e.compressedSize > size)
    throw new Error(`truncated zip (entry ${name} runs past the end of the file)`);
  if (e.method !== 0 && e.method !== 8)
    throw new Error(`unsupported compression method ${e.method} in entry ${name}`);
  if (e.compressedSize === 0) {
    if (e.size !== 0) throw new Error(`corrupt zip entry ${name} (no data)`);
    return;
  }
  const src = createReadStream(path, { start, end: start + e.compressedSize - 1 });
  let data: AsyncIterable<Buffer> = src;
  if (e.method === 8) {
    const inflate = createInflateRaw();
    src.on('error', (err) => inflate.destroy(err));
    data = src.pipe(inflate);
  }
  let crc = 0;
  let n = 0;
  try {
    for await (const chunk of data) {
      crc = crc32(chunk, crc);
      n += chunk.length;
      if (n > e.size) throw new Error(`zip entry ${name} is larger than declared`);
    }
  } catch (err) {
    throw new Error(`corrupt zip entry ${name} (${(err as Error).message})`);
  } finally {
    src.destroy();
  }
  if (n !== e.size || crc >>> 0 !== e.crc >>> 0)
    throw new Error(`corrupt zip entry ${name} (checksum mismatch)`);
}
