/**
 * THE metric catalog: the only list of metrics in the code (METRICS.md is the contract).
 * Each metric is declared once — id, names, unit, direction, definition — with how it is computed
 * from the aggregated measures of the fact queries (src/metrics/queries). The report, the CLI, the
 * formula language and every export read this list; adding a metric is one entry plus its test.
 */
import type { Measures } from './measures.ts';

export type MetricUnit = 'count' | 'seconds' | 'rate' | 'rating' | 'amount' | 'score';
export type MetricGroup = 'workload' | 'speed' | 'outcome' | 'tickets' | 'quality';
/** Whether a higher value is better: drives ↑/↓ colours and normalisation defaults. */
export type Direction = 'higher' | 'lower' | 'neutral';

export interface MetricDef {
  id: string;
  zh: string;
  en: string;
  group: MetricGroup;
  unit: MetricUnit;
  direction: Direction;
  definition: { zh: string; en: string };
  /** Duration metrics exist in a calendar and a business-hours variant (`--business-hours`). */
  businessHours?: boolean;
  /**
   * Value for one report row from its aggregated measures; null when there is nothing to measure
   * (no denominator): an empty cell, never 0 or NaN. Absent for metrics that need data not yet
   * collected (text analytics, QA): they resolve in formulas but are always empty.
   */
  compute?: (m: Measures) => number | null;
}

const ratio = (num: number, den: number): number | null => (den > 0 ? num / den : null);

export const METRICS: readonly MetricDef[] = [
  // ---- Workload ---------------------------------------------------------------------------
  {
    id: 'conversations',
    zh: '会话数',
    en: 'Conversations',
    group: 'workload',
    unit: 'count',
    direction: 'neutral',
    definition: {
      zh: '含至少一条客户消息的会话数(剔除无效会话时不含无效会话);按客服分组时归属最后处理的客服',
      en: 'Conversations with at least one customer message (greeting-only ones excluded when the filter is on); by agent, credited to the last human handler',
    },
    compute: (m) => m.conversations,
  },
  {
    id: 'received',
    zh: '接待会话数',
    en: 'Received',
    group: 'workload',
    unit: 'count',
    direction: 'higher',
    definition: {
      zh: '接待段数:客服接入会话的次数,含转接转入;离线消息按“首接+承接”拆分时可为小数',
      en: 'Segments: times an agent received a conversation, transfers in included; fractional under split offline attribution',
    },
    compute: (m) => m.received,
  },
  {
    id: 'valid',
    zh: '有效会话数',
    en: 'Valid conversations',
    group: 'workload',
    unit: 'count',
    direction: 'higher',
    definition: {
      zh: '至少有一条客户消息且至少有一条客服消息的接待段数',
      en: 'Segments with at least one customer message and at least one agent message',
    },
    compute: (m) => m.valid,
  },
  {
    id: 'invalid',
    zh: '无效会话数',
    en: 'Greeting-only conversations',
    group: 'workload',
    unit: 'count',
    direction: 'lower',
    definition: {
      zh: '客户消息全部是问候语(在吗、你好…)且没有客服回复的会话:访客说了“在吗”就离开',
      en: 'Conversations whose customer messages are all greetings (在吗, hi…) and that got no agent reply',
    },
    compute: (m) => m.invalid,
  },
  {
    id: 'effective_rate',
    zh: '有效工作率',
    en: 'Effective work rate',
    group: 'workload',
    unit: 'rate',
    direction: 'higher',
    definition: { zh: '有效会话数 / 接待会话数', en: 'valid / received' },
    compute: (m) => ratio(m.valid, m.received),
  },
  {
    id: 'missed',
    zh: '漏接数',
    en: 'Missed conversations',
    group: 'workload',
    unit: 'count',
    direction: 'lower',
    definition: {
      zh: '有客户消息、会话结束前没有人工回复的非无效会话;记在被分配的客服名下,未分配的记入“未分配”',
      en: 'Non-greeting-only conversations with a customer message and no human reply before they ended; charged to the assigned agent, else to "unassigned"',
    },
    compute: (m) => m.missed,
  },
  {
    id: 'missed_rate',
    zh: '漏接率',
    en: 'Missed rate',
    group: 'workload',
    unit: 'rate',
    direction: 'lower',
    definition: { zh: '漏接数 / 非无效会话数', en: 'missed / non-greeting-only conversations' },
    compute: (m) => ratio(m.missed, m.conversations),
  },
  {
    id: 'messages_in',
    zh: '客户消息数',
    en: 'Customer messages',
    group: 'workload',
    unit: 'count',
    direction: 'neutral',
    definition: {
      zh: '客户发送的消息数;按客服分组时归属最后处理的客服',
      en: 'Messages sent by customers; by agent, credited to the last human handler',
    },
    compute: (m) => m.messagesIn,
  },
  {
    id: 'messages_out',
    zh: '客服消息数',
    en: 'Agent messages',
    group: 'workload',
    unit: 'count',
    direction: 'neutral',
    definition: {
      zh: '人工客服发送的消息数(不含机器人与系统消息),记在发送者名下',
      en: 'Messages sent by human agents (not bots or system), credited to the sender',
    },
    compute: (m) => m.messagesOut,
  },
  {
    id: 'transfer_rate',
    zh: '转接率',
    en: 'Transfer rate',
    group: 'workload',
    unit: 'rate',
    direction: 'lower',
    definition: { zh: '以转接结束的接待段 / 接待会话数', en: 'segments ending in a transfer / received' },
    compute: (m) => ratio(m.transfers, m.segments),
  },
  {
    id: 'offline_conversations',
    zh: '离线消息会话数',
    en: 'Offline-started conversations',
    group: 'workload',
    unit: 'count',
    direction: 'neutral',
    definition: {
      zh: '第一条客户消息在工作时间之外到达的会话',
      en: 'Conversations whose first customer message arrived outside business hours',
    },
    compute: (m) => m.offline,
  },
  // ---- Speed ------------------------------------------------------------------------------
  {
    id: 'wait_avg_s',
    zh: '平均排队时长',
    en: 'Average queue time',
    group: 'speed',
    unit: 'seconds',
    direction: 'lower',
    businessHours: true,
    definition: {
      zh: '第一条客户消息 → 首次分配给人工客服(平台不报告排队时为 0),秒',
      en: 'First customer message → first assignment to a human (0 when the platform reports no queue), seconds',
    },
    compute: (m) => ratio(m.waitSum, m.waitN),
  },
  ...durationTriple('frt', '首次响应时长', 'First response time', {
    zh: '首个人工接待段:max(第一条客户消息, 分配时间) → 该客服第一条消息,记在该客服名下;机器人先答再转人工时从转人工算起',
    en: "First human segment: max(first customer message, assignment) → that agent's first message, credited to that agent; after a bot handoff, from the handoff",
  }),
  {
    id: 'customer_frt_avg_s',
    zh: '客户视角首响',
    en: 'Customer-view first response',
    group: 'speed',
    unit: 'seconds',
    direction: 'lower',
    businessHours: true,
    definition: {
      zh: '第一条客户消息 → 第一条人工客服消息(= 排队 + 首响),平均',
      en: 'First customer message → first human agent message (= queue + first response), average',
    },
    compute: (m) => ratio(m.customerFrtSum, m.customerFrtN),
  },
  ...durationTriple('art', '平均响应时长', 'Response time', {
    zh: '所有响应区间合并计算:一串连续的客户消息 → 下一条人工客服消息,记在回复的客服名下',
    en: 'Pooled over all response intervals: a run of consecutive customer messages → the next human agent message, credited to the agent who answers',
  }),
  {
    id: 'frt_timeout_rate',
    zh: '首响超时率',
    en: 'First-response timeout rate',
    group: 'speed',
    unit: 'rate',
    direction: 'lower',
    businessHours: true,
    definition: {
      zh: '首响时长 > thresholds.firstResponse(默认 45 秒)的会话 / 有人工回复的会话',
      en: 'Conversations with frt_s > thresholds.firstResponse (default 45 s) / conversations with a human reply',
    },
    compute: (m) => ratio(m.frtTimeouts, m.frtN),
  },
  {
    id: 'response_timeout_rate',
    zh: '响应超时率',
    en: 'Response timeout rate',
    group: 'speed',
    unit: 'rate',
    direction: 'lower',
    businessHours: true,
    definition: {
      zh: '> thresholds.response(默认 120 秒)的响应区间 / 全部响应区间',
      en: 'Response intervals > thresholds.response (default 120 s) / all response intervals',
    },
    compute: (m) => ratio(m.artTimeouts, m.artN),
  },
  ...durationTriple('handle', '平均处理时长', 'Handle time (AHT)', {
    zh: '每个有效接待段:开始 → 结束(转接、关闭或最后一条消息)',
    en: 'Per valid segment: start → end (transfer, close, or last message)',
  }),
  {
    id: 'concurrency_max',
    zh: '最大并发会话数',
    en: 'Max concurrent conversations',
    group: 'speed',
    unit: 'count',
    direction: 'neutral',
    definition: { zh: '同一时刻打开的接待段数的最大值', en: 'Most segments open at once' },
    compute: (m) => m.concurrencyMax,
  },
  {
    id: 'concurrency_avg',
    zh: '平均并发会话数',
    en: 'Average concurrency',
    group: 'speed',
    unit: 'count',
    direction: 'neutral',
    definition: {
      zh: '至少有一个接待段打开时,打开接待段数的时间加权平均',
      en: 'Time-weighted average of open segments while at least one is open',
    },
    compute: (m) =>
      m.concurrencyBusy > 0 ? m.concurrencyArea / m.concurrencyBusy : m.concurrencyMax ? 1 : null,
  },
  {
    id: 'bot_handoff_rate',
    zh: '机器人转人工率',
    en: 'Bot handoff rate',
    group: 'speed',
    unit: 'rate',
    direction: 'neutral',
    definition: {
      zh: '机器人先回复、之后由人工接待的会话 / 机器人回复过的会话',
      en: 'Conversations a bot answered first and then handed to a human / conversations a bot answered',
    },
    compute: (m) => ratio(m.botHandoffs, m.botAnswered),
  },
  // ---- Outcome ----------------------------------------------------------------------------
  {
    id: 'resolved',
    zh: '已解决',
    en: 'Resolved',
    group: 'outcome',
    unit: 'count',
    direction: 'higher',
    definition: {
      zh: '按 resolution.rule 判定的已解决会话;默认:会话已关闭且评分 ≥ 3',
      en: 'Conversations resolved by resolution.rule; default: closed and rated ≥ 3',
    },
    compute: (m) => m.resolved,
  },
  {
    id: 'resolution_rate',
    zh: '解决率',
    en: 'Resolution rate',
    group: 'outcome',
    unit: 'rate',
    direction: 'higher',
    definition: {
      zh: '已解决 / 有效会话(有人工回复的会话,归属最后处理的客服;按 resolution.unrated 调整分母)',
      en: 'resolved / valid conversations (with a human reply, credited to the last handler; denominator adjusted by resolution.unrated)',
    },
    compute: (m) => ratio(m.resolved, m.resolutionBase),
  },
  {
    id: 'fcr_rate',
    zh: '一次解决率',
    en: 'First-contact resolution',
    group: 'outcome',
    unit: 'rate',
    direction: 'higher',
    definition: {
      zh: '已解决、只有一个人工接待段、且同一客户在 fcr.windowDays(默认 7 天)内没有任何渠道的新会话 / 有效会话',
      en: 'Resolved conversations with one human segment and no new conversation from the customer on any channel within fcr.windowDays (7) / valid conversations',
    },
    compute: (m) => ratio(m.fcr, m.validConversations),
  },
  {
    id: 'csat_avg',
    zh: '平均满意度',
    en: 'CSAT (average)',
    group: 'outcome',
    unit: 'rating',
    direction: 'higher',
    definition: {
      zh: '评分均值(1–5 分制;好/差 → 5/1,满意/一般/不满意 → 5/3/1,10 分制 ÷ 2),记在最后一个人工接待段的客服名下',
      en: "Mean rating on 1–5 (good/bad → 5/1; 满意/一般/不满意 → 5/3/1; 10-point ÷ 2), credited to the last human segment's agent",
    },
    compute: (m) => ratio(m.ratingSum, m.rated),
  },
  {
    id: 'csat_pct',
    zh: '满意率',
    en: 'CSAT (% satisfied)',
    group: 'outcome',
    unit: 'rate',
    direction: 'higher',
    definition: { zh: '4 或 5 分的评价 / 全部评价', en: 'Ratings of 4 or 5 / ratings' },
    compute: (m) => ratio(m.ratingGood, m.rated),
  },
  {
    id: 'rating_rate',
    zh: '参评率',
    en: 'Rating rate',
    group: 'outcome',
    unit: 'rate',
    direction: 'higher',
    definition: { zh: '有评价的有效会话 / 有效会话', en: 'Rated valid conversations / valid conversations' },
    compute: (m) => ratio(m.ratedValid, m.validConversations),
  },
  {
    id: 'conversion_rate',
    zh: '转化率',
    en: 'Conversion rate',
    group: 'outcome',
    unit: 'rate',
    direction: 'higher',
    definition: {
      zh: '同一客户在 conversion.windowDays(默认 7 天)内下单的有效会话 / 有效会话;订单记给下单前最后服务该客户的人工客服',
      en: 'Valid conversations followed by an order from the customer within conversion.windowDays (7) / valid conversations; the order is credited to the last human agent who served the customer before it',
    },
    compute: (m) => ratio(m.converted, m.validConversations),
  },
  {
    id: 'inquiry_rate',
    zh: '咨询转询盘率',
    en: 'Inquiry rate',
    group: 'outcome',
    unit: 'rate',
    direction: 'higher',
    definition: {
      zh: '同上,以询盘(留资)代替订单',
      en: 'As conversion, with inquiries (lead forms) instead of orders',
    },
    compute: (m) => ratio(m.inquired, m.validConversations),
  },
  {
    id: 'order_amount',
    zh: '成交金额',
    en: 'Order amount',
    group: 'outcome',
    unit: 'amount',
    direction: 'higher',
    definition: { zh: '记到该客服名下的订单金额之和', en: "Sum of the credited orders' amounts" },
    compute: (m) => m.orderAmount,
  },
  // ---- Tickets ----------------------------------------------------------------------------
  {
    id: 'ticket_count',
    zh: '工单数',
    en: 'Tickets',
    group: 'tickets',
    unit: 'count',
    direction: 'neutral',
    definition: { zh: '创建的工单数', en: 'Tickets created' },
    compute: (m) => m.tickets,
  },
  {
    id: 'ticket_resolve_avg_s',
    zh: '工单平均解决时长',
    en: 'Ticket resolution time',
    group: 'tickets',
    unit: 'seconds',
    direction: 'lower',
    definition: { zh: '工单创建 → 解决,平均', en: 'Created → resolved, average' },
    compute: (m) => ratio(m.ticketResolveSum, m.ticketResolvedN),
  },
  {
    id: 'ticket_overdue_rate',
    zh: '工单超时率',
    en: 'Ticket overdue rate',
    group: 'tickets',
    unit: 'rate',
    direction: 'lower',
    definition: {
      zh: '超过截止时间才解决或超期仍未解决的工单 / 有截止时间的工单',
      en: 'Tickets resolved after due, or still open past due / tickets with a due time',
    },
    compute: (m) => ratio(m.ticketOverdue, m.ticketWithDue),
  },
  {
    id: 'ticket_repeat_rate',
    zh: '工单重复率',
    en: 'Ticket repeat rate',
    group: 'tickets',
    unit: 'rate',
    direction: 'lower',
    definition: {
      zh: '同一客户同一分类在 7 天内再次提交的工单 / 工单数',
      en: 'Tickets from the same customer and category within 7 days of a previous one / tickets',
    },
    compute: (m) => ratio(m.ticketRepeats, m.tickets),
  },
  {
    id: 'escalation_rate',
    zh: '升级率',
    en: 'Escalation rate',
    group: 'tickets',
    unit: 'rate',
    direction: 'lower',
    definition: { zh: '被升级的工单 / 工单数', en: 'Escalated tickets / tickets' },
    compute: (m) => ratio(m.ticketEscalated, m.tickets),
  },
  // ---- Quality: need text analytics and QA, which are not collected yet ---------------------
  {
    id: 'sentiment_avg',
    zh: '情感值',
    en: 'Sentiment',
    group: 'quality',
    unit: 'score',
    direction: 'higher',
    definition: {
      zh: '每个会话客户情感值([-1, 1])的均值',
      en: 'Mean per-conversation customer sentiment in [-1, 1]',
    },
  },
  {
    id: 'sentiment_sd',
    zh: '情感波动',
    en: 'Sentiment volatility',
    group: 'quality',
    unit: 'score',
    direction: 'lower',
    definition: { zh: '每个会话客户情感值的标准差', en: 'Standard deviation of per-conversation sentiment' },
  },
  {
    id: 'compliance_rate',
    zh: '合规话术执行率',
    en: 'Compliance rate',
    group: 'quality',
    unit: 'rate',
    direction: 'higher',
    definition: {
      zh: '客服消息包含规则要求的全部话术(如“投资有风险”)的适用会话 / 适用会话',
      en: 'In-scope conversations whose agent messages contain every required phrase / in-scope conversations',
    },
  },
  {
    id: 'qa_score',
    zh: '质检得分',
    en: 'QA score',
    group: 'quality',
    unit: 'score',
    direction: 'higher',
    definition: { zh: '被质检会话的平均得分', en: 'Mean score of reviewed conversations' },
  },
];

function durationTriple(
  stem: 'frt' | 'art' | 'handle',
  zh: string,
  en: string,
  definition: MetricDef['definition'],
): MetricDef[] {
  const values = { frt: 'frtValues', art: 'artValues', handle: 'handleValues' } as const;
  const sum = { frt: 'frtSum', art: 'artSum', handle: 'handleSum' } as const;
  const n = { frt: 'frtN', art: 'artN', handle: 'handleN' } as const;
  const common = { group: 'speed', unit: 'seconds', direction: 'lower', businessHours: true } as const;
  return [
    {
      id: `${stem}_avg_s`,
      zh,
      en: `${en} (average)`,
      ...common,
      definition,
      compute: (m) => ratio(m[sum[stem]], m[n[stem]]),
    },
    {
      id: `${stem}_median_s`,
      zh: `${zh}中位数`,
      en: `${en} (median)`,
      ...common,
      definition: { zh: `${definition.zh};中位数`, en: `${definition.en}; median` },
      // A report's measure lists are its own: selecting in place spares copying millions of values.
      compute: (m) => quantile(m[values[stem]], 0.5, true),
    },
    {
      id: `${stem}_p90_s`,
      zh: `${zh} P90`,
      en: `${en} (90th percentile)`,
      ...common,
      definition: { zh: `${definition.zh};第 90 百分位`, en: `${definition.en}; 90th percentile` },
      compute: (m) => quantile(m[values[stem]], 0.9, true),
    },
  ];
}

/**
 * Quantile with linear interpolation between closest ranks (Excel's PERCENTILE.INC, numpy's
 * default): the median of [1,2,3,4] is 2.5. The values need not be sorted: two order statistics
 * are selected in linear time, which keeps a median over millions of response times cheap.
 */
export function quantile(values: ArrayLike<number>, q: number, reorder = false): number | null {
  const n = values.length;
  if (n === 0) return null;
  // `reorder`: the caller owns the list and does not mind its order changing (saves a copy).
  const a = reorder && values instanceof Float64Array ? values : Float64Array.from(values);
  const pos = (n - 1) * q;
  const lo = Math.floor(pos);
  const low = select(a, lo);
  if (pos === lo) return low;
  // After selecting rank lo, every later element is ≥ it: rank lo+1 is their minimum.
  let high = Number.POSITIVE_INFINITY;
  for (let i = lo + 1; i < n; i++) if (a[i]! < high) high = a[i]!;
  return low + (high - low) * (pos - lo);
}

/** The k-th smallest value (0-based) by quickselect, partially reordering `a`. */
function select(a: Float64Array, k: number): number {
  let left = 0;
  let right = a.length - 1;
  while (right > left) {
    const mid = (left + right) >>> 1;
    // Median of three as the pivot: sorted or constant input stays linear.
    const x = a[left]!;
    const y = a[mid]!;
    const z = a[right]!;
    const pivot = Math.max(Math.min(x, y), Math.min(Math.max(x, y), z));
    let i = left;
    let j = right;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else return a[k]!;
  }
  return a[k]!;
}

const byId = new Map(METRICS.map((m) => [m.id, m]));

export function metricById(id: string): MetricDef | undefined {
  return byId.get(id);
}

/** Resolve a metric by id or by its Chinese or English name (what formulas and users write). */
export function resolveMetric(name: string): MetricDef | undefined {
  const n = name.trim();
  return byId.get(n) ?? METRICS.find((m) => m.zh === n || m.en.toLowerCase() === n.toLowerCase());
}

/** The metrics a default report shows, in order. */
export const DEFAULT_REPORT_METRICS = [
  'conversations',
  'received',
  'valid',
  'effective_rate',
  'missed',
  'frt_avg_s',
  'frt_median_s',
  'frt_p90_s',
  'art_avg_s',
  'frt_timeout_rate',
  'handle_avg_s',
  'resolution_rate',
  'csat_avg',
  'rating_rate',
  'conversion_rate',
];
