/**
 * Bond ports (link aggregation): checking a BondConfig, the bonding
 * device's default name, and whether two configs make the same bond.
 * Shared by the gRPC handlers, the desired-state file and reconciliation.
 *
 * A bond port's devargs is the name of its bonding device (DPDK's bonding
 * PMD wants names that begin with net_bonding); its members are devargs the
 * data plane probes itself and owns.
 */
import { BOND_MODES, BOND_XMIT_POLICIES, type BondConfig, type BondDesc, type BondMode, type BondXmitPolicy } from './addon-types';
import { FieldError } from './errors';

export const BOND_MEMBERS_MAX = 8; // SY_BOND_MEMBERS_MAX

/** The bonding device of port `name` unless one is given: net_bonding_<name>. */
export function bondDevargs(name: string): string {
  return `net_bonding_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/** The device name in devargs: up to the first comma. */
export function deviceOf(devargs: string): string {
  return devargs.split(',')[0].trim();
}

/** A field of a bond config that is wrong, and why. */
export class BondError extends FieldError {}

/**
 * Checks a bond config (any value: it may come from a file) and returns it
 * in canonical form (xmitPolicy l2 unless given, no empty primary). Field
 * names are relative to `where` ("bond", "ports[2].bond").
 */
export function checkBond(v: unknown, where = 'bond'): BondConfig {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BondError(where, 'expected an object');
  const o = v as Record<string, unknown>;
  if (!BOND_MODES.includes(o.mode as BondMode)) {
    throw new BondError(`${where}.mode`, `'${String(o.mode ?? '')}' is not a bond mode: ${BOND_MODES.join(', ')}`);
  }
  const xp = o.xmitPolicy ?? 'l2';
  if (!BOND_XMIT_POLICIES.includes(xp as BondXmitPolicy)) {
    throw new BondError(`${where}.xmitPolicy`, `'${String(xp)}' is not a transmit hash policy: ${BOND_XMIT_POLICIES.join(', ')}`);
  }
  if (!Array.isArray(o.members) || o.members.length === 0 || o.members.length > BOND_MEMBERS_MAX) {
    throw new BondError(`${where}.members`, `a bond needs 1 to ${BOND_MEMBERS_MAX} members (devargs of the devices to bond)`);
  }
  const members = o.members.map((m, i) => {
    if (typeof m !== 'string' || m.trim() === '' || m.length > 255 || /[\n\r\0]/.test(m)) {
      throw new BondError(`${where}.members[${i}]`, `'${String(m)}' is not valid devargs: 1 to 255 characters on one line`);
    }
    return m.trim();
  });
  const names = members.map(deviceOf);
  names.forEach((n, i) => {
    const j = names.indexOf(n);
    if (j !== i) throw new BondError(`${where}.members[${i}]`, `device '${n}' is also members[${j}]`);
  });
  const out: BondConfig = { mode: o.mode as BondMode, members, xmitPolicy: xp as BondXmitPolicy };
  if (o.primary !== undefined && o.primary !== '' && o.primary !== null) {
    if (typeof o.primary !== 'string' || !names.includes(o.primary)) {
      throw new BondError(`${where}.primary`, `'${String(o.primary)}' is not the device name of a member (${names.join(', ')})`);
    }
    out.primary = o.primary;
  }
  return out;
}

/** Checks a bond port's devargs: its bonding device's name. */
export function checkBondDevargs(devargs: string): void {
  if (!/^net_bonding[A-Za-z0-9_]*$/.test(devargs) || devargs.length > 63) {
    throw new BondError('devargs', `'${devargs}' is not a bonding device name: net_bonding followed by letters, digits or '_', at most 63 characters (DPDK's limit)`);
  }
}

/** Whether the data plane's bond (or its absence) is the one configured. */
export function sameBond(want: BondConfig | undefined, have: BondDesc | undefined): boolean {
  if (!want || !have) return !want && !have;
  return (
    want.mode === have.mode &&
    (want.xmitPolicy ?? 'l2') === have.xmitPolicy &&
    (want.primary ?? '') === have.primary &&
    want.members.length === have.members.length &&
    want.members.every((m, i) => m === have.members[i].devargs)
  );
}

/** Whether two configured bonds (or their absence) are the same bond. */
export function sameBondConfig(a: BondConfig | undefined, b: BondConfig | undefined): boolean {
  if (!a || !b) return !a && !b;
  return (
    a.mode === b.mode &&
    (a.xmitPolicy ?? 'l2') === (b.xmitPolicy ?? 'l2') &&
    (a.primary ?? '') === (b.primary ?? '') &&
    a.members.length === b.members.length &&
    a.members.every((m, i) => m === b.members[i])
  );
}

/** A bond in one line: "active-backup net_af_packet0,iface=a + net_af_packet1,iface=b". */
export function bondText(b: BondConfig): string {
  return `${b.mode}${b.xmitPolicy && b.xmitPolicy !== 'l2' ? `/${b.xmitPolicy}` : ''} ${b.members.join(' + ')}${b.primary ? ` primary=${b.primary}` : ''}`;
}

/** The state-file form of a bond. */
export function bondDoc(b: BondConfig): Record<string, unknown> {
  const o: Record<string, unknown> = { mode: b.mode, members: [...b.members] };
  if (b.xmitPolicy && b.xmitPolicy !== 'l2') o.xmitPolicy = b.xmitPolicy;
  if (b.primary) o.primary = b.primary;
  return o;
}
