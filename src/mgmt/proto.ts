/**
 * Loading the gRPC API (proto/switchyard/v1/switchyard.proto) for the daemon
 * and the CLI, with the options the generated types (src/gen, see
 * scripts/gen-proto-types.sh) assume: longs as strings (64-bit counters
 * exceed 2^53), enums as strings, defaults, oneofs.
 */
import { loadPackageDefinition, GrpcObject } from '@grpc/grpc-js';
import { loadSync, Options, PackageDefinition } from '@grpc/proto-loader';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ProtoGrpcType } from '../gen/switchyard';

/** proto/ at the top of the tree, from src/mgmt (tests) and dist/mgmt alike. */
export const PROTO_DIR = resolve(__dirname, '../../proto');
export const PROTO_FILE = 'switchyard/v1/switchyard.proto';

export const LOADER_OPTIONS: Options = {
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
};

export const SERVICE_NAMES = [
  'switchyard.v1.PortService',
  'switchyard.v1.FlowService',
  'switchyard.v1.TableService',
  'switchyard.v1.StatsService',
  'switchyard.v1.SystemService',
] as const;

let cached: { def: PackageDefinition; proto: ProtoGrpcType } | null = null;

export function loadProto(): { def: PackageDefinition; proto: ProtoGrpcType } {
  if (!cached) {
    if (!existsSync(resolve(PROTO_DIR, PROTO_FILE))) throw new Error(`cannot find the API definition ${resolve(PROTO_DIR, PROTO_FILE)}`);
    const def = loadSync(PROTO_FILE, LOADER_OPTIONS);
    const proto = loadPackageDefinition(def) as GrpcObject as unknown as ProtoGrpcType;
    cached = { def, proto };
  }
  return cached;
}
