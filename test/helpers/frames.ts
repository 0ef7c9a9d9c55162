/** Hand-made frames for net_pcap sources (pcap files the switch replays). */
import { macBytes } from './traffic';

/** A 64-byte Ethernet/IPv4/UDP frame (checksums are not checked by the switch; the IP one is right). */
export function udpFrame(src: string, dst: string, sport: number, dport: number): Buffer {
  const f = Buffer.alloc(60);
  macBytes('02:00:00:00:00:02').copy(f, 0);
  macBytes('02:00:00:00:00:01').copy(f, 6);
  f.writeUInt16BE(0x0800, 12);
  const ip = 14;
  f[ip] = 0x45;
  f.writeUInt16BE(60 - 14, ip + 2);
  f[ip + 8] = 64;
  f[ip + 9] = 17;
  Buffer.from(src.split('.').map(Number)).copy(f, ip + 12);
  Buffer.from(dst.split('.').map(Number)).copy(f, ip + 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += f.readUInt16BE(ip + i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  f.writeUInt16BE(~sum & 0xffff, ip + 10);
  f.writeUInt16BE(sport, ip + 20);
  f.writeUInt16BE(dport, ip + 22);
  f.writeUInt16BE(60 - 14 - 20, ip + 24);
  return f;
}
