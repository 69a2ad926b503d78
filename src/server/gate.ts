/**
 * Reports and fact refreshes take turns. A report that builds the daily rollups reads the facts,
 * then marks the rollups current; a refresh committing in between would leave rollups marked
 * current that miss its events until the next refresh — for good, if the burst has ended. So a
 * refresh waits for the reports in progress, and reports wait for the refresh (it comes first
 * once it asks, so a stream of reports cannot starve it).
 *
 * Two forms: in one thread (promises), and across the server's threads (a SharedArrayBuffer, the
 * refresh running in the writer thread, the reports in the HTTP thread).
 */

export interface ReadGate {
  /** Run a report: never during a refresh. */
  read<T>(fn: () => Promise<T>): Promise<T>;
}

export interface RefreshGate {
  /** Run a refresh: once the reports in progress are done, none starting meanwhile. */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
}

/** Both sides in one thread. */
export class LocalGate implements ReadGate, RefreshGate {
  private readers = 0;
  private writing = false;
  private wanting = 0;
  private wakers: (() => void)[] = [];

  private wake(): void {
    const list = this.wakers.splice(0);
    for (const w of list) w();
  }

  private wait(): Promise<void> {
    return new Promise((r) => this.wakers.push(r));
  }

  async read<T>(fn: () => Promise<T>): Promise<T> {
    while (this.writing || this.wanting) await this.wait();
    this.readers++;
    try {
      return await fn();
    } finally {
      this.readers--;
      if (!this.readers) this.wake();
    }
  }

  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.wanting++;
    while (this.readers || this.writing) await this.wait();
    this.wanting--;
    this.writing = true;
    try {
      return await fn();
    } finally {
      this.writing = false;
      this.wake();
    }
  }
}

/** Slots of the shared state: reports running (-1 while a refresh runs), and a refresh asking. */
const STATE = 0;
const WANT = 1;

export function sharedGateBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The HTTP thread's side: it must not block, so it polls while a refresh runs. */
export class SharedReadGate implements ReadGate {
  private readonly s: Int32Array;
  constructor(buffer: SharedArrayBuffer) {
    this.s = new Int32Array(buffer);
  }

  async read<T>(fn: () => Promise<T>): Promise<T> {
    for (;;) {
      const n = Atomics.load(this.s, STATE);
      if (n >= 0 && !Atomics.load(this.s, WANT) && Atomics.compareExchange(this.s, STATE, n, n + 1) === n)
        break;
      await sleep(2);
    }
    try {
      return await fn();
    } finally {
      Atomics.sub(this.s, STATE, 1);
      Atomics.notify(this.s, STATE);
    }
  }
}

/**
 * The writer thread's side: it may block while reports finish (they are short). A report that
 * hangs (a stuck PostgreSQL query) must not stop ingestion: after `patienceMs` the refresh runs
 * anyway, and `overruns` counts it.
 */
export class SharedRefreshGate implements RefreshGate {
  private readonly s: Int32Array;
  overruns = 0;
  constructor(
    buffer: SharedArrayBuffer,
    private readonly patienceMs = 2000,
  ) {
    this.s = new Int32Array(buffer);
  }

  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    Atomics.store(this.s, WANT, 1);
    const until = Date.now() + this.patienceMs;
    let owned = false;
    for (;;) {
      if (Atomics.compareExchange(this.s, STATE, 0, -1) === 0) {
        owned = true;
        break;
      }
      const n = Atomics.load(this.s, STATE);
      if (Date.now() >= until) {
        this.overruns++;
        break;
      }
      Atomics.wait(this.s, STATE, n, 5);
    }
    Atomics.store(this.s, WANT, 0);
    try {
      return await fn();
    } finally {
      if (owned) Atomics.store(this.s, STATE, 0);
    }
  }
}
