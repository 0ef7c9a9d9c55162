/**
 * switchyard.v1.EventService: the switch's events as they happen.
 *
 * Sources: the data plane's events, re-emitted by Switch as 'dpevent'
 * (port_status: add, delete, modify, link; flow_removed with the entry's
 * final counters; packet_in), and the Switch's 'state' changes, which become
 * dataplane events (disconnected with the reason, launching, connecting,
 * reconciling, connected with the new pid, stopped). Nothing is replayed.
 *
 * A client that does not read is not allowed to make the daemon buffer
 * without limit: past EVENT_LIMITS (events or estimated bytes) waiting to
 * be sent, its stream is ended with RESOURCE_EXHAUSTED (it still receives
 * what was queued before that status, once it reads).
 *
 * StreamSet ends every open stream (UNAVAILABLE) when the server closes, so
 * that shutdown does not wait for watchers that never hang up.
 */
import { status as Status, type ServerWritableStream } from '@grpc/grpc-js';
import { PORT_CONTROLLER, type DpEvent } from './addon-types';
import type { DataplaneEvent } from '../gen/switchyard/v1/DataplaneEvent';
import type { Event } from '../gen/switchyard/v1/Event';
import type { EventServiceHandlers } from '../gen/switchyard/v1/EventService';
import type { WatchEventsRequest__Output } from '../gen/switchyard/v1/WatchEventsRequest';
import type { PortNames } from '../flowspec';
import { frameSummary } from '../flowspec/summary';
import type { DpStateName, Switch } from './switch';
import { dpStateToWire, toWireFlowEntry, toWirePort, u64 } from './wire';

export const EVENT_TYPES = ['port_status', 'flow_removed', 'packet_in', 'dataplane'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * How much may wait for one client before its stream is ended. The bounds
 * hold a whole batch of flow removals (SY_FLOW_BATCH_MAX entries deleted with
 * send_flow_rem arrive faster than any client reads them).
 */
export interface EventLimits {
  events: number;
  /** Estimated encoded bytes. */
  bytes: number;
}
export const EVENT_LIMITS: EventLimits = { events: 131072, bytes: 64 * 1024 * 1024 };

/** Open server streams, to be ended together when the server closes. */
export class StreamSet {
  private readonly open = new Set<(code: Status, details: string) => void>();
  private closed = false;

  /** Registers a stream's ender; returns the function that unregisters it. */
  add(end: (code: Status, details: string) => void): () => void {
    if (this.closed) {
      end(Status.UNAVAILABLE, 'switchyardd is shutting down');
      return () => undefined;
    }
    this.open.add(end);
    return () => this.open.delete(end);
  }

  endAll(details = 'switchyardd is shutting down'): void {
    this.closed = true;
    for (const end of [...this.open]) end(Status.UNAVAILABLE, details);
    this.open.clear();
  }
}

/** The requested types; throws a message naming an unknown one. */
export function parseEventTypes(types: readonly string[]): Set<EventType> {
  if (types.length === 0) return new Set(EVENT_TYPES);
  const out = new Set<EventType>();
  for (const t of types) {
    if (!(EVENT_TYPES as readonly string[]).includes(t)) {
      throw new Error(`types: unknown event type '${t}' (expected ${EVENT_TYPES.join(', ')})`);
    }
    out.add(t as EventType);
  }
  return out;
}

/** Wall-clock time in ns since the Unix epoch (microsecond resolution). */
function nowUnixNs(): string {
  return u64(BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n);
}

/** A data-plane event as an Event message, and a guess at its encoded size. */
export function toWireDpEvent(ev: DpEvent, names: Required<PortNames>): { event: Event; size: number } {
  const time = nowUnixNs();
  switch (ev.type) {
    case 'port_status':
      return { event: { timeUnixNs: time, portStatus: { reason: ev.reason, port: toWirePort(ev.port) } }, size: 256 + ev.port.devargs.length };
    case 'flow_removed': {
      const flow = toWireFlowEntry(ev.flow, names);
      const size = 128 + (flow.text?.length ?? 0) + (flow.match?.length ?? 0) + (flow.actions?.length ?? 0);
      return { event: { timeUnixNs: time, flowRemoved: { reason: ev.reason, flow } }, size };
    }
    case 'packet_in':
      return {
        event: {
          timeUnixNs: time,
          packetIn: {
            inPortId: ev.port,
            inPort: ev.port === PORT_CONTROLLER ? 'controller' : (names.portName(ev.port) ?? ''), // a packet-out from no port
            tableId: ev.table,
            cookie: u64(ev.cookie),
            frame: ev.packet,
            reason: ev.reason,
            totalLen: ev.totalLen,
            summary: frameSummary(ev.packet),
          },
        },
        size: 160 + ev.packet.length,
      };
  }
}

/** A change of the data plane's state as a dataplane event; `was` is the state before. */
export function toWireDpState(sw: Pick<Switch, 'dpInfo' | 'lastError'>, state: DpStateName, was: DpStateName): { event: Event; size: number } {
  // The pid is the data plane's that is (or was, for a disconnection) connected.
  const live = state === 'connected' || state === 'reconciling' || (state === 'disconnected' && (was === 'connected' || was === 'reconciling'));
  const dataplane: DataplaneEvent = {
    state: dpStateToWire(state),
    reason: state === 'disconnected' ? sw.lastError : '',
    pid: live ? (sw.dpInfo?.pid ?? 0) : 0,
  };
  return { event: { timeUnixNs: nowUnixNs(), dataplane }, size: 96 + (dataplane.reason?.length ?? 0) };
}

interface Subscriber {
  want: Set<EventType>;
  send(m: { event: Event; size: number }): void;
}

export function eventService(sw: Switch, streams = new StreamSet(), limits: EventLimits = EVENT_LIMITS): EventServiceHandlers {
  // One listener on the Switch for every watcher: each event is converted
  // once, whatever the number of clients.
  const subscribers = new Set<Subscriber>();
  let was: DpStateName = sw.dpState;
  const onDpEvent = (ev: DpEvent) => {
    let m: { event: Event; size: number } | undefined;
    for (const s of subscribers) {
      if (!s.want.has(ev.type)) continue;
      m ??= toWireDpEvent(ev, sw.portNames());
      s.send(m);
    }
  };
  const onState = (state: DpStateName) => {
    const before = was;
    was = state;
    let m: { event: Event; size: number } | undefined;
    for (const s of subscribers) {
      if (!s.want.has('dataplane')) continue;
      m ??= toWireDpState(sw, state, before);
      s.send(m);
    }
  };
  sw.on('dpevent', onDpEvent);
  sw.on('state', onState);

  return {
    WatchEvents: (call: ServerWritableStream<WatchEventsRequest__Output, Event>) => {
      let want: Set<EventType>;
      try {
        want = parseEventTypes(call.request.types ?? []);
      } catch (e) {
        call.emit('error', { code: Status.INVALID_ARGUMENT, details: (e as Error).message });
        return;
      }
      let done = false;
      let pendingBytes = 0;
      let unregister: (() => void) | undefined;

      const finish = () => {
        if (done) return;
        done = true;
        subscribers.delete(sub);
        unregister?.();
      };
      const fail = (code: Status, details: string) => {
        if (done) return;
        finish();
        call.emit('error', { code, details });
      };
      const sub: Subscriber = {
        want,
        send(m) {
          if (done) return;
          pendingBytes += m.size;
          call.write(m.event, () => {
            pendingBytes -= m.size;
          });
          const events = call.writableLength > limits.events;
          if (events || pendingBytes > limits.bytes) {
            fail(
              Status.RESOURCE_EXHAUSTED,
              `the client is not reading its events: more than ${events ? `${limits.events} events` : `${Math.round(limits.bytes / 1048576)} MB`} ` +
                'waiting to be sent; stream ended',
            );
          }
        },
      };

      call.on('cancelled', finish);
      call.on('close', finish);
      call.on('error', finish);
      unregister = streams.add(fail);
      if (!done) subscribers.add(sub);
    },
  };
}
