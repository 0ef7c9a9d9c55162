/**
 * Certificates for the security tests, made by `openssl` as the README tells
 * an operator to: a CA, a server certificate for 127.0.0.1 and localhost
 * (subjectAltName), a client certificate, and a second CA with a client
 * certificate of its own (one the server must not accept). Keys are P-256,
 * mode 0600; everything lives in the directory given.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

export interface Certs {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** Signed by another CA than `ca`. */
  rogueCert: string;
  rogueKey: string;
  otherCa: string;
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function ca(dir: string, name: string): void {
  openssl(dir, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${name}`);
}

function signed(dir: string, name: string, by: string, ext?: string): void {
  openssl(dir, 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
  const extArgs: string[] = [];
  if (ext) {
    writeFileSync(path.join(dir, `${name}.ext`), ext + '\n');
    extArgs.push('-extfile', `${name}.ext`);
  }
  openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', `${by}.pem`, '-CAkey', `${by}.key`, '-CAcreateserial',
    '-out', `${name}.pem`, '-days', '2', ...extArgs);
  chmodSync(path.join(dir, `${name}.key`), 0o600);
}

/** Makes the certificates in dir (which must exist). */
export function makeCerts(dir: string): Certs {
  ca(dir, 'ca');
  signed(dir, 'server', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost');
  signed(dir, 'client', 'ca');
  ca(dir, 'other-ca');
  signed(dir, 'rogue', 'other-ca');
  const f = (n: string) => path.join(dir, n);
  return {
    dir,
    ca: f('ca.pem'),
    serverCert: f('server.pem'),
    serverKey: f('server.key'),
    clientCert: f('client.pem'),
    clientKey: f('client.key'),
    rogueCert: f('rogue.pem'),
    rogueKey: f('rogue.key'),
    otherCa: f('other-ca.pem'),
  };
}
