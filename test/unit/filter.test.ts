/**
 * The flows behind `switchyard filter`: the match a filter drops, the flow
 * it becomes, and how a dumped filter flow reads back.
 */
import { describe, expect, it } from 'vitest';
import { FILTER_COOKIE, filterEntry, filterFlow, filterMatch } from '../../src/cli/filter';
import { parseFlow } from '../../src/flowspec';

describe('filterMatch', () => {
  it('builds the match from --src (IPv4 or IPv6) and --mac', () => {
    expect(filterMatch(undefined, { src: '10.0.0.0/24' })).toBe('ip,nw_src=10.0.0.0/24');
    expect(filterMatch(undefined, { src: '10.0.0.9' })).toBe('ip,nw_src=10.0.0.9');
    expect(filterMatch(undefined, { src: 'fd00::/64' })).toBe('ipv6,ipv6_src=fd00::/64');
    expect(filterMatch(undefined, { mac: '02:00:00:00:00:01' })).toBe('dl_src=02:00:00:00:00:01');
    expect(filterMatch(undefined, { mac: '01:00:00:00:00:00/01:00:00:00:00:00' })).toBe('dl_src=01:00:00:00:00:00/01:00:00:00:00:00');
  });

  it('takes a match as given, "any" for everything', () => {
    expect(filterMatch('tcp,tp_dst=22', {})).toBe('tcp,tp_dst=22');
    expect(filterMatch('any', {})).toBe('');
  });

  it('refuses what is not a filter, naming it', () => {
    expect(() => filterMatch(undefined, { src: '10.0.0.0/33' })).toThrow(/--src '10.0.0.0\/33'/);
    expect(() => filterMatch(undefined, { src: 'fd00::/129' })).toThrow(/--src 'fd00::\/129'/);
    expect(() => filterMatch(undefined, { src: '10.0.0' })).toThrow(/--src '10.0.0'/);
    expect(() => filterMatch(undefined, { mac: '02:00:00:00:00:0g' })).toThrow(/--mac/);
    expect(() => filterMatch('ip,in_port=2', {})).toThrow(/may not set 'in_port'/);
    expect(() => filterMatch('table=1,ip', {})).toThrow(/may not set 'table'/);
    expect(() => filterMatch('ip,actions=output:1', {})).toThrow(/may not set 'actions'/);
    expect(() => filterMatch(' ', {})).toThrow(/empty/);
    expect(() => filterMatch(undefined, {})).toThrow(/say what to drop/);
    expect(() => filterMatch('ip', { src: '10.0.0.0/8' })).toThrow(/one of MATCH/);
    expect(filterMatch(undefined, {}, true)).toBeUndefined();
  });
});

describe('filterFlow', () => {
  it('is a top-priority drop in table 0 under the filter cookie, which the flow parser takes', () => {
    const f = filterFlow('p1', 'ip,nw_src=10.0.0.0/24');
    expect(f).toEqual({ tableId: 0, priority: 65535, cookie: FILTER_COOKIE.toString(), match: 'in_port=p1,ip,nw_src=10.0.0.0/24', actions: 'drop' });
    const ports = new Map([['p1', 1]]);
    const parsed = parseFlow(`table=0,priority=65535,${f.match},actions=drop`, { resolvePort: (n) => ports.get(n) });
    expect(parsed).toMatchObject({ table: 0, priority: 65535, actions: [] });
    expect(filterFlow('p1', '').match).toBe('in_port=p1');
    expect(() => filterFlow('p 1', 'ip')).toThrow(/not a port name/);
  });

  it('reads a dumped filter back as port and match', () => {
    const e = filterEntry({ match: 'ip,in_port=p1,nw_src=10.0.0.0/24', packets: '4', bytes: '392' } as never);
    expect(e).toEqual({ port: 'p1', match: 'ip,nw_src=10.0.0.0/24', packets: 4, bytes: 392 });
    expect(filterEntry({ match: 'in_port=p2', packets: '0', bytes: '0' } as never).match).toBe('any');
  });
});
