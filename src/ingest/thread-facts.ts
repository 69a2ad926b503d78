/**
 * From the events of whole threads to their facts, before the customer pass: the part of a
 * refresh that needs no database, shared by the main thread (pipeline.ts) and the import worker
 * (import-worker.ts), so both compute exactly the same facts.
 */
import type { CanonicalEvent } from '../model/events.ts';
import type { Settings } from '../model/settings.ts';
import { BusinessCalendar } from './business-hours.ts';
import type { Identities } from './identities.ts';
import {
  buildThreadFacts,
  emptyThreadFacts,
  greetingMatcher,
  type SessionContext,
  type ThreadFacts,
} from './sessionise.ts';

export type FactsContext = SessionContext & { identities: Identities };

export function contextFor(settings: Settings, identities: Identities): FactsContext {
  const org = new BusinessCalendar(settings.businessHours, settings.timezone);
  const byGroup = new Map<string, BusinessCalendar>();
  for (const [group, hours] of Object.entries(settings.groupBusinessHours))
    byGroup.set(group, new BusinessCalendar(hours, settings.timezone));
  return {
    identities,
    settings,
    greeting: greetingMatcher(settings.filters.greetingPatterns),
    agentFor: (channel, account) => identities.agentFor(channel, account),
    calendarFor: (agentId) => {
      if (agentId === null || byGroup.size === 0) return org;
      const group = identities.agents.get(agentId)?.group;
      return (group && byGroup.get(group)) || org;
    },
  };
}

/** Append `more` to `into`. */
export function addFacts(into: ThreadFacts, more: ThreadFacts): void {
  for (const r of more.conversations) into.conversations.push(r);
  for (const r of more.segments) into.segments.push(r);
  for (const r of more.responses) into.responses.push(r);
  for (const r of more.tags) into.tags.push(r);
  for (const r of more.tickets) into.tickets.push(r);
}

/**
 * What the facts computed in one context depend on besides the events: the settings and who is
 * who. Facts kept from an earlier refresh hold only while this is the same.
 */
export function contextKey(ctx: FactsContext): string {
  const { aliases, agents } = ctx.identities.snapshot();
  return JSON.stringify([ctx.settings, aliases.sort(), agents]);
}

/** The agent accounts these events name, registered with their display names before facts name them. */
export function registerAccounts(events: readonly CanonicalEvent[], ctx: FactsContext): void {
  for (const e of events) {
    if ((e.kind === 'message' && e.role === 'agent') || e.kind === 'assignment') {
      ctx.identities.agentFor(e.channel, e.account ?? '(unknown)', e.accountName);
    } else if (e.kind === 'ticket' && e.account) ctx.identities.agentFor(e.channel, e.account);
  }
}

/** The facts of each thread; accounts are registered with their display names first. */
export function factsOfThreads(byThread: Map<string, CanonicalEvent[]>, ctx: FactsContext): ThreadFacts {
  for (const events of byThread.values()) registerAccounts(events, ctx);
  const facts = emptyThreadFacts();
  for (const [thread, events] of byThread) addFacts(facts, buildThreadFacts(thread, events, ctx));
  return facts;
}
