/**
 * switchyard config apply | export: the desired state as one document
 * (YAML or JSON: ports, tables, flows), ConfigService.
 *
 *   config apply FILE      makes the switch exactly what FILE says, all or
 *                          nothing; prints the difference ("+ port p3
 *                          net_ring0", "- flow ...", "~ port p1 mtu 1500 ->
 *                          9000") and a summary; FILE '-' reads stdin
 *   config apply --dry-run the difference only; nothing changes
 *   config export          the running desired state as YAML (--json: JSON;
 *                          -o FILE writes it there); applying it changes
 *                          nothing
 */
import { Client, credentials, ServiceError } from '@grpc/grpc-js';
import { Command } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import type { ApplyConfigResponse__Output } from '../gen/switchyard/v1/ApplyConfigResponse';
import type { ConfigChange__Output } from '../gen/switchyard/v1/ConfigChange';
import type { ExportConfigResponse__Output } from '../gen/switchyard/v1/ExportConfigResponse';
import { explainSecurityError, type ClientSecurity } from '../mgmt/auth';
import { loadProto, MESSAGE_LIMITS } from '../mgmt/proto';
import { CliError, isUnreachable } from './client';
import type { PmdCliContext } from './pmd';

/** What program.ts lends the config commands: the pmd commands' context, and the client's TLS and token. */
export interface ConfigCliContext extends PmdCliContext {
  security: (cmd: Command) => ClientSecurity | undefined;
}

/** A whole document is applied in one call: a large one takes a while. */
const APPLY_TIMEOUT_MS = 10 * 60_000;
const EXPORT_TIMEOUT_MS = 5 * 60_000;

/** ConfigService's client, on the same address, credentials and token as the CLI's other calls. */
class ConfigClient {
  private readonly client: Client;

  constructor(
    private readonly address: string,
    private readonly security?: ClientSecurity,
  ) {
    const v1 = loadProto().proto.switchyard.v1;
    this.client = new v1.ConfigService(address, security?.creds ?? credentials.createInsecure(), { ...MESSAGE_LIMITS, ...security?.options });
  }

  close(): void {
    this.client.close();
  }

  private call<Res>(method: string, req: object, timeoutMs: number): Promise<Res> {
    const fn = (this.client as unknown as Record<string, (...a: unknown[]) => unknown>)[method];
    return new Promise<Res>((resolve, reject) => {
      fn.call(this.client, req, { deadline: Date.now() + timeoutMs }, (err: ServiceError | null, res: Res) => {
        if (!err) return resolve(res);
        const why = explainSecurityError(err, this.address, this.security ?? { tls: false, clientCert: false, token: false });
        if (why) return reject(new CliError(why, err.code));
        if (isUnreachable(err)) {
          return reject(new CliError(`cannot reach switchyardd at ${this.address} (is it running? 'switchyard start' starts it): ${err.details}`, err.code));
        }
        reject(new CliError(err.details || err.message, err.code));
      });
    });
  }

  apply(req: { document: string; format: string; dryRun: boolean; source: string }): Promise<ApplyConfigResponse__Output> {
    return this.call('ApplyConfig', req, APPLY_TIMEOUT_MS);
  }

  export(format: string): Promise<ExportConfigResponse__Output> {
    return this.call('ExportConfig', { format }, EXPORT_TIMEOUT_MS);
  }
}

/** The format a file's name says ("": let the daemon tell). */
function formatOf(path: string): string {
  if (/\.json$/i.test(path)) return 'json';
  if (/\.ya?ml$/i.test(path)) return 'yaml';
  return '';
}

const VERBS: Record<string, [string, string]> = {
  add: ['added', 'to add'],
  delete: ['deleted', 'to delete'],
  modify: ['changed', 'to change'],
};

/**
 * "2 ports added, 1 flow deleted" (or, for a dry run, "2 ports to add, 1
 * flow to delete"), in the order the changes are made.
 */
export function summarize(changes: readonly Pick<ConfigChange__Output, 'kind' | 'op'>[], dryRun: boolean, notListed = 0): string {
  const counts = new Map<string, number>();
  for (const c of changes) counts.set(`${c.kind} ${c.op}`, (counts.get(`${c.kind} ${c.op}`) ?? 0) + 1);
  const parts: string[] = [];
  for (const kind of ['table', 'meter', 'port', 'group', 'mirror', 'flow']) {
    for (const op of ['delete', 'add', 'modify']) {
      const n = counts.get(`${kind} ${op}`);
      if (!n) continue;
      const noun = `${kind}${n === 1 ? '' : 's'}`;
      parts.push(dryRun ? `${n} ${noun} ${VERBS[op][1]}` : `${n} ${noun} ${VERBS[op][0]}`);
    }
  }
  if (notListed) parts.push(`${notListed} more change${notListed === 1 ? '' : 's'} not listed`);
  return parts.join(', ');
}

function readDocument(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read ${file === '-' ? 'standard input' : file}: ${(e as Error).message}`);
  }
}

export function addConfigCommands(c: ConfigCliContext): void {
  let client: ConfigClient | null = null;
  const configClient = (cmd: Command) => (client ??= new ConfigClient(c.api(cmd).address, c.security(cmd)));
  const closing = <A extends unknown[]>(fn: (...a: A) => Promise<void>) => async (...a: A) => {
    try {
      await fn(...a);
    } finally {
      client?.close();
      client = null;
    }
  };

  const config = c.noun('config', 'the desired state as one document (YAML or JSON): apply, export', 'apply, export');
  config
    .command('apply')
    .description('make the switch what a document says (ports, tables, flows), all or nothing')
    .argument('<file>', "YAML or JSON {ports, tables, flows}; '-' reads standard input")
    .option('--dry-run', 'print the difference only; change nothing')
    .action(
      closing(async (file: string, o: { dryRun?: boolean }, cmd: Command) => {
        const document = readDocument(file);
        const source = file === '-' ? '<stdin>' : file;
        const dryRun = o.dryRun === true;
        const r = await configClient(cmd).apply({ document, format: file === '-' ? '' : formatOf(file), dryRun, source });
        const diff = r.diff.split('\n').filter((l) => l !== '');
        const notListed = Number(/^\.\.\. and (\d+) more change/.exec(diff[diff.length - 1] ?? '')?.[1] ?? 0);
        const summary = r.changes.length === 0 ? `no changes: the running state already matches ${source}` : summarize(r.changes, dryRun, notListed);
        const json = {
          applied: r.applied,
          dryRun,
          summary,
          changes: r.changes.map((x) => ({ kind: x.kind, op: x.op, name: x.name, before: x.before, after: x.after })),
          diff,
        };
        c.print(cmd, json, () => {
          if (r.changes.length === 0) return `${summary}\n`;
          const head = dryRun ? `dry run, nothing changed: ${summary}` : `applied: ${summary}`;
          return r.diff + head + '\n';
        });
      }),
    );
  config
    .command('export')
    .description('print the running desired state in the format config apply reads (YAML; --json: JSON)')
    .option('-o, --output <file>', 'write it to FILE instead')
    .action(
      closing(async (o: { output?: string }, cmd: Command) => {
        const format = c.globals(cmd).json || (o.output !== undefined && formatOf(o.output) === 'json') ? 'json' : 'yaml';
        const r = await configClient(cmd).export(format);
        if (o.output === undefined || o.output === '-') {
          c.io.out(r.document);
          return;
        }
        try {
          writeFileSync(o.output, r.document);
        } catch (e) {
          throw new CliError(`cannot write ${o.output}: ${(e as Error).message}`);
        }
        c.io.err(`wrote the desired state to ${o.output} (${r.format})\n`);
      }),
    );
}
