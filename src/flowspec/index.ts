/**
 * Flow text syntax (ovs-ofctl's), shared by the CLI and the daemon: parse
 * into the addon's FlowMod, format entries back. See flow.ts for the syntax,
 * match.ts for the fields, actions.ts for the actions.
 */
export { FlowSpecError, UnknownPortError } from './errors';
export { FIELDS, FIELD_BY_NAME, compareFieldTables } from './fields';
export type { FieldDef } from './fields';
export {
  bitsCover,
  bitsKey,
  formatBits,
  isMatchKeyword,
  matchToBits,
  MAX_PORT_ID,
  RESERVED_PORTS,
  SHORTHANDS,
} from './match';
export type { MatchBits, PortNames } from './match';
export { canonicalAction, formatAction, formatActions, parseActions, MAX_ACTIONS } from './actions';
export {
  canonicalMatch,
  DEFAULT_PRIORITY,
  entryToFlowMod,
  FLOW_FLAGS,
  flowKey,
  formatFlowEntry,
  formatFlowMod,
  formatMatch,
  MAX_TABLE,
  parseFlow,
  parseFlowKeyed,
  parseFlowLine,
  parseFlowLineKeyed,
  parseFlowParts,
  sameActions,
  sameFlow,
  type FlowBody,
  splitFlowFile,
  splitFlowText,
} from './flow';
export type { FlowLine, FlowParts, ParseOptions } from './flow';
export { buildFrame, ETH_MIN_FRAME, formatFieldValue, inetChecksum, packetFromFlow, parseMicroflow, TRACE_FRAME_MAX } from './packet';
export type { Microflow } from './packet';
export { formatGroup, GROUP_TYPES, parseGroup } from './group';
