/**
 * A worker thread running one of our modules, whether this process runs the compiled dist/ (the
 * module is plain JavaScript: imported as it is) or the TypeScript sources (an eval'd worker gets
 * no --import, so it registers tsx itself first). Start it with `new URL('./x.ts',
 * import.meta.url)`: the build rewrites the specifier to `./x.js` in dist/.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

// Dynamic imports only: the eval'd script is CommonJS, or ESM when node runs with --input-type=module.
const BOOT = `
import('node:worker_threads')
  .then(({ workerData }) => {
    const [loader, entry] = workerData.__module;
    return (loader ? import(loader).then((m) => m.register()) : Promise.resolve()).then(() => import(entry));
  })
  .catch((e) => { throw e; });
`;

/** tsx's ESM entry (its CommonJS one cannot be imported from an ESM context). */
function tsxLoader(): string {
  const cjs = createRequire(import.meta.url).resolve('tsx/esm/api');
  return pathToFileURL(cjs.replace(/\.cjs$/, '.mjs')).href;
}

export function moduleWorker(entry: URL, options: WorkerOptions & { workerData?: object } = {}): Worker {
  const loader = entry.pathname.endsWith('.ts') ? tsxLoader() : null;
  return new Worker(BOOT, {
    ...options,
    eval: true,
    workerData: { ...options.workerData, __module: [loader, entry.href] },
  });
}
