/** Where the built pieces live, relative to the repository root. */
import * as path from 'node:path';

export const REPO = path.resolve(__dirname, '../..');
export const DAEMON_JS = path.join(REPO, 'dist/mgmt/main.js');
export const CLI_JS = path.join(REPO, 'dist/cli/main.js');
export const DP_BINARY = path.join(REPO, 'build/dpdk-core/src/switchyard-dp');
export const ADDON = path.join(REPO, 'build/dpdk-core/addon/switchyard.node');
export const PROTO_DIR = path.join(REPO, 'proto');
/** Debian's python, which sees python3-scapy (the first python3 on PATH may not). */
export const PYTHON = '/usr/bin/python3';

/** Integration tests need root: namespaces, af_packet, DPDK. */
export const IS_ROOT = process.getuid?.() === 0;
