/**
 * The zip container of a workbook, written as a stream: small parts in one piece, the detail sheet
 * as it is generated (deflated on the way, its size and CRC in a data descriptor after it), so a
 * 300,000-row sheet is never held in memory. node:zlib does the deflate and the CRC-32 natively;
 * the container itself is a few headers. No zip64: a part over 4 GiB is refused with a message
 * (the row limit keeps parts far below it).
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { constants, crc32, createDeflateRaw, deflateRawSync } from 'node:zlib';

interface Entry {
  name: Buffer;
  crc: number;
  compressed: number;
  size: number;
  offset: number;
  descriptor: boolean;
}

const LIMIT = 0xffff_ffff;

/** MS-DOS date and time of the entries: the workbook's generation time, local clock of the zip. */
function dosDateTime(d: Date): { time: number; date: number } {
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | Math.floor(d.getSeconds() / 2),
    date: (Math.max(0, d.getFullYear() - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

export class ZipWriter {
  private offset = 0;
  private readonly entries: Entry[] = [];
  private readonly stamp: { time: number; date: number };
  private busy = false;

  constructor(
    private readonly out: Writable,
    when: Date = new Date(),
    private readonly level = 6,
  ) {
    this.stamp = dosDateTime(when);
  }

  private async write(b: Buffer): Promise<void> {
    this.offset += b.length;
    if (this.offset > LIMIT)
      throw new Error(
        '工作簿分片超过 4 GiB,请降低每个文件的行数 / workbook part over 4 GiB: lower the row limit',
      );
    if (!this.out.write(b)) await once(this.out, 'drain');
  }

  private localHeader(name: Buffer, flags: number, crc: number, csize: number, size: number): Buffer {
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(20, 4);
    h.writeUInt16LE(flags, 6);
    h.writeUInt16LE(8, 8); // deflate
    h.writeUInt16LE(this.stamp.time, 10);
    h.writeUInt16LE(this.stamp.date, 12);
    h.writeUInt32LE(crc, 14);
    h.writeUInt32LE(csize, 18);
    h.writeUInt32LE(size, 22);
    h.writeUInt16LE(name.length, 26);
    h.writeUInt16LE(0, 28);
    return Buffer.concat([h, name]);
  }

  /** A part held in memory (everything but the detail sheet). */
  async add(path: string, content: string | Buffer): Promise<void> {
    if (this.busy) throw new Error(`zip: ${path} added while a streamed entry is open`);
    const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    const packed = deflateRawSync(data, { level: this.level });
    const name = Buffer.from(path, 'utf8');
    const entry: Entry = {
      name,
      crc: crc32(data),
      compressed: packed.length,
      size: data.length,
      offset: this.offset,
      descriptor: false,
    };
    await this.write(this.localHeader(name, 0x0800, entry.crc, entry.compressed, entry.size));
    await this.write(packed);
    this.entries.push(entry);
  }

  /**
   * A part written piece by piece: `write` resolves once the piece is deflated far enough that
   * memory stays bounded (the file stream's backpressure reaches back through the deflater).
   */
  async stream(path: string): Promise<StreamedEntry> {
    if (this.busy) throw new Error(`zip: ${path} opened while another streamed entry is open`);
    this.busy = true;
    const name = Buffer.from(path, 'utf8');
    const entry: Entry = { name, crc: 0, compressed: 0, size: 0, offset: this.offset, descriptor: true };
    await this.write(this.localHeader(name, 0x0808, 0, 0, 0));
    const deflate = createDeflateRaw({ level: this.level, memLevel: 9, chunkSize: 256 * 1024 });
    let failed: Error | null = null;
    deflate.on('data', (chunk: Buffer) => {
      entry.compressed += chunk.length;
      this.offset += chunk.length;
      if (!this.out.write(chunk)) {
        deflate.pause();
        this.out.once('drain', () => deflate.resume());
      }
    });
    deflate.on('error', (e) => {
      failed = e;
    });
    const ended = once(deflate, 'end');
    return {
      write: async (text: string | Buffer) => {
        if (failed) throw failed;
        const b = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
        entry.crc = crc32(b, entry.crc);
        entry.size += b.length;
        if (entry.size > LIMIT) throw new Error('明细工作表超过 4 GiB / detail sheet over 4 GiB');
        // Resolves once the deflater has consumed the bytes: the caller may then reuse its buffer.
        await new Promise<void>((resolve, reject) => deflate.write(b, (e) => (e ? reject(e) : resolve())));
      },
      end: async () => {
        deflate.end();
        await ended;
        if (failed) throw failed;
        if (this.offset > LIMIT) throw new Error('工作簿分片超过 4 GiB / workbook part over 4 GiB');
        const d = Buffer.alloc(16);
        d.writeUInt32LE(0x08074b50, 0);
        d.writeUInt32LE(entry.crc, 4);
        d.writeUInt32LE(entry.compressed, 8);
        d.writeUInt32LE(entry.size, 12);
        await this.write(d);
        this.entries.push(entry);
        this.busy = false;
      },
    };
  }

  /** The central directory; the caller ends the output stream. */
  async finish(): Promise<void> {
    if (this.busy) throw new Error('zip: finished while a streamed entry is open');
    const start = this.offset;
    for (const e of this.entries) {
      const h = Buffer.alloc(46);
      h.writeUInt32LE(0x02014b50, 0);
      h.writeUInt16LE(20, 4);
      h.writeUInt16LE(20, 6);
      h.writeUInt16LE(e.descriptor ? 0x0808 : 0x0800, 8);
      h.writeUInt16LE(8, 10);
      h.writeUInt16LE(this.stamp.time, 12);
      h.writeUInt16LE(this.stamp.date, 14);
      h.writeUInt32LE(e.crc >>> 0, 16);
      h.writeUInt32LE(e.compressed, 20);
      h.writeUInt32LE(e.size, 24);
      h.writeUInt16LE(e.name.length, 28);
      h.writeUInt32LE(e.offset, 42);
      await this.write(Buffer.concat([h, e.name]));
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(this.entries.length, 8);
    end.writeUInt16LE(this.entries.length, 10);
    end.writeUInt32LE(this.offset - start, 12);
    end.writeUInt32LE(start, 16);
    await this.write(end);
  }
}

export interface StreamedEntry {
  /** Resolves when the bytes are consumed; a Buffer passed here may be reused after that. */
  write(text: string | Buffer): Promise<void>;
  end(): Promise<void>;
}

/** Fast and still small: the detail sheet is repetitive XML. */
export const FAST_LEVEL = constants.Z_BEST_SPEED;
