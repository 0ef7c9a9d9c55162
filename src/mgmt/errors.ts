/**
 * Errors across layers: one data-plane error code maps to one gRPC status,
 * and the data plane's message travels unchanged in the status details (the
 * CLI prints it as is). Flow text errors are INVALID_ARGUMENT naming the
 * field; an unknown port name is NOT_FOUND naming it.
 */
import { status as Status, ServiceError, Metadata } from '@grpc/grpc-js';
import { FlowSpecError, UnknownPortError } from '../flowspec';
import type { DpError } from './addon-types';

/**
 * A field of an item (a port's bond or VLAN mode, a meter, a QoS setting)
 * that is wrong, and why: documents prefix the field with its path
 * (`ports[2].qos.rate`), the API answers INVALID_ARGUMENT with the message.
 * Each kind of item has its subclass, so a caller can tell whose it is.
 */
export class FieldError extends Error {
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

/** v as an integer min..max, else an E naming field ("missing" when absent). */
export function fieldInt(E: new (field: string, problem: string) => FieldError, v: unknown, field: string, min: number, max: number, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new E(field, `${v === undefined ? 'missing' : `'${String(v)}' is not valid`}: ${what} (${min}..${max})`);
  }
  return v;
}

/** An error with the gRPC status it should be answered with. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly code: Status,
    message: string,
  ) {
    super(message);
  }
}

/** Control-protocol error name (sy_error_names in proto.h) -> gRPC status. */
export const DP_CODE_STATUS: Readonly<Record<string, Status>> = {
  INVAL: Status.INVALID_ARGUMENT,
  NOENT: Status.NOT_FOUND,
  EXIST: Status.ALREADY_EXISTS,
  NOSPC: Status.RESOURCE_EXHAUSTED,
  BUSY: Status.UNAVAILABLE,
  UNSUPP: Status.UNIMPLEMENTED,
  PROTO: Status.INVALID_ARGUMENT,
  VERSION: Status.FAILED_PRECONDITION,
  DEVICE: Status.FAILED_PRECONDITION,
  INTERNAL: Status.INTERNAL,
  DISCONNECTED: Status.UNAVAILABLE,
};

export function isDpError(e: unknown): e is DpError {
  return (
    e instanceof Error &&
    typeof (e as Partial<DpError>).code === 'string' &&
    typeof (e as Partial<DpError>).index === 'number'
  );
}

/** The gRPC status and message for any error a handler may meet. */
export function classify(e: unknown): { code: Status; message: string } {
  if (e instanceof ApiError) return { code: e.code, message: e.message };
  if (e instanceof FieldError) return { code: Status.INVALID_ARGUMENT, message: e.message };
  if (e instanceof UnknownPortError) return { code: Status.NOT_FOUND, message: e.message };
  if (e instanceof FlowSpecError) return { code: Status.INVALID_ARGUMENT, message: e.message };
  if (isDpError(e)) {
    const code = DP_CODE_STATUS[e.code] ?? Status.INTERNAL;
    const message = e.code === 'DISCONNECTED' ? `data plane disconnected: ${e.message}` : e.message;
    return { code, message };
  }
  const msg = e instanceof Error ? e.message : String(e);
  return { code: Status.INTERNAL, message: `internal error: ${msg}` };
}

/** Longest status message: a message echoes input, and a status travels in an HTTP/2 header. */
export const MAX_STATUS_MESSAGE = 1024;

export function toServiceError(e: unknown): Partial<ServiceError> {
  const c = classify(e);
  const message = c.message.length > MAX_STATUS_MESSAGE ? `${c.message.slice(0, MAX_STATUS_MESSAGE - 3)}...` : c.message;
  const code = c.code;
  return { code, details: message, message, metadata: new Metadata() };
}

/**
 * Prefixes a batch item's position ("flow #3: ...") for errors of batches
 * longer than one, keeping the class and code.
 */
export function inBatch(e: unknown, index: number, size: number): unknown {
  if (size <= 1 || index < 0) return e;
  const prefix = `flow #${index + 1}: `;
  if (e instanceof Error && !/^flow #?\d+/.test(e.message)) {
    try {
      e.message = prefix + e.message;
    } catch {
      /* read-only message: leave it */
    }
  }
  return e;
}
