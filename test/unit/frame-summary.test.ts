/**
 * The one-line frame summary of packet-in events (src/flowspec/summary.ts),
 * on frames built by `switchyard trace`'s frame builder and by hand.
 */
import { describe, expect, it } from 'vitest';
import { packetFromFlow } from '../../src/flowspec/packet';
import { frameSummary } from '../../src/flowspec/summary';

const frame = (flow: string) => packetFromFlow(`in_port=1,dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02,${flow}`).frame;

describe('frameSummary', () => {
  it('ICMP echo, UDP and TCP over IPv4, as tcpdump -e -n', () => {
    expect(frameSummary(frame('icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2,icmp_type=8'))).toBe(
      '02:00:00:00:00:01 > 02:00:00:00:00:02, IPv4 10.0.0.1 > 10.0.0.2: ICMP echo request, id 0, seq 0, length 8',
    );
    expect(frameSummary(frame('udp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_src=5000,tp_dst=53'))).toBe(
      '02:00:00:00:00:01 > 02:00:00:00:00:02, IPv4 10.0.0.1.5000 > 10.0.0.2.53: UDP, length 0',
    );
    expect(frameSummary(frame('tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_src=40000,tp_dst=80,tcp_flags=0x012'))).toBe(
      '02:00:00:00:00:01 > 02:00:00:00:00:02, IPv4 10.0.0.1.40000 > 10.0.0.2.80: Flags [S.], seq 0, length 0',
    );
  });

  it('a VLAN tag, IPv6 with ICMPv6, and ARP', () => {
    expect(frameSummary(frame('dl_vlan=10,icmp6,ipv6_src=2001:db8::1,ipv6_dst=2001:db8::2,icmp_type=128'))).toBe(
      '02:00:00:00:00:01 > 02:00:00:00:00:02, vlan 10, IPv6 2001:db8::1 > 2001:db8::2: ICMP6 echo request, id 0, seq 0, length 8',
    );
    expect(frameSummary(frame('arp'))).toMatch(/^02:00:00:00:00:01 > 02:00:00:00:00:02, ARP, Request who-has /);
  });

  it('a frame cut short (a packet-in of max_len bytes) says so and never throws', () => {
    const f = frame('udp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_src=1,tp_dst=2');
    expect(frameSummary(f.subarray(0, 20))).toBe('02:00:00:00:00:01 > 02:00:00:00:00:02, IPv4 (cut short)');
    expect(frameSummary(f.subarray(0, 36))).toBe('02:00:00:00:00:01 > 02:00:00:00:00:02, IPv4 10.0.0.1 > 10.0.0.2: UDP (cut short)');
    expect(frameSummary(Buffer.alloc(5))).toBe('5 bytes (shorter than an Ethernet header)');
    for (let n = 0; n <= f.length; n++) expect(() => frameSummary(f.subarray(0, n))).not.toThrow();
  });
});
