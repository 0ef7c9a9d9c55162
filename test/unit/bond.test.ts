/**
 * Bond ports in the daemon: checking a bond config (bond.ts), its place in
 * the state file, and reconciliation (a bond made otherwise is made anew).
 */
import { describe, expect, it } from 'vitest';
import type { BondDesc, PortDesc } from '../../src/mgmt/addon-types';
import { BondError, bondDevargs, checkBond, checkBondDevargs, sameBond } from '../../src/mgmt/bond';
import { planPorts } from '../../src/mgmt/reconcile';
import { deserializeState, serializeState, type PortConfig } from '../../src/mgmt/state';

const A = 'net_af_packet0,iface=a';
const B = 'net_af_packet1,iface=b';

const problem = (v: unknown) => {
  try {
    checkBond(v);
  } catch (e) {
    if (e instanceof BondError) return `${e.field}: ${e.problem}`;
    throw e;
  }
  return 'accepted';
};

function desc(bond: BondDesc | undefined): PortDesc {
  return { id: 3, dpdkPort: 2, name: 'bond0', driver: 'net_bonding', devargs: 'net_bonding_bond0', mtu: 1500, adminUp: true, linkUp: true, linkSpeed: 0, mac: '02:00:00:00:00:01', nRxq: 1, nTxq: 1, bond };
}

const member = (devargs: string) => ({ devargs, dpdkPort: 1, linkUp: true, active: true, rxPackets: 0n, txPackets: 0n });

describe('bond configs', () => {
  it('canonical form: l2 unless a policy is given, no empty primary', () => {
    expect(checkBond({ mode: 'active-backup', members: [A, ` ${B} `], primary: '' })).toEqual({ mode: 'active-backup', members: [A, B], xmitPolicy: 'l2' });
    expect(checkBond({ mode: 'balance-xor', members: [A, B], xmitPolicy: 'l34', primary: 'net_af_packet1' })).toEqual({
      mode: 'balance-xor',
      members: [A, B],
      xmitPolicy: 'l34',
      primary: 'net_af_packet1',
    });
  });

  it('names the field at fault', () => {
    expect(problem({ mode: '802.3ad', members: [A] })).toBe("bond.mode: '802.3ad' is not a bond mode: round-robin, active-backup, balance-xor, broadcast");
    expect(problem({ mode: 'balance-xor', members: [A], xmitPolicy: 'l4' })).toBe("bond.xmitPolicy: 'l4' is not a transmit hash policy: l2, l23, l34");
    expect(problem({ mode: 'active-backup', members: [] })).toMatch(/^bond\.members: a bond needs 1 to 8 members/);
    expect(problem({ mode: 'active-backup', members: Array(9).fill(A) })).toMatch(/^bond\.members: a bond needs 1 to 8/);
    expect(problem({ mode: 'active-backup', members: [A, 'net_af_packet0,iface=c'] })).toBe("bond.members[1]: device 'net_af_packet0' is also members[0]");
    expect(problem({ mode: 'active-backup', members: [A, ''] })).toMatch(/^bond\.members\[1\]: '' is not valid devargs/);
    expect(problem({ mode: 'active-backup', members: [A], primary: 'net_af_packet9' })).toBe("bond.primary: 'net_af_packet9' is not the device name of a member (net_af_packet0)");
    expect(problem('active-backup')).toBe('bond: expected an object');
  });

  it('the bonding device is named for the port unless given', () => {
    expect(bondDevargs('uplink.1-a')).toBe('net_bonding_uplink_1_a');
    expect(() => checkBondDevargs('net_bonding_x')).not.toThrow();
    expect(() => checkBondDevargs('net_bonding0,mode=1')).toThrow(/not a bonding device name/);
    expect(() => checkBondDevargs('net_tap0')).toThrow(/not a bonding device name/);
  });
});

describe('bonds in the state file and in reconciliation', () => {
  const cfg: PortConfig = { name: 'bond0', devargs: 'net_bonding_bond0', id: 3, adminUp: true, bond: { mode: 'balance-xor', members: [A, B], xmitPolicy: 'l34' } };

  it('a bond port persists with its bond, and a bad one in the file is named', () => {
    const text = serializeState({ ports: [cfg], tables: [], flows: [] });
    expect(deserializeState(text, 'state.json').ports).toEqual([cfg]);
    const bad = text.replace('"balance-xor"', '"xor"');
    expect(() => deserializeState(bad, 'state.json')).toThrow(/ports\[0\]\.bond\.mode/);
  });

  it('the same bond is kept; other members, mode or policy make it anew', () => {
    const same: BondDesc = { mode: 'balance-xor', xmitPolicy: 'l34', primary: '', members: [member(A), member(B)] };
    expect(sameBond(cfg.bond, same)).toBe(true);
    expect(planPorts([cfg], [desc(same)])).toEqual({ portDeletes: [], portAdds: [], portMods: [], portUps: [] });

    for (const other of [
      { ...same, xmitPolicy: 'l2' as const },
      { ...same, mode: 'active-backup' as const },
      { ...same, members: [member(A)] },
      { ...same, members: [member(B), member(A)] },
      undefined,
    ]) {
      const plan = planPorts([cfg], [desc(other)]);
      expect(plan.portDeletes).toEqual([3]);
      expect(plan.portAdds).toEqual([{ name: 'bond0', devargs: 'net_bonding_bond0', id: 3, adminUp: false, bond: cfg.bond }]);
    }
  });
});
