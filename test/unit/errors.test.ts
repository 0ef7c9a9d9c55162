/**
 * Error mapping: each control-protocol error code to its one gRPC status,
 * flow text errors to INVALID_ARGUMENT, unknown ports to NOT_FOUND, and the
 * message kept as the data plane wrote it.
 */
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { FlowSpecError, UnknownPortError } from '../../src/flowspec';
import { ApiError, classify, DP_CODE_STATUS, inBatch, isDpError, toServiceError } from '../../src/mgmt/errors';
import { dpError } from './fake-dataplane';

describe('error mapping', () => {
  it('maps every control-protocol error code to its gRPC status', () => {
    const want: Record<string, number> = {
      INVAL: status.INVALID_ARGUMENT,
      NOENT: status.NOT_FOUND,
      EXIST: status.ALREADY_EXISTS,
      NOSPC: status.RESOURCE_EXHAUSTED,
      BUSY: status.UNAVAILABLE,
      UNSUPP: status.UNIMPLEMENTED,
      PROTO: status.INVALID_ARGUMENT,
      VERSION: status.FAILED_PRECONDITION,
      DEVICE: status.FAILED_PRECONDITION,
      INTERNAL: status.INTERNAL,
      DISCONNECTED: status.UNAVAILABLE,
    };
    expect(DP_CODE_STATUS).toEqual(want);
    for (const [code, st] of Object.entries(want)) {
      const c = classify(dpError(code, `port 'p9' does not exist (${code})`));
      expect(c.code, code).toBe(st);
      expect(c.message, code).toContain(`port 'p9' does not exist (${code})`);
    }
  });

  it('an unknown data-plane code is INTERNAL', () => {
    expect(classify(dpError('WEIRD', 'x')).code).toBe(status.INTERNAL);
  });

  it('flow text errors are INVALID_ARGUMENT, unknown ports NOT_FOUND, naming them', () => {
    expect(classify(new FlowSpecError("unknown field 'nw_srcx'", 'nw_srcx', 10, 'in_port=1,nw_srcx=1'))).toEqual({
      code: status.INVALID_ARGUMENT,
      message: "unknown field 'nw_srcx' in 'in_port=1,nw_srcx=1'",
    });
    expect(classify(new UnknownPortError('p9', 'in_port', 0, 'in_port=p9'))).toEqual({
      code: status.NOT_FOUND,
      message: "unknown port 'p9' in 'in_port=p9'",
    });
  });

  it('ApiError keeps its status; anything else is INTERNAL', () => {
    expect(classify(new ApiError(status.ALREADY_EXISTS, "port 'p1' already exists"))).toEqual({ code: status.ALREADY_EXISTS, message: "port 'p1' already exists" });
    expect(classify(new TypeError('boom'))).toEqual({ code: status.INTERNAL, message: 'internal error: boom' });
    expect(classify('text')).toEqual({ code: status.INTERNAL, message: 'internal error: text' });
  });

  it('toServiceError fills code and details', () => {
    const e = toServiceError(dpError('NOSPC', 'table 0 is full'));
    expect(e.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(e.details).toBe('table 0 is full');
  });

  it('isDpError needs a string code and a numeric index (Node system errors are not)', () => {
    expect(isDpError(dpError('INVAL', 'x'))).toBe(true);
    expect(isDpError(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe(false);
  });

  it('inBatch names the item of a batch longer than one', () => {
    expect((inBatch(new FlowSpecError('bad', 'x', 0, 'x=1'), 2, 5) as Error).message).toBe("flow #3: bad in 'x=1'");
    expect((inBatch(new FlowSpecError('bad', 'x', 0, 'x=1'), 0, 1) as Error).message).toBe("bad in 'x=1'");
    expect((inBatch(dpError('INVAL', 'flow 3: goto_table:0 must name a table after 1', 2), 2, 4) as Error).message).toBe(
      'flow 3: goto_table:0 must name a table after 1',
    );
    const e = inBatch(new UnknownPortError('p9', 'in_port', 0, 'in_port=p9'), 1, 2);
    expect(e).toBeInstanceOf(UnknownPortError);
    expect(classify(e).code).toBe(status.NOT_FOUND);
  });
});
