/**
 * WAL checkpoints of a SQLite bulk load, on a thread of their own.
 *
 * Every page a commit writes to SQLite's WAL is later copied into the database file and synced
 * there (a checkpoint). Run by the importing connection itself (wal_autocheckpoint), that copy and
 * its fsync happen inside a commit, on the thread that also parses and sessionises: a tenth of a
 * 1M import's main thread went to commits. During a large import the importing connection
 * therefore stops checkpointing, and a second connection on a worker thread checkpoints what has
 * been committed, a few times a second, while the import goes on.
 *
 * Durability does not change: a commit is in the WAL as before (synchronous = NORMAL), and the
 * checkpoint syncs the database file as before. What it costs: the WAL may grow larger than 64 MB
 * when the checkpoints fall behind (they are PASSIVE: they never wait for, or block, the writer),
 * and whatever is left is checkpointed by the importing connection afterwards, as before.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { type Store, WAL_AUTOCHECKPOINT_PAGES } from './db.ts';

const LOOP = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 10000');
db.pragma('synchronous = NORMAL');
const checkpoint = () => db.pragma('wal_checkpoint(PASSIVE)');
const timer = setInterval(checkpoint, workerData.everyMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.postMessage('stopped');
});
parentPort.postMessage('started');
`;

export class Checkpointer {
  private exited = false;

  private constructor(
    private readonly store: Store,
    private readonly worker: Worker,
  ) {
    worker.once('exit', () => {
      this.exited = true;
    });
  }

  /**
   * Take over the WAL checkpoints of `store` (a SQLite file) until `stop`. Undefined for a
   * PostgreSQL or in-memory store, or when the thread cannot start: the connection then goes on
   * checkpointing by itself.
   */
  static async start(store: Store, everyMs = 200): Promise<Checkpointer | undefined> {
    const sqlite = store.sqlite;
    if (!sqlite || sqlite.memory) return undefined;
    const worker = new Worker(LOOP, {
      eval: true,
      workerData: {
        driver: createRequire(import.meta.url).resolve('better-sqlite3'),
        file: sqlite.name,
        everyMs,
      },
    });
    try {
      await new Promise<void>((resolve, reject) => {
        worker.once('message', () => resolve());
        worker.once('error', reject);
      });
    } catch {
      await worker.terminate();
      return undefined;
    }
    const c = new Checkpointer(store, worker);
    sqlite.pragma('wal_autocheckpoint = 0');
    // Should the thread fail, the connection checkpoints by itself again.
    worker.on('error', () => c.restore());
    return c;
  }

  private restore(): void {
    if (this.store.sqlite?.open) this.store.sqlite.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
  }

  async stop(): Promise<void> {
    this.restore();
    if (this.exited) return;
    const stopped = new Promise<void>((resolve) => {
      this.worker.once('message', () => resolve());
      this.worker.once('exit', () => resolve());
    });
    this.worker.postMessage('stop');
    await stopped;
    await this.worker.terminate();
  }
}
