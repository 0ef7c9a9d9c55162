/**
 * Property-style checks of the flow parser: random and mutated flow text
 * never throws anything but FlowSpecError, and whatever parses formats back
 * to text that parses to the same FlowMod. Seeded, so failures repeat.
 */
import { describe, expect, it } from 'vitest';
import { FlowSpecError, formatFlowMod, parseFlow, parseFlowLine, parseFlowParts } from '../../src/flowspec';
import type { FlowCommand } from '../../src/mgmt/addon-types';

/** mulberry32 */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEEDS = [
  'table=0,priority=100,in_port=p1,ip,nw_src=10.0.0.0/24,actions=drop',
  'tcp,tp_dst=80,tcp_flags=+syn-ack,actions=output:p2,mod_vlan_vid:5',
  'ipv6,ipv6_src=2001:db8::1/64,ipv6_label=0x1/0xf,actions=set_field:::1->ipv6_dst,goto_table:3',
  'dl_vlan=5,dl_vlan_pcp=3,dl_src=aa:bb:cc:dd:ee:ff/ff:ff:ff:00:00:00,actions=strip_vlan,flood',
  'icmp,icmp_type=8,nw_tos=0x10,nw_ecn=1,nw_frag=later,actions=in_port,dec_ttl',
  'cookie=0x5,idle_timeout=3,send_flow_rem,metadata=0x1/0xff,tun_id=7,actions=write_metadata:0x1/0x1,goto_table:9',
  'dl_type=0x894f,nsh_spi=3,nsh_si=2,nsh_c1=1,actions=set_field:4->nsh_si,output:3',
  'udp6,udp_src=53,actions=mod_tp_src:5,mod_nw_ttl:3,push_vlan:0x88a8,local',
];
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789_=,:./-+>()x#\\ \t"*[]{}|!@$%^&\'\u00e9\u0000\n';
const TOKENS = [
  'ip', 'tcp', 'udp6', 'icmp', 'arp', 'in_port=', 'nw_src=', 'nw_dst=10.', 'ipv6_src=::', 'tp_dst=', 'dl_vlan=', 'vlan_tci=0x',
  'tcp_flags=+', 'nw_frag=', 'actions=', 'output:', 'goto_table:', 'set_field:', '->', 'mod_vlan_vid:', 'write_metadata:',
  '/', '/0x', '0x', '255', '65535', '4294967296', '18446744073709551616', '-1', 'p1', 'nosuch', ',', '=', 'drop', 'table=',
  'priority=', 'cookie=', '/24', '/129', 'ff:ff:ff:ff:ff:ff', '::ffff:1.2.3.4', '1.2.3.4', 'dl_type=0x894f', 'nsh_spi=',
];

const ports = new Map([['p1', 1], ['p2', 2]]);
const names = { resolvePort: (n: string) => ports.get(n), portName: (i: number) => [...ports].find(([, v]) => v === i)?.[0] };
const COMMANDS: FlowCommand[] = ['add', 'modify', 'modify_strict', 'delete', 'delete_strict'];

function mutate(r: () => number, s: string): string {
  const n = 1 + Math.floor(r() * 4);
  let out = s;
  for (let i = 0; i < n; i++) {
    const at = Math.floor(r() * (out.length + 1));
    const op = Math.floor(r() * 5);
    if (op === 0) out = out.slice(0, at) + ALPHABET[Math.floor(r() * ALPHABET.length)] + out.slice(at);
    else if (op === 1) out = out.slice(0, at) + out.slice(at + 1 + Math.floor(r() * 4));
    else if (op === 2) out = out.slice(0, at) + TOKENS[Math.floor(r() * TOKENS.length)] + out.slice(at);
    else if (op === 3) out = out.slice(0, at) + out.slice(at).replace(/[0-9]+/, String(Math.floor(r() * 1e6)));
    else {
      const j = Math.floor(r() * out.length);
      out = out.slice(0, Math.min(at, j)) + out.slice(Math.max(at, j)) + out.slice(Math.min(at, j), Math.max(at, j));
    }
  }
  return out;
}

function random(r: () => number): string {
  const n = Math.floor(r() * 12);
  let out = '';
  for (let i = 0; i < n; i++) out += r() < 0.6 ? TOKENS[Math.floor(r() * TOKENS.length)] : ALPHABET[Math.floor(r() * ALPHABET.length)];
  return out;
}

/** Runs fn; anything thrown must be a FlowSpecError. Returns the result or undefined. */
function onlyFlowSpecErrors<T>(input: string, fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof FlowSpecError)) throw new Error(`input ${JSON.stringify(input)} threw ${String(e)}`);
    expect(typeof e.field).toBe('string');
    expect(e.position).toBeGreaterThanOrEqual(0);
    return undefined;
  }
}

describe('the flow parser on random input', () => {
  it('throws only FlowSpecError, and what parses round-trips', () => {
    const r = rng(0x5eed);
    let parsed = 0;
    for (let i = 0; i < 20000; i++) {
      const text = i % 3 === 0 ? random(r) : mutate(r, SEEDS[i % SEEDS.length]);
      const command = COMMANDS[i % COMMANDS.length];
      const f = onlyFlowSpecErrors(text, () => parseFlow(text, { ...names, command }));
      onlyFlowSpecErrors(text, () => parseFlowLine(text, names));
      onlyFlowSpecErrors(text, () => parseFlowParts({ match: text, actions: mutate(r, 'output:1,dec_ttl') }, { ...names, command }));
      if (f) {
        parsed++;
        const back = formatFlowMod(f, names);
        expect(parseFlow(back, { ...names, command }), `${text} -> ${back}`).toEqual(f);
      }
    }
    // the mutations keep a fair share parseable, so the round trip is exercised
    expect(parsed).toBeGreaterThan(300);
  });

  it('survives hostile sizes', () => {
    for (const text of ['a'.repeat(100000), ','.repeat(50000), '('.repeat(10000) + 'actions=', `actions=${'output:1,'.repeat(1000)}`, 'nw_src=' + '1'.repeat(5000)]) {
      onlyFlowSpecErrors(text.slice(0, 40), () => parseFlow(text));
    }
  });
});
