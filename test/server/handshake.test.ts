/** The platform-neutral parts of the webhook route: URL checks, credentials, opening the body. */
import { afterEach, describe, expect, it } from 'vitest';
import { addSource, sourceCredentials } from '../../src/ingest/sources.ts';
import { buildServer, type Server } from '../../src/server/app.ts';
import type { Store } from '../../src/store/db.ts';
import { freshStore } from '../support/stores.ts';

describe('webhook route', () => {
  let store: Store;
  let server: Server;
  afterEach(async () => {
    await server?.close();
    await store?.close();
  });

  it('answers GET with 405 for platforms without a URL check and 404 for unknown sources', async () => {
    store = await freshStore('sqlite');
    server = await buildServer(store, { refreshDelayMs: 20 });
    const base = await server.app.listen({ port: 0, host: '127.0.0.1' });
    const src = await addSource(store, { platform: 'telegram', name: '售后', secret: 's' });
    expect((await fetch(`${base}/ingest/${src.id}`)).status).toBe(405);
    expect((await fetch(`${base}/ingest/nope`)).status).toBe(404);
  });

  it('keeps credentials beyond the secret, and refuses options the platform does not take', async () => {
    store = await freshStore('sqlite');
    const src = await addSource(store, { platform: 'generic', name: 'CRM', secret: 'k' });
    expect(sourceCredentials(src)).toEqual({ secret: 'k', options: {} });
    await expect(
      addSource(store, { platform: 'generic', name: 'CRM', options: { aesKey: 'x' } }),
    ).rejects.toThrow(/--option aesKey: generic takes no options/);
  });
});
