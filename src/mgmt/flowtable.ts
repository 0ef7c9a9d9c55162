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

/** What a batch did to a FlowSet: entries added or replaced (their new form) and entries removed. */
export interface FlowChange {
  put: FlowMod[];
  del: FlowMod[];
}

/**
 * The desired flows, by identity (table, priority, match). Adds and strict
 * modifies and deletes cost one map operation each, so a change costs what
 * the batch holds, not what the switch holds; non-strict modifies and
 * deletes visit every entry, as they must.
 */
export class FlowSet {
  private readonly map = new Map<string, FlowMod>();
  private listed: FlowMod[] | null = null;

  constructor(flows: Iterable<FlowMod> = []) {
    for (const f of flows) this.map.set(flowKey(f), f);
  }

  get size(): number {
    return this.map.size;
  }

  /** Every entry, in insertion order (the array is shared until the next change). */
  list(): readonly FlowMod[] {
    if (!this.listed) this.listed = [...this.map.values()];
    return this.listed;
  }

  /** Every entry by its key (read only). */
  byKey(): ReadonlyMap<string, FlowMod> {
    return this.map;
  }

  get(key: string): FlowMod | undefined {
    return this.map.get(key);
  }

  /**
   * Applies a batch in order. Returns the number of entries changed, the net
   * change, undo(), which puts every touched entry back as it was, and
   * inverse, the flow-mods that do the same to a data plane.
   */
  apply(mods: readonly FlowMod[], keys?: readonly string[]): { changed: number; change: FlowChange; undo: () => void; inverse: () => FlowMod[] } {
    const before = new Map<string, FlowMod | undefined>();
    const touch = (k: string) => {
      if (!before.has(k)) before.set(k, this.map.get(k));
    };
    let changed = 0;
    for (let i = 0; i < mods.length; i++) {
      const mod = mods[i];
      switch (mod.command) {
        case 'add': {
          const k = keys ? keys[i] : flowKey(mod);
          touch(k);
          this.map.set(k, asEntry(mod));
          changed++;
          break;
        }
        case 'modify':
        case 'modify_strict':
          for (const [k, e] of this.selected(mod, keys?.[i])) {
            touch(k);
            this.map.set(k, { ...e, actions: mod.actions });
            changed++;
          }
          break;
        case 'delete':
        case 'delete_strict':
          for (const [k] of this.selected(mod, keys?.[i])) {
            touch(k);
            this.map.delete(k);
            changed++;
          }
          break;
      }
    }
    if (before.size) this.listed = null;
    const change: FlowChange = { put: [], del: [] };
    for (const [k, old] of before) {
      const now = this.map.get(k);
      if (now) {
        if (now !== old) change.put.push(now);
      } else if (old) change.del.push(old);
    }
    const undo = () => {
      for (const [k, old] of before) {
        if (old) this.map.set(k, old);
        else this.map.delete(k);
      }
      this.listed = null;
    };
    const inverse = () => {
      const out: FlowMod[] = [];
      for (const [k, old] of before) {
        if (old) out.push(old);
        else {
          const now = this.map.get(k);
          if (now) out.push({ command: 'delete_strict', table: now.table, priority: now.priority, match: now.match, actions: [] });
        }
      }
      return out;
    };
    return { changed, change, undo, inverse };
  }

  /** The entries a modify or delete selects (a strict one looks up its one key). */
  private selected(mod: FlowMod, key?: string): [string, FlowMod][] {
    const strict = mod.command === 'modify_strict' || mod.command === 'delete_strict';
    if (strict && mod.table !== TABLE_ALL) {
      const k = key ?? flowKey(mod);
      const e = this.map.get(k);
      return e && selects(mod, e) ? [[k, e]] : [];
    }
    const out: [string, FlowMod][] = [];
    for (const [k, e] of this.map) if (selects(mod, e)) out.push([k, e]);
    return out;
  }
}

/** Applies a batch to a list of entries; returns the new list and the number of entries changed. */
export function applyFlowMods(flows: readonly FlowMod[], mods: readonly FlowMod[]): { flows: FlowMod[]; changed: number } {
  const set = new FlowSet(flows);
  const { changed } = set.apply(mods);
  return { flows: [...set.list()], changed };
}
