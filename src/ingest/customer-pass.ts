/**
 * Facts that need more than one thread: everything about "the same customer" across channels —
 * the next conversation (first-contact resolution, no_repeat), orders and inquiries credited to the
 * conversation that preceded them (conversion), repeated tickets.
 */
import type { OrderEvent } from '../model/events.ts';
import type { Settings } from '../model/settings.ts';
import type { ConversationsTable, TicketsTable } from '../store/schema.ts';
import { getOrInsert } from '../util/maps.ts';

const DAY = 86_400_000;

function groupBy<T>(rows: T[], key: (r: T) => string | null): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const r of rows) {
    const k = key(r);
    if (k === null) continue;
    getOrInsert(m, k, () => []).push(r);
  }
  return m;
}

export function applyCustomerFacts(
  conversations: ConversationsTable[],
  tickets: TicketsTable[],
  orders: OrderEvent[],
  settings: Settings,
): void {
  const byCustomer = groupBy(conversations, (c) => c.customer_id);
  for (const list of byCustomer.values()) {
    list.sort((a, b) => a.start_ts - b.start_ts || (a.id < b.id ? -1 : 1));
    let next: number | null = null;
    for (let i = list.length - 1; i >= 0; i--) {
      const c = list[i]!;
      c.next_conv_ts = next;
      c.converted = 0;
      c.inquired = 0;
      c.order_amount = 0;
      if (c.has_customer) next = c.start_ts;
    }
  }

  const window = settings.conversion.windowDays * DAY;
  for (const o of orders) {
    const list = o.customer ? byCustomer.get(o.customer.id) : undefined;
    if (!list) continue;
    // The last conversation a human served before the order, if the order came within the window.
    let credited: ConversationsTable | undefined;
    for (const c of list) {
      if (c.start_ts > o.ts) break;
      if (c.human_replied && c.has_customer) credited = c;
    }
    if (!credited || o.ts - credited.end_ts > window) continue;
    if (o.type === 'order') {
      credited.converted = 1;
      credited.order_amount += o.amount;
    } else credited.inquired = 1;
  }

  const repeatWindow = settings.tickets.repeatDays * DAY;
  const byCategory = groupBy(tickets, (t) =>
    t.customer_id ? `${t.customer_id}\u0000${t.category ?? ''}` : null,
  );
  for (const list of byCategory.values()) {
    list.sort((a, b) => a.created_ts - b.created_ts);
    list.forEach((t, i) => {
      t.repeat = i > 0 && t.created_ts - list[i - 1]!.created_ts <= repeatWindow ? 1 : 0;
    });
  }
}
