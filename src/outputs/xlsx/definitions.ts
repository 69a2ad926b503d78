/**
 * 口径说明: what the numbers mean, so they can be signed off — the report, the viewer and the
 * period; every metric shown with its definition from the catalog; every computed field's formula;
 * the score model; and every parameter in force from the settings.
 */
import { compileFormula } from '../../metrics/formula.ts';
import { scoreToFormula } from '../../metrics/scores.ts';
import { formatDuration } from '../../metrics/format.ts';
import { tzOffset } from '../../model/time.ts';
import type { ReportBundle } from '../types.ts';
import { type ValueColumn, valueColumns } from './columns.ts';
import type { DetailColumn } from './detail-sheet.ts';
import { type BuiltSheet, buildSheet, rowXml } from './sheet.ts';
import { S } from './styles.ts';
import { cellRef, textCell } from './xml.ts';

export const DEFINITIONS_SHEET = '口径说明';

const UNIT_ZH: Record<string, string> = {
  count: '个数',
  seconds: '时长(分:秒)',
  rate: '比率(%)',
  rating: '评分(1–5)',
  amount: '金额',
  score: '得分',
};
const DIRECTION_ZH: Record<string, [string, string]> = {
  higher: ['越高越好', 'higher is better'],
  lower: ['越低越好', 'lower is better'],
  neutral: ['中性', 'neutral'],
};
const RULE: Record<string, [string, string]> = {
  closed_and_rated: ['已关闭且评分 ≥ 最低分', 'closed and rated at least the minimum'],
  platform_flag: ['以平台的“已解决”状态为准', "the platform's own resolved status"],
  no_repeat: ['同一客户在若干天内没有再次咨询', 'no new conversation from the customer within the window'],
};
const UNRATED: Record<string, [string, string]> = {
  excluded: ['不计入分母', 'left out of the denominator'],
  resolved: ['视为已解决', 'counted as resolved'],
  unresolved: ['视为未解决', 'counted as unresolved'],
};
const WEEKDAY = ['', '周一', '周二', '周三', '周四', '周五', '周六', '周日'];

export interface PartInfo {
  /** 1-based part number, and the detail rows it holds (first and last, 1-based over the whole export). */
  index: number;
  split: boolean;
  firstRow: number;
  lastRow: number;
}

export function definitionsSheet(
  bundle: ReportBundle,
  sheetIndex: number,
  detail: DetailColumn[] | null,
  part: PartInfo | null,
): BuiltSheet {
  const { template, viewer, settings, period, previousPeriod } = bundle;
  const rows: string[] = [];
  let r = 0;
  const line = (a: string, b = '', c = '', style: number = S.wrap) => {
    r++;
    rows.push(
      rowXml(r, [
        textCell(a, a && !b && !c ? S.section : S.bold, cellRef(0, r)),
        textCell(b, style, cellRef(1, r)),
        textCell(c, style, cellRef(2, r)),
      ]),
    );
  };
  const section = (zh: string, en: string) => {
    r++;
    rows.push(
      rowXml(r, [
        textCell(zh, S.section, cellRef(0, r)),
        textCell('', S.section, cellRef(1, r)),
        textCell(en, S.section, cellRef(2, r)),
      ]),
    );
  };
  r++;
  rows.push(rowXml(r, [textCell(`${template.title.zh} · 口径说明`, S.title, cellRef(0, r))]));
  r++;
  rows.push(rowXml(r, [textCell(`${template.title.en} · Definitions`, S.note, cellRef(0, r))]));

  const tz = settings.timezone;
  const local = (t: number) => new Date(t + tzOffset(t, tz)).toISOString().replace('T', ' ').slice(0, 19);
  section('报表', 'Report');
  line('模板 / Template', template.name, template.title.en);
  line(
    '统计周期 / Period',
    `${period.from} 至 ${period.to}(${period.label})`,
    `${period.from} to ${period.to}`,
  );
  line(
    '环比周期 / Previous period',
    `${previousPeriod.from} 至 ${previousPeriod.to}`,
    `${previousPeriod.from} to ${previousPeriod.to}`,
  );
  line('查看范围 / Viewer', viewer.label, scopeEn(bundle));
  line(
    '个人信息 / Personal data',
    viewer.canSeePii
      ? '未脱敏(有查看权限)'
      : '已脱敏:手机号 138****5678、邮箱 a***@x.com、证件号、银行卡、地址、姓名',
    viewer.canSeePii ? 'unmasked (pii:view)' : 'masked',
  );
  line(
    '汇总维度 / Rows',
    { agent: '按客服', group: '按组', channel: '按渠道' }[template.by],
    `by ${template.by}`,
  );
  line(
    '时长口径 / Durations',
    bundle.current.businessHours ? '仅计工作时间' : '自然时间',
    bundle.current.businessHours ? 'business hours only' : 'calendar time',
  );
  const f = template.filters;
  const filters = [
    f.channel?.length ? `渠道 ${f.channel.join('、')}` : '',
    f.group?.length ? `组 ${f.group.join('、')}` : '',
    f.agent?.length ? `客服 ${f.agent.join('、')}` : '',
    f.tag?.length ? `标签 ${f.tag.join('、')}` : '',
    f.region?.length ? `地区 ${f.region.join('、')}` : '',
  ].filter(Boolean);
  line('筛选 / Filters', filters.join(';') || '无', filters.length ? JSON.stringify(f) : 'none');
  line(
    '生成时间 / Generated',
    `${local(bundle.generatedAt)}(${tz})`,
    new Date(bundle.generatedAt).toISOString(),
  );
  if (part?.split)
    line(
      '分片 / Part',
      `本文件为第 ${part.index} 部分,含明细第 ${part.firstRow}–${part.lastRow} 行;透视表只统计本部分明细`,
      `part ${part.index}: detail rows ${part.firstRow}–${part.lastRow}; its pivot covers this part only`,
    );

  const cols = valueColumns(bundle);
  section('指标 / Metrics', 'Metric definitions (METRICS.md)');
  for (const c of cols) {
    if (c.kind !== 'metric') continue;
    const [dz, de] = DIRECTION_ZH[c.def.direction] ?? ['', ''];
    line(
      `${c.def.zh}(${c.id})`,
      `${c.def.definition.zh}。单位:${UNIT_ZH[c.unit]};${dz}`,
      `${c.def.en}: ${c.def.definition.en}. ${de}`,
    );
  }
  const computed = cols.filter((c): c is Extract<ValueColumn, { kind: 'computed' }> => c.kind === 'computed');
  if (computed.length) {
    section('计算字段 / Computed fields', 'Formulas over the metrics (live Excel formulas in 汇总)');
    for (const c of computed) {
      const others = template.computed.map((x) => x.name).filter((n) => n !== c.id);
      const expr = compileFormula(c.formula, { names: others }).expression();
      line(c.header, c.formula, expr);
    }
  }
  const score = cols.find((c) => c.kind === 'score');
  if (score && template.score) {
    section('绩效得分 / Score model', template.score.name);
    for (const comp of template.score.components) {
      const n = comp.normalise;
      const how =
        n.kind === 'pct'
          ? '比率 × 100'
          : n.kind === 'linear'
            ? `线性:${n.best} 及更优得 100,${n.worst} 及更差得 0`
            : n.kind === 'scale'
              ? `区间:${n.min} → 0,${n.max} → 100`
              : `公式:${n.expr}`;
      line(
        `${comp.label ?? comp.metric}(${comp.metric})`,
        `权重 ${comp.weight}%;${how}`,
        `weight ${comp.weight}%, ${n.kind}`,
      );
    }
    line(
      '空值 / Empty values',
      '某项指标为空时不计入,其余权重按比例放大',
      'an empty component is left out and the other weights scaled up',
    );
    line('公式 / Formula', scoreToFormula(template.score), '');
  }

  section('参数 / Parameters in force', 'Settings');
  const t = settings.thresholds;
  line(
    '首响超时阈值 / First-response threshold',
    `${t.firstResponse} 秒(${formatDuration(t.firstResponse)})`,
    `${t.firstResponse} s`,
  );
  line(
    '响应超时阈值 / Response threshold',
    `${t.response} 秒(${formatDuration(t.response)})`,
    `${t.response} s`,
  );
  const res = settings.resolution;
  line(
    '解决规则 / Resolution rule',
    `${RULE[res.rule]![0]}(${res.rule});最低分 ${res.minRating};未评价:${UNRATED[res.unrated]![0]};重复咨询窗口 ${res.repeatDays} 天`,
    `${RULE[res.rule]![1]}; min rating ${res.minRating}; unrated: ${UNRATED[res.unrated]![1]}; repeat window ${res.repeatDays} d`,
  );
  line('一次解决窗口 / FCR window', `${settings.fcr.windowDays} 天`, `${settings.fcr.windowDays} days`);
  line(
    '转化窗口 / Conversion window',
    `${settings.conversion.windowDays} 天`,
    `${settings.conversion.windowDays} days`,
  );
  const a = settings.attribution;
  line(
    '离线消息归属 / Offline attribution',
    a.offline === 'split'
      ? `首接 ${a.split.original * 100}%,承接 ${(1 - a.split.original) * 100}%`
      : '归最后处理的客服',
    a.offline === 'split' ? `split ${a.split.original}/${1 - a.split.original}` : 'last handler',
  );
  const idle = Object.entries(settings.session.idleTimeoutByChannel).map(([c, m]) => `${c} ${m} 分钟`);
  line(
    '会话超时 / Idle timeout',
    `${settings.session.idleTimeoutMinutes} 分钟${idle.length ? `;${idle.join('、')}` : ''}`,
    `${settings.session.idleTimeoutMinutes} min`,
  );
  line(
    '无效会话 / Greeting-only',
    `${settings.filters.excludeGreetingOnly ? '剔除' : '保留'};问候语:${settings.filters.greetingPatterns.join('、')}`,
    settings.filters.excludeGreetingOnly ? 'excluded' : 'kept',
  );
  line('时区 / Timezone', tz, tz);
  const hours = (list: { start: string; end: string }[]) =>
    list.length ? list.map((h) => `${h.start}–${h.end}`).join('、') : '休息';
  const weekly = (bh: typeof settings.businessHours) =>
    (['1', '2', '3', '4', '5', '6', '7'] as const)
      .map((d) => `${WEEKDAY[Number(d)]} ${hours(bh.weekly[d] ?? [])}`)
      .join(';');
  line('工作时间 / Business hours', weekly(settings.businessHours), '');
  for (const o of settings.businessHours.overrides)
    line(
      `  例外日期 ${o.date}`,
      `${hours(o.hours)}${o.note ? `(${o.note})` : ''}`,
      o.hours.length ? 'working day' : 'holiday',
    );
  for (const [g, bh] of Object.entries(settings.groupBusinessHours)) {
    line(`  组 ${g} 工作时间`, weekly(bh), '');
    for (const o of bh.overrides) line(`    例外日期 ${o.date}`, hours(o.hours), '');
  }
  line(
    '工单重复窗口 / Ticket repeat window',
    `${settings.tickets.repeatDays} 天`,
    `${settings.tickets.repeatDays} days`,
  );

  if (detail) {
    section('明细 / Detail', 'One row per conversation');
    line(
      '范围 / Rows',
      '本期计入“会话数”的会话(至少一条客户消息;剔除无效会话时不含无效会话),按负责客服归属,按开始时间排序',
      'the conversations the report counts, under their responsible agent, by start time',
    );
    line('列 / Columns', detail.map((c) => c.header).join('、'), '');
    line(
      '已解决 / 漏接',
      '1 = 是,0 = 否;“已解决”为空表示按规则不计入(未评价或无人工回复)',
      '1 yes, 0 no; empty: not counted by the rule',
    );
  }
  return buildSheet(DEFINITIONS_SHEET, sheetIndex, { widths: [28, 70, 60] }, rows);
}

function scopeEn(bundle: ReportBundle): string {
  const s = bundle.viewer.scope;
  return s.kind === 'all' ? 'all' : s.kind === 'group' ? `group ${s.group}` : `agent ${s.agentId}`;
}
