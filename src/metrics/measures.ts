/**
 * Measures: the additive aggregates (sums, counts, sorted value lists) that the fact queries return
 * for one report row. Metrics (catalog.ts) are computed from these and only these.
 */
export interface Measures {
  // conversation facts, credited to the responsible agent (last human handler, else the assignee)
  conversations: number;
  invalid: number;
  missed: number;
  offline: number;
  validConversations: number;
  resolved: number;
  resolutionBase: number;
  fcr: number;
  rated: number;
  ratedValid: number;
  ratingSum: number;
  ratingGood: number;
  converted: number;
  inquired: number;
  orderAmount: number;
  waitSum: number;
  waitN: number;
  botAnswered: number;
  botHandoffs: number;
  // conversation facts, credited to the agent of the first human segment
  frtSum: number;
  frtN: number;
  frtTimeouts: number;
  customerFrtSum: number;
  customerFrtN: number;
  frtValues: number[];
  // segment facts
  segments: number;
  received: number;
  valid: number;
  transfers: number;
  messagesIn: number;
  messagesOut: number;
  handleSum: number;
  handleN: number;
  handleValues: number[];
  concurrencyMax: number | null;
  /** ∫ open segments dt and the time with ≥1 open, in seconds: their ratio is the average. */
  concurrencyArea: number;
  concurrencyBusy: number;
  // response intervals
  artSum: number;
  artN: number;
  artTimeouts: number;
  artValues: number[];
  // tickets
  tickets: number;
  ticketResolvedN: number;
  ticketResolveSum: number;
  ticketWithDue: number;
  ticketOverdue: number;
  ticketRepeats: number;
  ticketEscalated: number;
}

export function emptyMeasures(): Measures {
  return {
    conversations: 0,
    invalid: 0,
    missed: 0,
    offline: 0,
    validConversations: 0,
    resolved: 0,
    resolutionBase: 0,
    fcr: 0,
    rated: 0,
    ratedValid: 0,
    ratingSum: 0,
    ratingGood: 0,
    converted: 0,
    inquired: 0,
    orderAmount: 0,
    waitSum: 0,
    waitN: 0,
    botAnswered: 0,
    botHandoffs: 0,
    frtSum: 0,
    frtN: 0,
    frtTimeouts: 0,
    customerFrtSum: 0,
    customerFrtN: 0,
    frtValues: [],
    segments: 0,
    received: 0,
    valid: 0,
    transfers: 0,
    messagesIn: 0,
    messagesOut: 0,
    handleSum: 0,
    handleN: 0,
    handleValues: [],
    concurrencyMax: null,
    concurrencyArea: 0,
    concurrencyBusy: 0,
    artSum: 0,
    artN: 0,
    artTimeouts: 0,
    artValues: [],
    tickets: 0,
    ticketResolvedN: 0,
    ticketResolveSum: 0,
    ticketWithDue: 0,
    ticketOverdue: 0,
    ticketRepeats: 0,
    ticketEscalated: 0,
  };
}

/**
 * Add one row's measures into another. Every fact query partitions its rows by the report key, so
 * the sum over all rows is the total: the total row costs no second query.
 */
export function addMeasures(into: Measures, from: Measures): void {
  for (const k of Object.keys(from) as (keyof Measures)[]) {
    const v = from[k];
    if (Array.isArray(v)) (into[k] as number[]) = (into[k] as number[]).concat(v);
    else if (k === 'concurrencyMax')
      into.concurrencyMax =
        v === null ? into.concurrencyMax : Math.max(into.concurrencyMax ?? 0, v as number);
    else (into[k] as number) += v as number;
  }
}

/** Ascending numeric sort through a typed array: ~10× faster than Array#sort with a comparator. */
export function sortNumeric(values: ArrayLike<number>): number[] {
  return Array.from(Float64Array.from(values).sort());
}

/** Several sorted or unsorted lists as one ascending list. */
export function mergeSorted(lists: ArrayLike<number>[]): number[] {
  let n = 0;
  for (const l of lists) n += l.length;
  const all = new Float64Array(n);
  let at = 0;
  for (const l of lists) {
    all.set(l, at);
    at += l.length;
  }
  return Array.from(all.sort());
}
