/**
 * `switchyard packet-out` and `mirror add` options into requests, mirror:NAME in flow text, and the
 * contradictions the CLI refuses before asking the daemon.
 */
import { describe, expect, it } from 'vitest';
import { packetOutRequest } from '../../src/cli/trace';

describe('packetOutRequest', () => {
  it('a frame in hex or from fields, the actions as written, in_port optional', () => {
    expect(packetOutRequest({ actions: 'output:p2', hex: '02:00:00:00:00:01 ff' })).toEqual({ actions: 'output:p2', inPort: '', frame: Buffer.from('02000000000 1ff'.replace(' ', ''), 'hex') });
    expect(packetOutRequest({ inPort: 'p1', actions: 'table', frame: 'udp,nw_dst=10.0.0.2' })).toEqual({ actions: 'table', inPort: 'p1', flow: 'udp,nw_dst=10.0.0.2' });
  });

  it('refuses no frame, two frames, no actions and --index without --pcap', () => {
    expect(() => packetOutRequest({ actions: 'output:p2' })).toThrow(/give the frame: --hex HEX, --pcap FILE or --frame/);
    expect(() => packetOutRequest({ actions: 'output:p2', hex: '00', frame: 'udp' })).toThrow(/give one frame/);
    expect(() => packetOutRequest({ hex: '0000' })).toThrow(/--actions is required/);
    expect(() => packetOutRequest({ actions: 'output:p2', hex: '0000', index: 2 })).toThrow(/--index goes with --pcap/);
    expect(() => packetOutRequest({ actions: 'output:p2', hex: 'xyz' })).toThrow(/--hex: 'x' is not a hexadecimal digit/);
  });
});

describe('mirrorRequest and mirror:NAME', () => {
  it('mirror add options: ports split at commas, --output required', async () => {
    const { mirrorRequest } = await import('../../src/cli/mirror');
    expect(mirrorRequest('m0', { src: 'p1, p2', dst: 'p3', output: 'p4' })).toEqual({ name: 'm0', src: ['p1', 'p2'], dst: ['p3'], output: 'p4' });
    expect(mirrorRequest('f', { output: 'p4' })).toEqual({ name: 'f', src: [], dst: [], output: 'p4' });
    expect(() => mirrorRequest('m0', { src: 'p1' })).toThrow(/--output PORT is required/);
  });

  it('mirror:NAME resolves through the mirrors known, and formats back by name', async () => {
    const { parseFlow, formatFlowMod } = await import('../../src/flowspec');
    const names = { resolveMirror: (n: string) => (n === 'web' ? 3 : undefined), mirrorName: (id: number) => (id === 3 ? 'web' : undefined) };
    const f = parseFlow('table=0,priority=5,tcp,actions=mirror:web,output:2', names);
    expect(f.actions).toEqual([{ type: 'mirror', mirror: 3 }, { type: 'output', port: 2 }]);
    expect(formatFlowMod(f, names)).toMatch(/actions=mirror:web,output:2$/);
    expect(() => parseFlow('table=0,actions=mirror:nosuch', names)).toThrow(/mirror:nosuch: no such mirror/);
    expect(() => parseFlow('table=0,actions=mirror', names)).toThrow(/needs an argument/);
  });
});
