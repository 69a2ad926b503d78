/**
 * 微信客服 callbacks say "there are new messages, read them with this token". Parsing one
 * announces it here; the pull scheduler of the same process (`cspulse serve`) listens and reads
 * the messages at once, with the token, instead of at its next interval.
 */
import { EventEmitter } from 'node:events';

export interface KfNotice {
  /** ToUserName: the corp id. */
  corpId: string;
  openKfId?: string;
  /** Valid for 10 minutes; lets sync_msg run without the strict limit of token-less calls. */
  token?: string;
}

const emitter = new EventEmitter();
emitter.setMaxListeners(100);

export function announceKf(n: KfNotice): void {
  emitter.emit('notice', n);
}

export function onKfNotice(listener: (n: KfNotice) => void): () => void {
  emitter.on('notice', listener);
  return () => emitter.off('notice', listener);
}
