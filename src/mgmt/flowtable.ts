/**
 * The flow-mod semantics of the data plane, applied to the desired state's
 * flows: add replaces an entry of the same table, priority and match; modify
 * gives new actions to every entry the match covers (OpenFlow's non-strict
 * rule) or, strict, to the entry of exactly that match and priority; delete
 * likewise removes. Cookie masks, out_port and "every table" (255) filter as
 * in OpenFlow.
 *
 * The daemon applies a batch to the data plane first and, once accepted, to
 * the desired state with applyFlowMods; the data plane's count of changed
 * entries is checked against this prediction.
 */
import type { FlowMod } from './addon-types';
import { PORT_ANY, TABLE_ALL } from './addon-types';
import { bitsCover, bitsKey, flowKey, matchToBits, MatchBits } from '../flowspec';

const bitsCache = new WeakMap<object, MatchBits>();

function bitsOf(f: FlowMod): MatchBits {
  let b = bitsCache.get(f.match);
  if (!b) {
    b = matchToBits(f.match);
    bitsCache.set(f.match, b);
  }
  return b;
}

/** Whether a modify or delete mod selects an existing entry. */
export function selects(mod: FlowMod, entry: FlowMod): boolean {
  if (mod.table !== TABLE_ALL && mod.table !== entry.table) return false;
  const strict = mod.command === 'modify_strict' || mod.command === 'delete_strict';
  if (strict) {
    if (mod.priority !== entry.priority) return false;
    if (bitsKey(bitsOf(mod)) !== bitsKey(bitsOf(entry))) return false;
  } else if (!bitsCover(bitsOf(mod), bitsOf(entry))) return false;
  if (mod.cookieMask !== undefined && mod.cookieMask !== 0n) {
    const m = mod.cookieMask;
    if (((entry.cookie ?? 0n) & m) !== ((mod.cookie ?? 0n) & m)) return false;
  }
  if (mod.outPort !== undefined && mod.outPort !== PORT_ANY) {
    if (!entry.actions.some((a) => a.type === 'output' && a.port === mod.outPort)) return false;
  }
  return true;
}

/** The stored form of an add: command add, no filter fields. */
export function asEntry(mod: FlowMod): FlowMod {
  return {
    command: 'add',
    table: mod.table,
    priority: mod.priority,
    match: mod.match,
    actions: mod.actions,
    cookie: mod.cookie ?? 0n,
    idleTimeout: mod.idleTimeout ?? 0,
    hardTimeout: mod.hardTimeout ?? 0,
    flags: mod.flags ?? 0,
  };
}

/** Applies a batch to a list of entries; returns the new list and the number of entries changed. */
export function applyFlowMods(flows: readonly FlowMod[], mods: readonly FlowMod[]): { flows: FlowMod[]; changed: number } {
  const table = new Map<string, FlowMod>();
  for (const f of flows) table.set(flowKey(f), f);
  let changed = 0;
  for (const mod of mods) {
    switch (mod.command) {
      case 'add':
        table.set(flowKey(mod), asEntry(mod));
        changed++;
        break;
      case 'modify':
      case 'modify_strict':
        for (const [k, e] of table) {
          if (!selects(mod, e)) continue;
          table.set(k, { ...e, actions: mod.actions });
          changed++;
        }
        break;
      case 'delete':
      case 'delete_strict':
        for (const [k, e] of table) {
          if (!selects(mod, e)) continue;
          table.delete(k);
          changed++;
        }
        break;
    }
  }
  return { flows: [...table.values()], changed };
}
