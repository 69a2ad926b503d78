/**
 * GET /files/<name>?t=<token>: the exported files that pushes link to (src/delivery/links.ts), as
 * presigned links are. Only what a valid, unexpired token names under the export folder is served;
 * the name in the path is there for people reading the link and must match the file.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { LinkError, openFileLink, type LinkSigner } from '../delivery/links.ts';

const TYPES: Record<string, string> = {
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  '.pdf': 'application/pdf',
  '.csv': 'text/csv; charset=utf-8',
};

export async function fileRoutes(app: FastifyInstance, o: { signer: LinkSigner | null }): Promise<void> {
  app.get<{ Params: { name: string }; Querystring: { t: string } }>(
    '/files/:name',
    {
      schema: {
        params: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
        querystring: {
          type: 'object',
          properties: { t: { type: 'string', maxLength: 4096 } },
          required: ['t'],
        },
      },
    },
    async (req, reply) => {
      if (!o.signer)
        return reply.code(404).send({
          error: '文件链接未启用 / file links are off: set CSPULSE_FILES_SECRET and CSPULSE_PUBLIC_URL',
        });
      let path: string;
      try {
        path = openFileLink(o.signer, req.query.t);
      } catch (e) {
        if (!(e instanceof LinkError)) throw e;
        return reply.code(e.kind === 'expired' ? 410 : 403).send({ error: e.message });
      }
      if (basename(path) !== req.params.name)
        return reply.code(403).send({ error: '链接无效 / invalid link' });
      const info = await stat(path).catch(() => null);
      if (!info?.isFile()) return reply.code(404).send({ error: '文件已不存在 / the file is gone' });
      const name = basename(path);
      return reply
        .header('content-type', TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream')
        .header('content-length', info.size)
        .header(
          'content-disposition',
          `attachment; filename="${name.replace(/[^\x20-\x7e]|"/g, '_')}"; filename*=UTF-8''${encodeURIComponent(name)}`,
        )
        .header('cache-control', 'private, no-store')
        .send(createReadStream(path));
    },
  );
}
