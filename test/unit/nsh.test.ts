/**
 * The tagged header's actions (NSH) as flow text and through the addon:
 * push_nsh's arguments and defaults, OVS's encap(nsh(...))/decap()
 * spellings, the canonical form and parse(format(x)) == x, the errors that
 * name the argument, and push_nsh through both of the addon's conversions
 * and the data plane's own check.
 */
import { describe, expect, it } from 'vitest';
import { FlowSpecError, formatActions, parseFlow } from '../../src/flowspec';
import { loadAddon, validateFlowMod } from '../../src/mgmt/addon';
import type { Action, FlowMod } from '../../src/mgmt/addon-types';

const native = loadAddon();

function actions(text: string): Action[] {
  return parseFlow(`table=0,actions=${text}`).actions;
}

function refuses(text: string, field: string, msg: RegExp) {
  let err: unknown;
  try {
    actions(text);
  } catch (e) {
    err = e;
  }
  expect(err, text).toBeInstanceOf(FlowSpecError);
  expect((err as FlowSpecError).field).toBe(field);
  expect((err as FlowSpecError).message).toMatch(msg);
}

const nsh = (o: Partial<Extract<Action, { type: 'push_nsh' }>>): Action => ({
  type: 'push_nsh', spi: 0, si: 255, ttl: 63, mdType: 1, c1: 0, c2: 0, c3: 0, c4: 0, ...o,
});

describe('NSH actions in flow text', () => {
  it('push_nsh: spi required, si 255, ttl 63 and md_type 1 by default, c1..c4', () => {
    expect(actions('push_nsh(spi=0x123456),output:1')).toEqual([nsh({ spi: 0x123456 }), { type: 'output', port: 1 }]);
    expect(actions('push_nsh(spi=5,si=3,ttl=0,md_type=2)')).toEqual([nsh({ spi: 5, si: 3, ttl: 0, mdType: 2 })]);
    expect(actions('push_nsh(spi=1, c1=0xffffffff, c4=7)')).toEqual([nsh({ spi: 1, c1: 0xffffffff, c4: 7 })]);
    expect(actions('pop_nsh,dec_nsh_ttl')).toEqual([{ type: 'pop_nsh' }, { type: 'dec_nsh_ttl' }]);
  });

  it("OVS's encap(nsh), encap(nsh(md_type=N)), encap(ethernet) and decap()", () => {
    expect(actions('encap(nsh),set_field:9->nsh_spi,encap(ethernet),decap(),decap')).toEqual([
      nsh({}),
      { type: 'set_field', field: 'nsh_spi', value: 9 },
      { type: 'pop_nsh' },
      { type: 'pop_nsh' },
    ]);
    expect(actions('encap(nsh(md_type=2))')).toEqual([nsh({ mdType: 2 })]);
  });

  it("DESIGN.md's push_tag, pop_tag and dec_tag_ttl are the same actions", () => {
    expect(actions('push_tag(spi=3),dec_tag_ttl,pop_tag')).toEqual(actions('push_nsh(spi=3),dec_nsh_ttl,pop_nsh'));
    refuses('push_tag(ttl=1)', 'push_tag', /push_tag needs spi=N/);
  });

  it('formats canonically, and parse(format(x)) == x', () => {
    for (const text of [
      'push_nsh(spi=0x123456,si=254,ttl=9,c1=0x11223344,c2=0x55667788,c3=0x99aabbcc,c4=0xddeeff00),output:1',
      'push_nsh(spi=0x7,si=255,ttl=63,md_type=2),dec_nsh_ttl,pop_nsh',
    ]) {
      expect(formatActions(actions(text))).toBe(text);
    }
    expect(formatActions(actions('encap(nsh(md_type=1)),encap(ethernet)'))).toBe('push_nsh(spi=0x0,si=255,ttl=63)');
  });

  it('refuses bad arguments, naming them', () => {
    refuses('push_nsh(si=1)', 'push_nsh', /push_nsh needs spi=N/);
    refuses('push_nsh', 'push_nsh', /push_nsh needs spi=N/);
    refuses('push_nsh(spi=1,ttl=64)', 'push_nsh', /ttl=64 is out of range \(0\.\.63\)/);
    refuses('push_nsh(spi=0x1000000)', 'push_nsh', /spi=0x1000000 is out of range \(0\.\.0xffffff\)/);
    refuses('push_nsh(spi=1,si=256)', 'push_nsh', /si=256 is out of range/);
    refuses('push_nsh(spi=1,md_type=0)', 'push_nsh', /md_type=0, it must be 1 or 2/);
    refuses('push_nsh(spi=1,md_type=2,c2=1)', 'push_nsh', /c1\.\.c4 are MD type 1's/);
    refuses('push_nsh(spi=1,colour=red)', 'push_nsh', /unknown argument 'colour'/);
    refuses('push_nsh(spi=1,spi=2)', 'push_nsh', /spi given twice/);
    refuses('push_nsh(spi=x)', 'push_nsh', /spi=x is not a number/);
    refuses('encap(ethernet)', 'encap', /only accepted after encap\(nsh\)/);
    refuses('encap(mpls)', 'encap', /only encap\(nsh\)/);
    refuses('pop_nsh:1', 'pop_nsh', /takes no argument/);
    refuses('decap(packet_type(ns=0,type=0))', 'decap', /takes no argument/);
    refuses('dec_nsh_ttl:2', 'dec_nsh_ttl', /takes no argument/);
  });
});

describe('push_nsh through the addon', () => {
  const mod = (acts: Action[]): FlowMod => ({ command: 'add', table: 0, priority: 1, match: {}, actions: acts });
  const full = nsh({ spi: 0xabcdef, si: 17, ttl: 33, c1: 1, c2: 0x80000000, c3: 3, c4: 0xffffffff });

  it('round trips every argument through the C codec', () => {
    const acts: Action[] = [full, nsh({ spi: 2, mdType: 2 }), { type: 'pop_nsh' }, { type: 'dec_nsh_ttl' }];
    const back = native.decodeFlows(native.encodeFlowMod([mod(acts), mod(acts)]));
    expect(back.map((f: FlowMod) => f.actions)).toEqual([acts, acts]);
  });

  it("the data plane's check refuses ttl over 63 and md_type other than 1 or 2; a missing spi is named", () => {
    expect(validateFlowMod(mod([full]))).toBeNull();
    expect(validateFlowMod(mod([nsh({ spi: 1, ttl: 64 })]))).toMatch(/push_nsh ttl=64, it must be 0\.\.63/);
    expect(validateFlowMod(mod([nsh({ spi: 1, mdType: 3 })]))).toMatch(/push_nsh md_type=3, it must be 1 or 2/);
    expect(() => native.encodeFlowMod([mod([{ type: 'push_nsh' } as never])])).toThrow(/actions\[0\]\.spi: missing/);
    expect(() => native.encodeFlowMod([mod([{ ...full, spi: 0x1000000 }])])).toThrow(/actions\[0\]\.spi: .*out of range/);
  });
});
