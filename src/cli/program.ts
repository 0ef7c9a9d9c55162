/**
 * The switchyard CLI: noun then verb, a thin shell over the gRPC client.
 *
 *   switchyard [--server HOST:PORT] [--json] <command>
 *   start | stop | status
 *   port add|set|del|list|stats     flow add|mod|del|dump
 *   table list|set                  stats
 *   pmd stats|clear (pmd.ts)      config apply|export (config.ts)
 *   top | events | port stats --watch (watch.ts)
 *   trace (trace.ts)
 *   group add|mod|del|list|stats (group.ts)
 *   meter add|mod|del|list|stats (meter.ts)
 *   filter add|del|list (filter.ts)
 *
 * Human tables by default, --json for scripts (shapes in output.ts). On
 * failure: one line `switchyard: <message>` on stderr, exit status 1; the
 * message is the daemon's status details.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { splitFlowFile, splitFlowText } from '../flowspec';
import type { Flow } from '../gen/switchyard/v1/Flow';
import type { FlowEntry__Output } from '../gen/switchyard/v1/FlowEntry';
import { packageVersion } from '../mgmt/version';
import { ClientSecurity, ClientSecurityOptions, loadClientSecurity, TOKEN_ENV } from '../mgmt/auth';
import { Api, CliError, DEFAULT_SERVER } from './client';
import {
  flowExportLine,
  flowJson,
  portJson,
  portsTable,
  portStatsJson,
  portStatsTable,
  statsJson,
  statsText,
  statusJson,
  statusText,
  tableJson,
  tablesTable,
} from './output';
import { BondOptions, bondRequest } from './bond';
import { EdgeOptions, nshTagRequest, vlanRequest } from './edge';
import { hasQosOptions, QosOptions, qosRequest } from './qos';
import { addConfigCommands } from './config';
import { addGroupCommands } from './group';
import { addPmdCommands } from './pmd';
import { addFilterCommands } from './filter';
import { addMeterCommands } from './meter';
import { addMirrorCommands } from './mirror';
import { addTraceCommand } from './trace';
import { addWatchCommands, watchPortStats } from './watch';
import { Io, startDaemon, StartOptions, stopDaemon } from './start';

interface Globals extends ClientSecurityOptions {
  server: string;
  json: boolean;
}

/** The client's TLS and token from the global options (auth.ts); files are read here. */
function clientSecurity(g: Globals, address = g.server): ClientSecurity {
  const { tlsCa, tlsCert, tlsKey, tokenFile, serverName } = g;
  return loadClientSecurity(address, { tlsCa, tlsCert, tlsKey, tokenFile, serverName });
}

function intArg(name: string, min: number, max: number) {
  return (v: string): number => {
    if (!/^[0-9]+$/.test(v) || Number(v) < min || Number(v) > max) {
      throw new InvalidArgumentError(`expected ${name} ${min}..${max}`);
    }
    return Number(v);
  };
}

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

/** Parses `flow add/mod` arguments into Flow messages (match and actions split at actions=). */
function flowsFromArgs(texts: string[]): Flow[] {
  return texts.map((t) => {
    const { match, actions } = splitFlowText(t);
    if (actions === undefined) throw new CliError(`flow '${t}' has no actions: end it with actions=... (actions=drop to drop)`);
    return { match, actions };
  });
}

export function buildProgram(io: Io, state: { code: number; api: Api | null }): Command {
  const program = new Command('switchyard');
  const globals = (cmd: Command): Globals => cmd.optsWithGlobals() as Globals;
  const api = (cmd: Command): Api => (state.api ??= new Api(globals(cmd).server, undefined, clientSecurity(globals(cmd))));
  const print = (cmd: Command, json: unknown, human: () => string) => {
    io.out(globals(cmd).json ? JSON.stringify(json, null, 2) + '\n' : human());
  };

  program
    .description('Switchyard, a DPDK flow-based virtual switch: command-line client of switchyardd')
    .version(packageVersion())
    .addOption(new Option('--server <host:port>', 'switchyardd address').env('SWITCHYARD_SERVER').default(DEFAULT_SERVER))
    .option('--json', 'machine-readable output', false)
    .addOption(new Option('--tls-ca <file>', "talk TLS, verifying switchyardd's certificate with this CA").env('SWITCHYARD_TLS_CA'))
    .addOption(new Option('--tls-cert <file>', 'client certificate, for a switchyardd that requires one (mutual TLS)').env('SWITCHYARD_CLIENT_CERT'))
    .addOption(new Option('--tls-key <file>', 'private key of --tls-cert').env('SWITCHYARD_CLIENT_KEY'))
    .addOption(new Option('--token-file <file>', `bearer token for switchyardd (or env ${TOKEN_ENV})`).env('SWITCHYARD_TOKEN_FILE'))
    .addOption(new Option('--server-name <name>', "the name in switchyardd's certificate, if not the --server host").env('SWITCHYARD_SERVER_NAME'))
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s),
      writeErr: (s) => io.err(s),
      outputError: () => undefined, // printed once, as one line, by run()
    });

  const noun = (name: string, description: string, verbs: string) => {
    const c = program.command(name).description(description);
    c.argument('[command]').action((sub: string | undefined) => {
      throw new CliError(sub ? `unknown command '${name} ${sub}' (${name} commands: ${verbs})` : `${name}: expected a command: ${verbs}`);
    });
    return c;
  };

  // ---------------------------------------------------------------- start, stop, status

  program
    .command('start')
    .description('start switchyardd (and through it switchyard-dp); wait until it serves')
    .option('--config <file>', 'JSON/YAML {ports:[{name,devargs,id?,mtu?}], tables:[...], flows:[text...]} applied at start')
    .option('--port <name=devargs>', 'port to add at start (repeatable)', collect, [])
    .option('--flow <text>', 'flow to add at start (repeatable)', collect, [])
    .option('--foreground', 'run switchyardd in this terminal, logging to stderr')
    .option('--demo', 'run the demo topology in the foreground; Ctrl-C stops and removes it')
    .option('--state <file>', 'desired-state file (switchyardd --state)')
    .option('--run-dir <dir>', 'run directory (switchyardd --run-dir)')
    .option('--listen <host:port>', 'gRPC address of the daemon (default: --server)')
    .option('--server-cert <file>', "the daemon's TLS certificate (switchyardd --tls-cert); this command then needs --tls-ca")
    .option('--server-key <file>', "the daemon's TLS key (switchyardd --tls-key)")
    .option('--client-ca <file>', 'the daemon requires client certificates signed by this CA (switchyardd --tls-client-ca)')
    .option('--lcores <list>', 'EAL core list of switchyard-dp')
    .option('--file-prefix <name>', 'EAL --file-prefix of switchyard-dp')
    .option('--pmd-sleep-max <us>', 'longest idle sleep of a forwarding lcore (0: pure polling)')
    .option('--max-flows <n>', 'flow entries in the whole switch (switchyardd --max-flows)')
    .option('--controller-rate <n>', 'packet-ins per second (switchyardd --controller-rate; default 1000)')
    .option('--dp-binary <path>', 'switchyard-dp to launch')
    .option('--dp-socket <path>', 'data-plane control socket')
    .option('--eal-args <args>', 'more EAL arguments')
    .option('--no-launch', 'connect to a running switchyard-dp, never launch one')
    .option('--log-level <level>', 'switchyardd log level')
    .option('--metrics <host:port>', 'serve Prometheus metrics at http://HOST:PORT/metrics (switchyardd --metrics; loopback only)')
    .option('--timeout <seconds>', 'how long to wait for the daemon to serve', '30')
    .action(async (o: StartOptions, cmd: Command) => {
      const g = globals(cmd);
      state.code = await startDaemon({ ...o, tokenFile: g.tokenFile }, g.server, g.json, io, (address) => clientSecurity(g, address));
    });

  program
    .command('stop')
    .description('stop switchyardd and switchyard-dp')
    .option('--keep-dataplane', 'stop only the daemon; the data plane keeps forwarding')
    .action(async (o: { keepDataplane?: boolean }, cmd: Command) => {
      const g = globals(cmd);
      state.code = await stopDaemon(g.server, o.keepDataplane === true, g.json, io, clientSecurity(g));
    });

  program
    .command('status')
    .description('daemon and data-plane status')
    .action(async (_o, cmd: Command) => {
      const s = await api(cmd).status();
      print(cmd, statusJson(s), () => statusText(s));
    });

  // ---------------------------------------------------------------- ports

  const port = noun('port', 'switch ports', 'add, set, del, list, stats');
  port
    .command('add')
    .description('attach a DPDK device as a port')
    .argument('<name>', 'port name (a letter first)')
    .argument('[devargs]', 'DPDK devargs, e.g. net_tap0,iface=sy0 (a bond: its device name, default net_bonding_NAME)')
    .option('--id <n>', 'port number (default: the lowest free)', intArg('a port number', 1, 0xffffff00))
    .option('--mtu <n>', 'MTU', intArg('an MTU', 64, 65535))
    .option('--down', 'leave it administratively down')
    .option('--rxq <n>', 'rx queues, spread over the PMD lcores (RSS; net_af_packet: its qpairs=)', intArg('a queue count', 1, 16))
    .option('--bond <mode>', 'make a bond of the --member devices: active-backup, balance-xor, round-robin or broadcast')
    .option('--member <devargs>', 'a member device of the bond (repeat for each)', collect, [])
    .option('--xmit-policy <policy>', 'balance-xor: hash l2 (MACs, default), l23 (+ IP) or l34 (IP + ports)')
    .option('--primary <device>', 'active-backup: the preferred member, by device name (e.g. net_af_packet0)')
    .option('--vlan-mode <mode>', 'VLAN partitions: access (one VID: --tag) or trunk (--trunks, --native-vlan)')
    .option('--tag <vid>', 'access: the VID untagged frames received get and frames sent lose (1..4094)')
    .option('--trunks <vids>', 'trunk: allowed VIDs, e.g. 10,20-30 (default: all)')
    .option('--native-vlan <vid>', 'trunk: the VID of untagged frames (sent untagged)')
    .option('--nsh-tag <spec>', 'push NSH on everything received, pop it toward the port: spi=N[,si=255][,ttl=63][,c1=N..c4=N]')
    .option('--egress-rate <rate>', 'egress rate limit: 100mbit, 1gbit, or kbit/s (0: none)')
    .option('--egress-burst <size>', 'its burst: 512kbit, 64kb (kilobytes), or kbit (default 100 ms of the rate)')
    .option('--queue <n=rate[/size]>', 'rate of queue N (0..7) for set_queue:N (repeat; 0: packets without set_queue)', collect, [])
    .action(async (name: string, devargs: string | undefined, o: { id?: number; mtu?: number; down?: boolean; rxq?: number } & BondOptions & EdgeOptions & QosOptions, cmd: Command) => {
      const bond = bondRequest(o);
      if (devargs === undefined && !bond) throw new CliError("port add: missing argument 'devargs' (or --bond MODE with --member DEVARGS)");
      const vlan = vlanRequest(o);
      const nshTag = nshTagRequest(o) ?? undefined;
      const qos = qosRequest(o);
      const p = await api(cmd).addPort({ name, devargs: devargs ?? '', id: o.id, mtu: o.mtu, adminUp: o.down ? false : undefined, nRxq: o.rxq, bond, vlan, nshTag, ...(qos ? { qos } : {}) });
      print(cmd, portJson(p), () => portsTable([p]));
    });
  port
    .command('set')
    .description('change a port')
    .argument('<port>', 'name or number')
    .option('--mtu <n>', 'MTU', intArg('an MTU', 64, 65535))
    .option('--up', 'administratively up')
    .option('--down', 'administratively down')
    .option('--rxq <n>', 'rx queues, spread over the PMD lcores (the port restarts)', intArg('a queue count', 1, 16))
    .option('--vlan-mode <mode>', 'access (--tag), trunk (--trunks, --native-vlan) or none (removes the VLAN mode)')
    .option('--tag <vid>', 'access: the port\'s VID (1..4094)')
    .option('--trunks <vids>', 'trunk: allowed VIDs, e.g. 10,20-30 (default: all)')
    .option('--native-vlan <vid>', 'trunk: the VID of untagged frames')
    .option('--nsh-tag <spec>', 'NSH port tag: spi=N[,si=255][,ttl=63][,c1=N..c4=N]')
    .option('--no-nsh-tag', 'remove the NSH port tag')
    .option('--egress-rate <rate>', 'egress rate limit (replaces the port\'s QoS): 100mbit, 1gbit, or kbit/s (0: none)')
    .option('--egress-burst <size>', 'its burst: 512kbit, 64kb (kilobytes), or kbit (default 100 ms of the rate)')
    .option('--queue <n=rate[/size]>', 'rate of queue N (0..7) for set_queue:N (repeat; 0: packets without set_queue)', collect, [])
    .action(async (ref: string, o: { mtu?: number; up?: boolean; down?: boolean; rxq?: number } & EdgeOptions & QosOptions, cmd: Command) => {
      if (o.up && o.down) throw new CliError('--up and --down exclude each other');
      const vlan = vlanRequest(o);
      const nshTag = nshTagRequest(o);
      if (o.mtu === undefined && !o.up && !o.down && o.rxq === undefined && vlan === undefined && nshTag === undefined && !hasQosOptions(o)) {
        throw new CliError('port set: nothing to change (--mtu, --up, --down, --rxq, --vlan-mode, --nsh-tag, --no-nsh-tag, --egress-rate or --queue)');
      }
      const qos = qosRequest(o);
      const p = await api(cmd).updatePort({
        port: ref,
        mtu: o.mtu,
        adminUp: o.up ? true : o.down ? false : undefined,
        nRxq: o.rxq,
        vlan,
        ...(nshTag === null ? { clearNshTag: true } : nshTag ? { nshTag } : {}),
        ...(qos ? { qos } : {}),
      });
      print(cmd, portJson(p), () => portsTable([p]));
    });
  port
    .command('del')
    .alias('delete')
    .description('detach a port (flows that use it stay)')
    .argument('<port>', 'name or number')
    .action(async (ref: string, _o, cmd: Command) => {
      await api(cmd).deletePort(ref);
      print(cmd, { deleted: ref }, () => `deleted port ${ref}\n`);
    });
  port
    .command('list')
    .alias('ls')
    .description('ports and their state')
    .action(async (_o, cmd: Command) => {
      const { ports } = await api(cmd).listPorts();
      print(cmd, ports.map(portJson), () => portsTable(ports));
    });
  port
    .command('stats')
    .description('port counters, drops by reason')
    .argument('[port]', 'name or number (default: every port)')
    .option('--clear', 'reset the counters instead of showing them')
    .option('--watch [seconds]', 'rates (pps, bit/s, drops/s) every SECONDS (default 1), redrawn in place until Ctrl-C')
    .action(async (ref: string | undefined, o: { clear?: boolean; watch?: string | boolean }, cmd: Command) => {
      if (o.watch !== undefined) {
        if (o.clear) throw new CliError('--watch and --clear exclude each other');
        return watchPortStats(api(cmd), io, ref, o.watch, globals(cmd).json);
      }
      if (o.clear) {
        await api(cmd).clearPortStats(ref ?? '');
        print(cmd, { cleared: ref ?? 'all' }, () => `cleared the counters of ${ref ? `port ${ref}` : 'every port'}\n`);
        return;
      }
      const { stats } = await api(cmd).portStats(ref ?? '');
      print(cmd, stats.map(portStatsJson), () => portStatsTable(stats));
    });

  // ---------------------------------------------------------------- flows

  const flow = noun('flow', 'flow entries, in ovs-ofctl syntax', 'add, mod, del, dump');
  flow
    .command('add')
    .description('add flows (one batch, all or nothing)')
    .argument('[flows...]', "e.g. 'table=0,priority=100,ip,in_port=p1,actions=output:p2'")
    .option('--file <file>', 'a flow file: one flow per line, # comments, \\ continues; lines may start with add/modify/delete[_strict]')
    .action(async (texts: string[], o: { file?: string }, cmd: Command) => {
      let changed: number;
      if (o.file) {
        if (texts.length) throw new CliError('give flows either as arguments or with --file, not both');
        let content: string;
        try {
          content = readFileSync(o.file, 'utf8');
        } catch (e) {
          throw new CliError(`cannot read ${o.file}: ${(e as Error).message}`);
        }
        const lines = splitFlowFile(content);
        if (lines.length === 0) throw new CliError(`${o.file}: no flows`);
        try {
          ({ changed } = await api(cmd).applyFlows({ lines: lines.map((l) => l.text) }));
        } catch (e) {
          if (!(e instanceof CliError)) throw e;
          const m = /^flow #([0-9]+): ([\s\S]*)$/.exec(e.message);
          const at = m ? lines[Number(m[1]) - 1] : lines.length === 1 && !/cannot reach/.test(e.message) ? lines[0] : undefined;
          if (at) throw new CliError(`${o.file}:${at.line}: ${m ? m[2] : e.message}`, e.code);
          throw e;
        }
      } else {
        if (!texts.length) throw new CliError('flow add: give a flow, or --file FILE');
        ({ changed } = await api(cmd).addFlows(flowsFromArgs(texts)));
      }
      print(cmd, { changed }, () => `${changed} flow${changed === 1 ? '' : 's'} ${o.file ? 'changed' : 'added'}\n`);
    });
  flow
    .command('mod')
    .alias('modify')
    .description('new actions for the flows a match covers')
    .argument('<flow>', "match and actions, e.g. 'ip,in_port=p1,actions=drop'")
    .option('--strict', 'only the flow of exactly this match and priority')
    .action(async (text: string, o: { strict?: boolean }, cmd: Command) => {
      const { changed } = await api(cmd).modifyFlows(flowsFromArgs([text]), o.strict === true);
      print(cmd, { changed }, () => `${changed} flow${changed === 1 ? '' : 's'} modified\n`);
    });
  flow
    .command('del')
    .alias('delete')
    .description('delete the flows a match covers (no match: every flow)')
    .argument('[match]', "e.g. 'ip,nw_src=10.0.0.0/24' (may carry table=, priority=, cookie=V/M, out_port=)")
    .option('--strict', 'only the flow of exactly this match and priority')
    .option('--table <n>', 'only this table', intArg('a table', 0, 254))
    .action(async (match: string | undefined, o: { strict?: boolean; table?: number }, cmd: Command) => {
      const { changed } = await api(cmd).deleteFlows({ match: match ?? '', strict: o.strict === true, tableId: o.table });
      print(cmd, { changed }, () => `${changed} flow${changed === 1 ? '' : 's'} deleted\n`);
    });
  flow
    .command('dump')
    .description('flow entries with their counters')
    .argument('[match]', 'only the flows this match covers')
    .option('--table <n>', 'only this table', intArg('a table', 0, 254))
    .option('--export', 'print in the add-flows form (for flow add --file)')
    .action(async (match: string | undefined, o: { table?: number; export?: boolean }, cmd: Command) => {
      const req = { match: match ?? '', tableId: o.table };
      if (globals(cmd).json) {
        const flows: FlowEntry__Output[] = [];
        await api(cmd).streamFlows(req, (chunk) => flows.push(...chunk));
        print(cmd, flows.map(flowJson), () => '');
      } else {
        // printed as the messages arrive: a million entries never sit in memory at once
        const line = o.export ? flowExportLine : (f: FlowEntry__Output) => f.text;
        await api(cmd).streamFlows(req, (chunk) => io.out(chunk.map((f) => line(f) + '\n').join('')));
      }
    });

  // ---------------------------------------------------------------- tables, statistics

  const tbl = noun('table', 'flow tables', 'list, set');
  tbl
    .command('list')
    .alias('ls')
    .description('tables that hold flows or have settings')
    .action(async (_o, cmd: Command) => {
      const { tables } = await api(cmd).listTables();
      print(cmd, tables.map(tableJson), () => tablesTable(tables));
    });
  tbl
    .command('set')
    .description("set a table's name, miss behaviour and flow limit")
    .argument('<id>', 'table number 0..254', intArg('a table', 0, 254))
    .option('--name <name>', 'table name')
    .addOption(new Option('--miss <behaviour>', 'what a miss does').choices(['drop', 'continue', 'controller']))
    .option('--max-flows <n>', 'most entries the table may hold (0: no limit but the switch-wide one)', intArg('a flow count', 0, 0xffffffff))
    .action(async (id: number, o: { name?: string; miss?: string; maxFlows?: number }, cmd: Command) => {
      if (o.name === undefined && o.miss === undefined && o.maxFlows === undefined) {
        throw new CliError('table set: nothing to change (--name, --miss or --max-flows)');
      }
      const t = await api(cmd).updateTable({
        id,
        name: o.name,
        miss: o.miss ? (`TABLE_MISS_${o.miss.toUpperCase()}` as 'TABLE_MISS_DROP') : 'TABLE_MISS_UNSPECIFIED',
        maxFlows: o.maxFlows,
      });
      print(cmd, tableJson(t), () => tablesTable([t]));
    });

  program
    .command('stats')
    .description('datapath totals and drops by reason')
    .action(async (_o, cmd: Command) => {
      const s = await api(cmd).datapathStats();
      print(cmd, statsJson(s), () => statsText(s));
    });

  addPmdCommands({ program, noun, api, print, globals, io, state });
  addMeterCommands({ noun, api, print });
  addFilterCommands({ noun, api, print });
  addMirrorCommands({ noun, api, print });
  addTraceCommand({ program, api, print });
  addGroupCommands({ program, noun, api, print, globals, io, state });
  addWatchCommands({ program, noun, api, print, globals, io, state });
  addConfigCommands({ program, noun, api, print, globals, io, state, security: (cmd) => clientSecurity(globals(cmd)) });

  return program;
}

/** Runs the CLI; resolves with the exit status. Never throws. */
export async function run(argv: string[], io: Io): Promise<number> {
  const state: { code: number; api: Api | null } = { code: 0, api: null };
  const program = buildProgram(io, state);
  try {
    await program.parseAsync(argv);
    return state.code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
      if (e.code === 'commander.help' || e.code === 'commander.executeSubCommandAsync') return e.exitCode;
      io.err(`switchyard: ${e.message.replace(/^error: /, '')}\n`);
      return 1;
    }
    io.err(`switchyard: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  } finally {
    state.api?.close();
  }
}
