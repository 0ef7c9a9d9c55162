/**
 * Port edge settings (edge.ts and the CLI's options): VID lists, VLAN modes
 * and NSH tags checked with errors that name the field; their text and
 * stored forms; the state file, config documents and reconciliation carry
 * them; the CLI turns its options into the gRPC messages.
 */
import { describe, expect, it } from 'vitest';
import { nshTagRequest, nshTagShown, vlanRequest, vlanShown } from '../../src/cli/edge';
import { exportConfig, parseConfig } from '../../src/mgmt/config';
import { checkNshTag, checkVlan, edgeChange, formatVids, nshTagText, parseNshTagSpec, parseVids, vlanText } from '../../src/mgmt/edge';
import { planPorts } from '../../src/mgmt/reconcile';
import { deserializeState, emptyState, serializeState, type DesiredState } from '../../src/mgmt/state';
import { silentLogger } from '../../src/mgmt/log';
import { Switch } from '../../src/mgmt/switch';
import { classify } from '../../src/mgmt/errors';
import { FakeDataplane } from './fake-dataplane';
import type { PortDesc } from '../../src/mgmt/addon-types';

const thrown = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error');
};

describe('VID lists', () => {
  it('parse ranges and lists, sorted and once each; format them back', () => {
    expect(parseVids('10,20-23, 5 ,21')).toEqual([5, 10, 20, 21, 22, 23]);
    expect(parseVids('')).toEqual([]);
    expect(parseVids('all')).toEqual([]);
    expect(formatVids([5, 10, 20, 21, 22, 23])).toBe('5,10,20-23');
    expect(formatVids([])).toBe('all');
    expect(formatVids(parseVids('1-4094'))).toBe('1-4094');
  });

  it('refuse what is not a VID, naming it', () => {
    expect(thrown(() => parseVids('10,,20'))).toBe("trunks: '' in '10,,20' is not a VID or a range of VIDs (like 10,20-30)");
    expect(thrown(() => parseVids('0'))).toBe('trunks: VID 0 is out of range 1..4094 (0 is no VLAN, 4095 is reserved)');
    expect(thrown(() => parseVids('4000-4095'))).toMatch(/VID 4095 is out of range/);
    expect(thrown(() => parseVids('30-20'))).toBe('trunks: range 30-20 runs backwards');
    expect(thrown(() => parseVids('ten'))).toMatch(/'ten' in 'ten' is not a VID/);
  });
});

describe('VLAN modes', () => {
  it('canonical forms; none is no setting', () => {
    expect(checkVlan({ mode: 'access', tag: 10 })).toEqual({ mode: 'access', tag: 10 });
    expect(checkVlan({ mode: 'trunk', trunks: '20,10', native: 10 })).toEqual({ mode: 'trunk', trunks: [10, 20], native: 10 });
    expect(checkVlan({ mode: 'trunk', trunks: [30, 10, 30] })).toEqual({ mode: 'trunk', trunks: [10, 30], native: 0 });
    expect(checkVlan({ mode: 'trunk' })).toEqual({ mode: 'trunk', trunks: [], native: 0 });
    expect(checkVlan({ mode: 'none' })).toBeUndefined();
    expect(checkVlan({})).toBeUndefined();
    expect(vlanText(checkVlan({ mode: 'trunk', trunks: '10,20-30', native: 10 }))).toBe('trunk 10,20-30 native 10');
    expect(vlanText(checkVlan({ mode: 'trunk' }))).toBe('trunk all');
    expect(vlanText(undefined)).toBe('');
  });

  it('refuse settings that do not go together, naming the field', () => {
    expect(thrown(() => checkVlan({ mode: 'access' }))).toBe('vlan.tag: an access port needs its VID (tag 1..4094)');
    expect(thrown(() => checkVlan({ mode: 'access', tag: 0 }))).toMatch(/^vlan\.tag: VID 0 is out of range 1\.\.4094/);
    expect(thrown(() => checkVlan({ mode: 'access', tag: 4096 }))).toMatch(/^vlan\.tag: VID 4096 is out of range/);
    expect(thrown(() => checkVlan({ mode: 'access', tag: 10, trunks: [10] }))).toBe('vlan.trunks: an access port has no trunks (it is a trunk setting)');
    expect(thrown(() => checkVlan({ mode: 'access', tag: 10, native: 5 }))).toBe('vlan.native: an access port has no native VLAN (it is a trunk setting)');
    expect(thrown(() => checkVlan({ mode: 'trunk', tag: 5 }))).toMatch(/^vlan\.tag: a trunk port has no access tag/);
    expect(thrown(() => checkVlan({ mode: 'trunk', native: 5000 }))).toMatch(/^vlan\.native: native VLAN 5000 is out of range/);
    expect(thrown(() => checkVlan({ mode: 'trunk', trunks: [10, 0] }))).toMatch(/^vlan\.trunks\[1\]: VID 0/);
    expect(thrown(() => checkVlan({ mode: 'none', tag: 10 }))).toBe('vlan.tag: needs a VLAN mode (access or trunk)');
    expect(thrown(() => checkVlan({ mode: 'hybrid' }))).toBe("vlan.mode: 'hybrid' is not a VLAN mode: none, access or trunk");
    expect(thrown(() => checkVlan('access'))).toBe('vlan: expected an object');
  });
});

describe('NSH tags', () => {
  it('defaults si 255, ttl 63, MD type 1; the spec text both ways', () => {
    expect(checkNshTag({ spi: 0x123 })).toEqual({ spi: 0x123, si: 255, ttl: 63, mdtype: 1, context: [0, 0, 0, 0] });
    const t = parseNshTagSpec('spi=0x123, si=200,ttl=20,c2=7');
    expect(t).toEqual({ spi: 0x123, si: 200, ttl: 20, mdtype: 1, context: [0, 7, 0, 0] });
    expect(nshTagText(t)).toBe('spi=0x123,si=200,ttl=20,c1=0x0,c2=0x7,c3=0x0,c4=0x0');
    expect(parseNshTagSpec(nshTagText(t))).toEqual(t);
    expect(nshTagText(parseNshTagSpec('spi=5,mdtype=2'))).toBe('spi=0x5,si=255,ttl=63,mdtype=2');
  });

  it('refuse what is out of range or unknown, naming it', () => {
    expect(thrown(() => parseNshTagSpec('spi=0x1000000'))).toBe('nsh-tag.spi: 16777216 is out of range 0..16777215');
    expect(thrown(() => parseNshTagSpec('si=3'))).toBe('nsh-tag.spi: missing (0..16777215)');
    expect(thrown(() => parseNshTagSpec('spi=1,ttl=0'))).toBe('nsh-tag.ttl: 0 is out of range 1..63');
    expect(thrown(() => parseNshTagSpec('spi=1,ttl=64'))).toBe('nsh-tag.ttl: 64 is out of range 1..63');
    expect(thrown(() => parseNshTagSpec('spi=1,si=256'))).toBe('nsh-tag.si: 256 is out of range 0..255');
    expect(thrown(() => parseNshTagSpec('spi=1,color=3'))).toBe("nsh-tag: unknown key 'color' (spi, si, ttl, mdtype, c1..c4)");
    expect(thrown(() => parseNshTagSpec('spi=one'))).toBe("nsh-tag spi: 'one' is not a number");
    expect(thrown(() => parseNshTagSpec('spi=1,mdtype=2,c1=1'))).toBe('nsh-tag.context: context headers c1..c4 need MD type 1');
    expect(thrown(() => checkNshTag({ spi: 1, context: [1, 2, 3, 4, 5] }))).toBe('nshTag.context: expected up to 4 numbers (c1..c4)');
  });
});

describe('the CLI options', () => {
  it('become PortVlan and NshTag', () => {
    expect(vlanRequest({ vlanMode: 'access', tag: '10' })).toEqual({ mode: 'VLAN_MODE_ACCESS', tag: 10 });
    expect(vlanRequest({ vlanMode: 'trunk', trunks: '10,20-22', nativeVlan: '10' })).toEqual({ mode: 'VLAN_MODE_TRUNK', trunks: [10, 20, 21, 22], native: 10 });
    expect(vlanRequest({ vlanMode: 'none' })).toEqual({ mode: 'VLAN_MODE_NONE' });
    expect(vlanRequest({})).toBeUndefined();
    expect(nshTagRequest({ nshTag: 'spi=0x10' })).toEqual({ spi: 16, si: 255, ttl: 63, mdtype: 1, context: [0, 0, 0, 0] });
    expect(nshTagRequest({ nshTag: false })).toBeNull();
    expect(nshTagRequest({})).toBeUndefined();
  });

  it('name the option at fault', () => {
    expect(thrown(() => vlanRequest({ vlanMode: 'access', tag: '0' }))).toMatch(/^--tag: VID 0 is out of range/);
    expect(thrown(() => vlanRequest({ vlanMode: 'access', tag: 'x' }))).toBe("--tag: 'x' is not a VID (1..4094)");
    expect(thrown(() => vlanRequest({ vlanMode: 'trunk', trunks: '5-1' }))).toBe('--trunks: range 5-1 runs backwards');
    expect(thrown(() => vlanRequest({ vlanMode: 'trunk', nativeVlan: '4095' }))).toMatch(/^--native-vlan: native VLAN 4095 is out of range/);
    expect(thrown(() => vlanRequest({ vlanMode: 'bridge' }))).toMatch(/^--vlan-mode: 'bridge' is not a VLAN mode/);
    expect(thrown(() => vlanRequest({ tag: '10' }))).toBe('--tag, --trunks and --native-vlan need --vlan-mode access or trunk');
    expect(thrown(() => nshTagRequest({ nshTag: 'spi=1,ttl=99' }))).toBe('--nsh-tag.ttl: 99 is out of range 1..63');
  });

  it('show what the switch reports', () => {
    expect(vlanShown({ mode: 'VLAN_MODE_TRUNK', tag: 0, trunks: [10, 11, 12, 20], native: 10 })).toBe('trunk 10-12,20 native 10');
    expect(vlanShown({ mode: 'VLAN_MODE_ACCESS', tag: 7, trunks: [], native: 0 })).toBe('access 7');
    expect(vlanShown(null)).toBe('');
    expect(nshTagShown({ spi: 0x123, si: 255, ttl: 63, mdtype: 1, context: [0, 0, 0, 0] })).toBe('spi=0x123,si=255,ttl=63');
  });
});

function edgeState(): DesiredState {
  return {
    ...emptyState(),
    ports: [
      { name: 'a', devargs: 'net_ring0', id: 1, adminUp: true, vlan: { mode: 'access', tag: 10 } },
      { name: 't', devargs: 'net_ring1', id: 2, adminUp: true, vlan: { mode: 'trunk', trunks: [10, 20, 21], native: 10 } },
      { name: 'n', devargs: 'net_ring2', id: 3, adminUp: true, nshTag: { spi: 0x123, si: 255, ttl: 63, mdtype: 1, context: [1, 0, 0, 0] } },
    ],
  };
}

describe('stored forms', () => {
  it('the state file keeps them', () => {
    const s = edgeState();
    const text = serializeState(s);
    expect(JSON.parse(text).ports[1].vlan).toEqual({ mode: 'trunk', trunks: '10,20-21', native: 10 });
    expect(deserializeState(text, 'x').ports).toEqual(s.ports);
    expect(() => deserializeState(text.replace('"tag": 10', '"tag": 0'), 'state.json')).toThrow(/ports\[0\]\.vlan\.tag: VID 0 is out of range/);
  });

  it('config documents read and write them; an export reads back the same', () => {
    const s = edgeState();
    const yaml = exportConfig(s);
    expect(yaml).toContain('vlan:\n      mode: trunk\n      trunks: 10,20-21\n      native: 10\n');
    const doc = parseConfig(yaml, 'x.yaml');
    expect(doc.ports.map((p) => [p.vlan, p.nshTag])).toEqual(s.ports.map((p) => [p.vlan, p.nshTag]));
    expect(() => parseConfig('ports: [{name: a, devargs: net_ring0, vlan: {mode: access, tag: 9999}}]', 'c.yaml')).toThrow(
      /c\.yaml: ports\[0\]\.vlan\.tag: VID 9999 is out of range/,
    );
    expect(() => parseConfig('ports: [{name: a, devargs: net_ring0, nshTag: {si: 1}}]', 'c.yaml')).toThrow(/ports\[0\]\.nshTag\.spi: missing/);
  });
});

describe('reconciling', () => {
  const desc = (id: number, name: string, extra: Partial<PortDesc> = {}): PortDesc => ({
    id, dpdkPort: id, name, driver: 'net_ring', devargs: `net_ring${id - 1}`, mtu: 1500, adminUp: true, linkUp: true, linkSpeed: 0, mac: '', nRxq: 1, nTxq: 1, ...extra,
  });

  it('a data plane without the settings gets them; one with others gets them changed or cleared', () => {
    const s = edgeState();
    const plan = planPorts(s.ports, [
      desc(1, 'a'),
      desc(2, 't', { vlan: { mode: 'trunk', tag: 0, trunks: [10, 20, 21], native: 10 } }),
      desc(3, 'n', { vlan: { mode: 'access', tag: 5, trunks: [], native: 0 } }),
    ]);
    expect(plan.portMods).toEqual([
      { id: 1, change: { vlan: { mode: 'access', tag: 10 } } },
      { id: 3, change: { vlan: { mode: 'none' }, nshTag: s.ports[2].nshTag } },
    ]);
    expect(plan.portDeletes).toEqual([]);
    // a port the data plane lost comes back with them
    expect(planPorts(s.ports.slice(0, 2), [desc(1, 'a', { vlan: { mode: 'access', tag: 10, trunks: [], native: 0 } })]).portAdds).toEqual([
      { name: 't', devargs: 'net_ring1', id: 2, adminUp: false, vlan: { mode: 'trunk', trunks: [10, 20, 21], native: 10 } },
    ]);
  });

  it('edgeChange says only what differs', () => {
    expect(edgeChange({ vlan: { mode: 'access', tag: 10 } }, { vlan: { mode: 'access', tag: 10 } })).toEqual({});
    expect(edgeChange({}, { nshTag: { spi: 1, si: 255, ttl: 63, mdtype: 1, context: [0, 0, 0, 0] } })).toMatchObject({ nshTag: { spi: 1 } });
    expect(edgeChange({ nshTag: { spi: 1, si: 255, ttl: 63, mdtype: 1, context: [0, 0, 0, 0] } }, {})).toEqual({ nshTag: null });
  });
});

describe('the switch', () => {
  async function connected() {
    const dp = new FakeDataplane();
    const sw = new Switch(emptyState(), { save: async () => {} }, silentLogger);
    await dp.connect();
    await sw.attach(dp, dp.info);
    return { sw, dp };
  }

  it('adds, changes and clears them, keeping the desired state', async () => {
    const { sw, dp } = await connected();
    await sw.addPort({ name: 'a', devargs: 'net_ring0', vlan: { mode: 'access', tag: 10 } });
    expect(dp.ports[0].vlan).toEqual({ mode: 'access', tag: 10, trunks: [], native: 0 });
    expect(sw.state.ports[0].vlan).toEqual({ mode: 'access', tag: 10 });
    await sw.updatePort('a', { vlan: { mode: 'trunk', trunks: [20] }, nshTag: { spi: 7 } });
    expect(sw.state.ports[0]).toMatchObject({ vlan: { mode: 'trunk', trunks: [20], native: 0 }, nshTag: { spi: 7, si: 255, ttl: 63 } });
    expect(dp.ports[0].nshTag).toMatchObject({ spi: 7 });
    await sw.updatePort('a', { vlan: { mode: 'none' }, nshTag: null });
    expect(sw.state.ports[0].vlan).toBeUndefined();
    expect(sw.state.ports[0].nshTag).toBeUndefined();
    expect(dp.ports[0].vlan).toBeUndefined();
  });

  it('config apply: adds, changes and clears them, says so, and an export applies as a no-op', async () => {
    const { sw, dp } = await connected();
    await sw.addPort({ name: 'a', devargs: 'net_ring0' });
    const doc = parseConfig(
      'ports:\n  - {name: a, devargs: net_ring0, vlan: {mode: access, tag: 10}}\n  - {name: t, devargs: net_ring1, vlan: {mode: trunk, trunks: "10,20-21"}, nshTag: {spi: 5}}\n',
      'x.yaml',
    );
    const dry = await sw.applyConfig(doc, true, 'x.yaml');
    expect(dry.diff).toEqual([
      '+ port t net_ring1 id=2 vlan trunk 10,20-21 nsh-tag spi=0x5,si=255,ttl=63',
      '~ port a vlan none -> access 10',
    ]);
    await sw.applyConfig(doc, false, 'x.yaml');
    expect(dp.ports.map((p) => [p.name, p.vlan?.mode, p.vlan?.tag, p.vlan?.trunks, p.nshTag?.spi])).toEqual([
      ['a', 'access', 10, [], undefined],
      ['t', 'trunk', 0, [10, 20, 21], 5],
    ]);
    expect((await sw.applyConfig(parseConfig(exportConfig(sw.state), 'e.yaml'), false)).changes).toEqual([]);
    const back = await sw.applyConfig(parseConfig('ports:\n  - {name: a, devargs: net_ring0}\n  - {name: t, devargs: net_ring1}\n', 'y.yaml'), false);
    expect(back.diff).toEqual(['~ port a vlan access 10 -> none', '~ port t vlan trunk 10,20-21 -> none, nsh-tag spi=0x5,si=255,ttl=63 -> none']);
    expect(dp.ports.map((p) => [p.vlan, p.nshTag])).toEqual([[undefined, undefined], [undefined, undefined]]);
  });

  it('bad settings are INVALID_ARGUMENT naming the field, and change nothing', async () => {
    const { sw, dp } = await connected();
    const e = await sw.addPort({ name: 'a', devargs: 'net_ring0', vlan: { mode: 'access', tag: 0 } }).catch((x) => classify(x));
    expect(e).toMatchObject({ code: 3, message: expect.stringMatching(/^vlan\.tag: VID 0 is out of range/) });
    expect(dp.ports).toEqual([]);
    await sw.addPort({ name: 'a', devargs: 'net_ring0' });
    const f = await (async () => sw.updatePort('a', { nshTag: { spi: -1 } }))().catch((x) => classify(x));
    expect(f).toMatchObject({ code: 3, message: 'nsh_tag.spi: -1 is out of range 0..16777215' });
    expect(dp.ports[0].nshTag).toBeUndefined();
  });
});
