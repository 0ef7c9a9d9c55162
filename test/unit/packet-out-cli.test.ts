/**
 * `switchyard packet-out` options into a PacketOut request, and the
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
