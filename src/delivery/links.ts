/**
 * Download links for exported files, for the channels that cannot carry a file (钉钉 and 飞书 custom
 * bots take text only). `cspulse serve` answers them at GET /files/<name>?t=<token>; the token names
 * the file under the export folder and when the link expires, signed with CSPULSE_FILES_SECRET, so
 * a link can be neither forged, nor pointed at another file, nor used after it expires — and
 * nothing outside the export folder is ever served.
 *
 * Without CSPULSE_PUBLIC_URL and CSPULSE_FILES_SECRET, CSPULSE_FILES_URL may still name a folder the
 * team serves itself (a mirror of the export folder); without any of them, messages list file names.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { basename, isAbsolute, relative, resolve, sep } from 'node:path';

const DAY = 86_400_000;

/** Where scheduled exports are written and links served from: CSPULSE_EXPORT_DIR, else data/exports. */
export const exportDir = (env: NodeJS.ProcessEnv): string => env.CSPULSE_EXPORT_DIR ?? 'data/exports';
/** How long a link works unless CSPULSE_FILES_TTL_DAYS says otherwise: a month of Monday reports. */
export const DEFAULT_TTL_DAYS = 30;

export interface LinkSigner {
  /** The export folder; every signed path is relative to it. */
  dir: string;
  secret: string;
  ttlMs: number;
  now: () => number;
}

/** Why a link was refused; the route maps each to its status. */
export class LinkError extends Error {
  constructor(
    readonly kind: 'forged' | 'expired' | 'outside',
    message: string,
  ) {
    super(message);
  }
}

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');
const mac = (secret: string, payload: string) => createHmac('sha256', secret).update(payload).digest();

/** The file's path under `dir`, with forward slashes; refuses anything outside it. */
function inside(dir: string, file: string): string {
  const rel = relative(resolve(dir), resolve(dir, file));
  if (!rel || rel.startsWith('..') || isAbsolute(rel))
    throw new LinkError('outside', `不在导出目录中 / not in the export folder: ${file}`);
  return rel.split(sep).join('/');
}

export function signFileLink(s: LinkSigner, file: string): string {
  const payload = b64(JSON.stringify({ f: inside(s.dir, file), x: s.now() + s.ttlMs }));
  return `${payload}.${b64(mac(s.secret, payload))}`;
}

/** The absolute path a token grants, or a LinkError. */
export function openFileLink(s: Pick<LinkSigner, 'dir' | 'secret' | 'now'>, token: string): string {
  const [payload, sig, extra] = token.split('.');
  const forged = () => new LinkError('forged', '链接无效 / invalid link');
  if (!payload || !sig || extra !== undefined) throw forged();
  const want = mac(s.secret, payload);
  const got = Buffer.from(sig, 'base64url');
  if (got.length !== want.length || !timingSafeEqual(got, want)) throw forged();
  let claim: { f?: unknown; x?: unknown };
  try {
    claim = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw forged();
  }
  if (typeof claim.f !== 'string' || typeof claim.x !== 'number') throw forged();
  if (s.now() > claim.x)
    throw new LinkError('expired', `链接已过期 / the link expired on ${new Date(claim.x).toISOString()}`);
  return resolve(s.dir, inside(s.dir, claim.f));
}

/** The signer configured by the environment, or null when links are off. */
export function signerFromEnv(
  env: NodeJS.ProcessEnv,
  dir: string,
  now: () => number = Date.now,
): LinkSigner | null {
  const secret = env.CSPULSE_FILES_SECRET;
  if (!secret) return null;
  if (secret.length < 16)
    throw new Error('CSPULSE_FILES_SECRET: 至少 16 个字符 / expected at least 16 characters');
  const days = env.CSPULSE_FILES_TTL_DAYS ? Number(env.CSPULSE_FILES_TTL_DAYS) : DEFAULT_TTL_DAYS;
  if (!(days > 0))
    throw new Error(
      `CSPULSE_FILES_TTL_DAYS: expected a positive number of days, got "${env.CSPULSE_FILES_TTL_DAYS}"`,
    );
  return { dir, secret, ttlMs: days * DAY, now };
}

/**
 * How a push links each file: a signed link on our own server (CSPULSE_PUBLIC_URL with
 * CSPULSE_FILES_SECRET), else under a folder the team serves (CSPULSE_FILES_URL, mirroring the
 * export folder), else none.
 */
export function fileLinker(
  env: NodeJS.ProcessEnv,
  dir: string,
  now: () => number,
  mirror?: string,
): ((file: string) => string | undefined) | undefined {
  const signer = signerFromEnv(env, dir, now);
  const publicUrl = env.CSPULSE_PUBLIC_URL?.replace(/\/$/, '');
  if (signer && publicUrl)
    return (file) =>
      `${publicUrl}/files/${encodeURIComponent(basename(file))}?t=${signFileLink(signer, file)}`;
  const base = (mirror ?? env.CSPULSE_FILES_URL)?.replace(/\/$/, '');
  if (base) return (file) => `${base}/${inside(dir, file).split('/').map(encodeURIComponent).join('/')}`;
  return undefined;
}
