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

/**
 * Channel options of both ends. gRPC's default 4 MB receive limit would
 * refuse a flow file of about 50,000 lines or a dump of about 20,000 flows;
 * the data plane accepts batches of SY_FLOW_BATCH_MAX (131,072) flows, whose
 * text is under 64 MB, and a dump of a full switch is streamed.
 */
export const MESSAGE_LIMITS = {
  'grpc.max_receive_message_length': 256 * 1024 * 1024,
  'grpc.max_send_message_length': 256 * 1024 * 1024,
} as const;

export const SERVICE_NAMES = [
  'switchyard.v1.PortService',
  'switchyard.v1.FlowService',
  'switchyard.v1.TableService',
  'switchyard.v1.GroupService',
  'switchyard.v1.MeterService',
  'switchyard.v1.PacketService',
  'switchyard.v1.MirrorService',
  'switchyard.v1.StatsService',
  'switchyard.v1.SystemService',
  'switchyard.v1.ConfigService',
  'switchyard.v1.EventService',
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
