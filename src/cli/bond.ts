/**
 * `switchyard port add NAME --bond MODE --member DEVARGS ...`: the bond
 * options as the gRPC BondConfig.
 */
import type { BondConfig } from '../gen/switchyard/v1/BondConfig';
import { BOND_MODES, BOND_XMIT_POLICIES } from '../mgmt/addon-types';
import { CliError } from './client';

export interface BondOptions {
  bond?: string;
  member?: string[];
  xmitPolicy?: string;
  primary?: string;
}

const wireName = (prefix: string, s: string) => prefix + s.toUpperCase().replace(/-/g, '_');

/** The BondConfig the options ask for, or undefined without --bond. */
export function bondRequest(o: BondOptions): BondConfig | undefined {
  if (o.bond === undefined) {
    if (o.member?.length || o.xmitPolicy !== undefined || o.primary !== undefined) {
      throw new CliError('--member, --xmit-policy and --primary need --bond MODE');
    }
    return undefined;
  }
  if (!(BOND_MODES as readonly string[]).includes(o.bond)) {
    throw new CliError(`--bond: '${o.bond}' is not a bond mode: ${BOND_MODES.join(', ')}`);
  }
  if (!o.member?.length) throw new CliError('--bond: a bond needs at least one --member DEVARGS');
  if (o.xmitPolicy !== undefined && !(BOND_XMIT_POLICIES as readonly string[]).includes(o.xmitPolicy)) {
    throw new CliError(`--xmit-policy: '${o.xmitPolicy}' is not one of ${BOND_XMIT_POLICIES.join(', ')}`);
  }
  return {
    mode: wireName('BOND_MODE_', o.bond) as BondConfig['mode'],
    members: o.member,
    xmitPolicy: o.xmitPolicy ? (wireName('BOND_XMIT_POLICY_', o.xmitPolicy) as BondConfig['xmitPolicy']) : 'BOND_XMIT_POLICY_UNSPECIFIED',
    primary: o.primary ?? '',
  };
}
