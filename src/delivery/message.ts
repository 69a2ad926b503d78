/**
 * The words of a push: the headline numbers of the bundle with their 环比 against the period
 * before, the anomalies that need attention, and the files. One text, shaped for mail (text and
 * HTML) and for each bot's markdown, so every channel says the same thing.
 */
import { basename } from 'node:path';
import { metricById } from '../metrics/catalog.ts';
import { formatValue } from '../metrics/format.ts';
import type { ReportBundle } from '../outputs/types.ts';

export interface Headline {
  label: string;
  value: string;
  /** ↑ 12.0% / ↓ 3.1% / '' */
  change: string;
  /** Whether the change is good news, by the metric's direction; null: neutral or unknown. */
  better: boolean | null;
}

export interface PushMessage {
  title: string;
  headlines: Headline[];
  anomalies: string[];
  files: { name: string; url?: string }[];
}

const MAX_HEADLINES = 6;
const MAX_ANOMALIES = 5;

/** `linkFor` gives each file's download link where a channel cannot carry the file (see links.ts). */
export function pushMessage(
  bundle: ReportBundle,
  files: string[],
  linkFor?: (file: string) => string | undefined,
): PushMessage {
  const headlines: Headline[] = [];
  const ids = [...bundle.template.metrics, ...(bundle.template.score ? ['score'] : [])];
  for (const id of ids) {
    if (headlines.length >= MAX_HEADLINES) break;
    const def = bundle.current.definitions[id];
    const cur = bundle.current.total.metrics[id];
    if (!def || cur === null || cur === undefined) continue;
    const prev = bundle.previous.total.metrics[id];
    const unit = metricById(id) ?? { unit: def.unit as 'score' };
    let change = '';
    let better: boolean | null = null;
    if (typeof prev === 'number' && prev !== 0 && cur !== prev) {
      const pct = ((cur - prev) / Math.abs(prev)) * 100;
      change = `${pct > 0 ? '↑' : '↓'} ${Math.abs(pct).toFixed(1)}%`;
      if (def.direction !== 'neutral') better = cur > prev === (def.direction === 'higher');
    }
    headlines.push({ label: def.zh, value: formatValue(unit, cur), change, better });
  }
  const anomalies = bundle.anomalies.slice(0, MAX_ANOMALIES).map((a) => `${a.name}:${a.reason.zh}`);
  if (bundle.anomalies.length > MAX_ANOMALIES)
    anomalies.push(`…另有 ${bundle.anomalies.length - MAX_ANOMALIES} 条`);
  return {
    title: `${bundle.template.title.zh} ${bundle.period.label}(${bundle.viewer.label})`,
    headlines,
    anomalies,
    files: files.map((f) => {
      const url = linkFor?.(f);
      return { name: basename(f), ...(url ? { url } : {}) };
    }),
  };
}

const line = (h: Headline) => `${h.label}:${h.value}${h.change ? `(环比 ${h.change})` : ''}`;

export function asText(m: PushMessage): string {
  const out = [m.title, '', ...m.headlines.map(line)];
  if (m.anomalies.length)
    out.push('', `异常提醒 ${m.anomalies.length} 条:`, ...m.anomalies.map((a) => `- ${a}`));
  if (m.files.length)
    out.push('', '文件 / files:', ...m.files.map((f) => `- ${f.name}${f.url ? ` ${f.url}` : ''}`));
  return out.join('\n');
}

const esc = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export function asHtml(m: PushMessage): string {
  const rows = m.headlines
    .map((h) => {
      const colour = h.better === null ? '#666' : h.better ? '#1a7f37' : '#cf222e';
      return `<tr><td>${esc(h.label)}</td><td style="text-align:right"><b>${esc(h.value)}</b></td><td style="color:${colour}">${esc(h.change)}</td></tr>`;
    })
    .join('');
  const anomalies = m.anomalies.length
    ? `<h3>异常提醒</h3><ul>${m.anomalies.map((a) => `<li>${esc(a)}</li>`).join('')}</ul>`
    : '';
  return `<h2>${esc(m.title)}</h2><table cellpadding="4">${rows}</table>${anomalies}<p>附件 / attached: ${m.files.map((f) => esc(f.name)).join(', ')}</p>`;
}

/** Markdown as 企业微信 and 钉钉 render it: <font color> for the 环比 colours (WeCom), bold values. */
export function asMarkdown(m: PushMessage, flavour: 'wecom' | 'dingtalk'): string {
  const colour = (h: Headline) =>
    flavour === 'wecom' && h.better !== null
      ? `<font color="${h.better ? 'info' : 'warning'}">${h.change}</font>`
      : h.change;
  const out = [`### ${m.title}`];
  for (const h of m.headlines)
    out.push(`> ${h.label}:**${h.value}** ${h.change ? `环比 ${colour(h)}` : ''}`.trimEnd());
  if (m.anomalies.length)
    out.push('', `**异常提醒 ${m.anomalies.length} 条**`, ...m.anomalies.map((a) => `- ${a}`));
  if (m.files.length)
    out.push('', ...m.files.map((f) => (f.url ? `- [${f.name}](${f.url})` : `- ${f.name}`)));
  // DingTalk's markdown joins single newlines into one paragraph.
  return out.join(flavour === 'dingtalk' ? '\n\n' : '\n');
}
