/**
 * FlowSpecError — the one exception the flow text parser throws.
 *
 * `field` is the token at fault as the user wrote it ("nw_srcx", "nw_src",
 * "goto_table"), `position` its offset in `text`, the string that was being
 * parsed (a match, an action list or a whole flow line). The message reads
 * "<problem> in '<text>'", e.g. "unknown field 'nw_srcx' in 'in_port=1,nw_srcx=1'".
 */
export class FlowSpecError extends Error {
  override readonly name: string = 'FlowSpecError';
  readonly field: string;
  readonly position: number;
  readonly text: string;
  readonly problem: string;

  constructor(problem: string, field: string, position: number, text: string) {
    super(text === '' ? problem : `${problem} in '${text}'`);
    this.problem = problem;
    this.field = field;
    this.position = position;
    this.text = text;
  }
}

/** A port name that the lookup callback does not know (the daemon answers NOT_FOUND). */
export class UnknownPortError extends FlowSpecError {
  override readonly name: string = 'UnknownPortError';
  readonly port: string;

  constructor(port: string, field: string, position: number, text: string) {
    super(`unknown port '${port}'`, field, position, text);
    this.port = port;
  }
}

/** Where a problem is reported: the token at fault and the text it came from. */
export interface Site {
  field: string;
  position: number;
  text: string;
}

export function fail(problem: string, site: Site): never {
  throw new FlowSpecError(problem, site.field, site.position, site.text);
}
