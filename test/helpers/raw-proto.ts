/**
 * The control protocol byte by byte, for tests that play the data plane's
 * part (a fake server on a unix socket) or send it garbage: building
 * messages and splitting a byte stream back into them. The real encoder and
 * decoder are the addon's; this is deliberately separate, so that a test can
 * say exactly what goes on the wire (see dpdk-core/include/switchyard/proto.h).
 */
import * as net from 'node:net';
import { constants } from '../../src/mgmt/addon';

export interface RawMsg {
  type: number;
  flags: number;
  xid: number;
  /** attributes by type (the last of a type wins) */
  attrs: Map<number, Buffer>;
}

export function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
}

/** Attributes: an 8-byte header (type, length) and the payload, padded to 8 bytes. */
export function attrs(list: [number, Buffer][]): Buffer {
  return Buffer.concat(
    list.map(([t, payload]) => {
      const len = 8 + payload.length;
      const a = Buffer.alloc((len + 7) & ~7);
      a.writeUInt16LE(t, 0);
      a.writeUInt32LE(len, 4);
      payload.copy(a, 8);
      return a;
    }),
  );
}

/** A message: the 16-byte header (version 1, flags, type, length, xid) and its body. */
export function message(type: number, flags: number, xid: number, body: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(16);
  h[0] = 1;
  h[1] = flags;
  h.writeUInt16LE(type, 2);
  h.writeUInt32LE(16 + body.length, 4);
  h.writeUInt32LE(xid, 8);
  return Buffer.concat([h, body]);
}

/** The attributes of a message (what follows its header). */
export const bodyOf = (msg: Buffer): Buffer => msg.subarray(16);

/** Splits whole messages off the front of buf; returns them and the rest. */
export function split(buf: Buffer): [RawMsg[], Buffer] {
  const out: RawMsg[] = [];
  let off = 0;
  while (buf.length - off >= 16) {
    const len = buf.readUInt32LE(off + 4);
    if (len < 16 || buf.length - off < len) break;
    const m = buf.subarray(off, off + len);
    const a = new Map<number, Buffer>();
    for (let p = 16; p + 8 <= len; ) {
      const alen = m.readUInt32LE(p + 4);
      if (alen < 8) break;
      a.set(m.readUInt16LE(p), m.subarray(p + 8, p + alen));
      p += (alen + 7) & ~7;
    }
    out.push({ type: m.readUInt16LE(2), flags: m[1], xid: m.readUInt32LE(8), attrs: a });
    off += len;
  }
  return [out, buf.subarray(off)];
}

/** A struct sy_port_desc: id, MTU 1500, admin up, MAC 02:00:00:00:00:<id>, nRxq rx queues, name. */
export function portDescBytes(id: number, name: string, nRxq = 1): Buffer {
  const d = Buffer.alloc(constants.PORT_DESC_SIZE);
  d.writeUInt32LE(id, 0);
  d.writeUInt16LE(1500, 6);
  d[8] = 1; // admin up
  Buffer.from([2, 0, 0, 0, 0, id]).copy(d, 10);
  d.writeUInt16LE(nRxq, 20);
  d.write(name, 28);
  return d;
}

const HELLO = 2;
const REPLY = 1;
const A_VERSION = 4;
const A_DP_INFO = 5;

/**
 * A fake data plane on a unix socket: answers HELLO (pid 4242, version
 * "fake") and hands every other request to onRequest.
 */
export function fakeDataplane(sockPath: string, onRequest: (m: RawMsg, sock: net.Socket) => void): Promise<net.Server> {
  const srv = net.createServer((sock) => {
    let acc: Buffer = Buffer.alloc(0);
    sock.on('error', () => undefined);
    sock.on('data', (d) => {
      let msgs: RawMsg[];
      [msgs, acc] = split(Buffer.concat([acc, d]));
      for (const m of msgs) {
        if (m.type === HELLO) {
          const info = Buffer.alloc(constants.DP_INFO_SIZE);
          info.writeUInt32LE(4242, 0);
          info.write('fake', 32); // struct sy_dp_info: version[] after six 32/64-bit fields
          sock.write(message(HELLO, REPLY, m.xid, attrs([[A_VERSION, u32(1)], [A_DP_INFO, info]])));
        } else onRequest(m, sock);
      }
    });
  });
  return new Promise((resolve) => srv.listen(sockPath, () => resolve(srv)));
}
