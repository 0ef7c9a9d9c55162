/**
 * Reconciliation: what to send a data plane so that it matches the desired
 * state, touching nothing that already matches (no traffic disruption).
 *
 * Used whenever the data plane (re)connects — a freshly launched one is
 * empty, so the plan is a full replay — and to undo a change whose
 * persisting failed. Pure functions: the plan is executed by switch.ts in
 * this order: table settings, meters added or changed, port deletions, port
 * additions (explicit ids, administratively down), changes of existing
 * ports, the groups (added, or modified in place: the data plane cannot list
 * a group's buckets, and a modify is hitless), the flows in one batch, groups
 * and meters no longer desired deleted (once no flow uses them), a barrier,
 * then the new ports brought up. Flows are in place before any new port
 * carries traffic, groups and meters before the flows that use them.
 */
import type { FlowMod, GroupMod, MeterDesc, PortAddRequest, PortChange, PortDesc, TableDesc, TableMiss } from './addon-types';
import { planMeters, type MeterPlan } from './meters';
import { flowKey, sameActions, sameFlow, type FlowBody } from '../flowspec';
import type { DesiredState, PortConfig, TableConfig } from './state';
import { sameBond } from './bond';
import { edgeAddRequest, edgeChange } from './edge';

/** What reconciliation reads of an entry in the data plane. */
export type ActualFlow = Pick<FlowMod, 'table' | 'priority' | 'match'> & FlowBody;

export interface ActualState {
  ports: PortDesc[];
  tables: TableDesc[];
  /** absent: a data plane without meters (nothing to compare) */
  meters?: MeterDesc[];
  /** The entries of a dump (any value forms the addon gives), or already by flowKey(). */
  flows: readonly ActualFlow[] | ReadonlyMap<string, ActualFlow>;
  /** The ids of the data plane's groups (GROUP_STATS); absent: none. */
  groups?: readonly { id: number }[];
}

export interface TableChange {
  id: number;
  name: string;
  miss: TableMiss;
  maxFlows?: number;
}

export interface ReconcilePlan {
  tableMods: TableChange[];
  /** Absent: the meters match. */
  meters?: MeterPlan;
  portDeletes: number[];
  portAdds: PortAddRequest[];
  portMods: { id: number; change: PortChange }[];
  flowMods: FlowMod[];
  /** Before the flows: every desired group, added or modified. */
  groupMods: GroupMod[];
  /** After the flows: groups the data plane has and the desired state does not. */
  groupDeletes: number[];
  /** After the flows: bring these newly added ports up. */
  portUps: number[];
  /** Keys of desired flows with timeouts that the running data plane no longer has: they expired. */
  expired: string[];
}

export function isEmptyPlan(p: ReconcilePlan): boolean {
  return (
    p.tableMods.length + (p.meters ? 1 : 0) + p.portDeletes.length + p.portAdds.length + p.portMods.length + p.flowMods.length + p.portUps.length + p.expired.length +
      (p.groupMods?.length ?? 0) + (p.groupDeletes?.length ?? 0) === 0
  );
}

export function planTables(desired: readonly TableConfig[], actual: readonly TableDesc[]): TableChange[] {
  const out: TableChange[] = [];
  const want = new Map(desired.map((t) => [t.id, t]));
  for (const t of actual) {
    if (want.has(t.id)) continue;
    if (t.name !== '' || t.miss !== 'drop' || t.maxFlows !== 0) out.push({ id: t.id, name: '', miss: 'drop', maxFlows: 0 });
  }
  const have = new Map(actual.map((t) => [t.id, t]));
  for (const d of desired) {
    const a = have.get(d.id);
    const same =
      a !== undefined &&
      a.name === d.name &&
      a.miss === d.miss &&
      (d.maxFlows === undefined ? true : a.maxFlows === d.maxFlows);
    if (same) continue;
    if (!a && d.name === '' && d.miss === 'drop' && !d.maxFlows) continue; // default settings
    const c: TableChange = { id: d.id, name: d.name, miss: d.miss };
    if (d.maxFlows !== undefined) c.maxFlows = d.maxFlows;
    out.push(c);
  }
  return out;
}

export function planPorts(desired: readonly PortConfig[], actual: readonly PortDesc[]): Pick<ReconcilePlan, 'portDeletes' | 'portAdds' | 'portMods' | 'portUps'> {
  const plan: Pick<ReconcilePlan, 'portDeletes' | 'portAdds' | 'portMods' | 'portUps'> = { portDeletes: [], portAdds: [], portMods: [], portUps: [] };
  const want = new Map(desired.map((p) => [p.name, p]));
  const keep = new Set<string>();
  for (const a of actual) {
    const d = want.get(a.name);
    // A bond with other members, mode or policy is made anew.
    if (!d || d.id !== a.id || d.devargs.trim() !== a.devargs.trim() || !sameBond(d.bond, a.bond)) {
      plan.portDeletes.push(a.id);
      continue;
    }
    keep.add(a.name);
    // the VLAN mode and NSH tag as configured (absent: none)
    const change: PortChange = edgeChange(a, d);
    if (d.mtu !== undefined && d.mtu !== a.mtu) change.mtu = d.mtu;
    // Unset: the device's default (1; every qpair of net_af_packet).
    if (d.nRxq !== undefined && d.nRxq !== a.nRxq) change.nRxq = d.nRxq;
    if (d.adminUp !== a.adminUp) change.adminUp = d.adminUp;
    if (Object.keys(change).length) plan.portMods.push({ id: a.id, change });
  }
  for (const d of desired) {
    if (keep.has(d.name)) continue;
    const req: PortAddRequest = { name: d.name, devargs: d.devargs, id: d.id, adminUp: false };
    if (d.mtu !== undefined) req.mtu = d.mtu;
    if (d.nRxq !== undefined) req.nRxq = d.nRxq;
    if (d.bond) req.bond = d.bond;
    Object.assign(req, edgeAddRequest(d));
    plan.portAdds.push(req);
    if (d.adminUp) plan.portUps.push(d.id);
  }
  return plan;
}

function isKeyed(a: readonly ActualFlow[] | ReadonlyMap<string, ActualFlow>): a is ReadonlyMap<string, ActualFlow> {
  return a instanceof Map;
}

/**
 * The flow-mods that turn `actual` into `desired`: strict deletes of extra
 * entries, strict modifies where only the actions differ, adds of missing or
 * otherwise different entries (an add replaces). Entries that match are not
 * touched. With `expireTimed`, desired entries with a timeout that `actual`
 * lacks are reported as expired instead of added back.
 */
export function diffFlows(
  desired: readonly FlowMod[] | ReadonlyMap<string, FlowMod>,
  actual: readonly ActualFlow[] | ReadonlyMap<string, ActualFlow>,
  expireTimed = false,
): { mods: FlowMod[]; expired: string[] } {
  const have: ReadonlyMap<string, ActualFlow> = isKeyed(actual) ? actual : new Map(actual.map((f) => [flowKey(f), f]));
  const want = new Set<string>();
  const deletes: FlowMod[] = [];
  const modifies: FlowMod[] = [];
  const adds: FlowMod[] = [];
  const expired: string[] = [];
  const wanted = desired instanceof Map ? desired.entries() : (desired as readonly FlowMod[]).map((d): [string, FlowMod] => [flowKey(d), d]);
  for (const [k, d] of wanted) {
    want.add(k);
    const a = have.get(k);
    if (!a) {
      if (expireTimed && (d.idleTimeout || d.hardTimeout)) expired.push(k);
      else adds.push({ ...d, command: 'add' });
      continue;
    }
    if (sameFlow(d, a)) continue;
    const onlyActions = sameFlow({ ...d, actions: a.actions }, a) && !sameActions(d.actions, a.actions);
    if (onlyActions) {
      modifies.push({ command: 'modify_strict', table: d.table, priority: d.priority, match: d.match, actions: d.actions });
    } else adds.push({ ...d, command: 'add' });
  }
  for (const [k, a] of have) {
    if (want.has(k)) continue;
    deletes.push({ command: 'delete_strict', table: a.table, priority: a.priority, match: a.match, actions: [] });
  }
  return { mods: [...deletes, ...modifies, ...adds], expired };
}

/** Groups: each desired one added (or modified, if the data plane has it); extra ones deleted. */
export function planGroups(desired: DesiredState['groups'], actual: readonly { id: number }[] = []): Pick<ReconcilePlan, 'groupMods' | 'groupDeletes'> {
  const have = new Set(actual.map((g) => g.id));
  const want = new Set((desired ?? []).map((g) => g.id));
  return {
    groupMods: (desired ?? []).map((g) => ({ command: have.has(g.id) ? 'modify' : 'add', ...g })),
    groupDeletes: [...have].filter((id) => !want.has(id)),
  };
}

/** The whole plan; `fresh` says the data plane has just started empty (a full replay, nothing expires). */
export function planReconcile(
  desired: DesiredState,
  actual: ActualState,
  fresh: boolean,
  /** desired.flows by flowKey(), when the caller keeps them so */
  desiredByKey?: ReadonlyMap<string, FlowMod>,
): ReconcilePlan {
  const { mods, expired } = diffFlows(desiredByKey ?? desired.flows, actual.flows, !fresh);
  const meters = planMeters(desired.meters ?? [], actual.meters ?? []);
  return {
    tableMods: planTables(desired.tables, actual.tables),
    ...(meters.adds.length + meters.modifies.length + meters.deletes.length ? { meters } : {}),
    ...planPorts(desired.ports, actual.ports),
    flowMods: mods,
    ...planGroups(desired.groups, actual.groups),
    expired,
  };
}
