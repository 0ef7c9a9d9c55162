/**
 * The baseline of the fast-path benchmark: dpdk-testpmd in io mode from a
 * pcap file (net_pcap, infinite_rx) into net_null, on one forwarding lcore:
 *
 *   stdbuf -oL dpdk-testpmd -l 0,1 --no-huge -m 2048 --no-pci --file-prefix bn-...
 *     --vdev net_pcap0,rx_pcap=FILE,infinite_rx=1 --vdev net_null0,no-rx=1 --
 *     --forward-mode=io --auto-start --stats-period S --nb-cores 1 --total-num-mbufs N
 *
 * io mode moves each received burst to the other port untouched: the cost
 * of the ports and a forwarding loop, nothing else. Its Rx-pps (port 0) per
 * stats period is the rate. No stdin; SIGINT stops it.
 */
import { promises as fs } from 'node:fs';
import { TESTPMD } from '../../test/helpers/guests';
import { forgetDir, spawnTracked, trackDir } from './cleanup';
import { testpmdRxPps, waitUntil } from './measure';

export interface IoOptions {
  prefix: string;
  pcap: string;
  mbufs: number;
  /** seconds between testpmd's statistics (the sampling window) */
  statsPeriodS: number;
  lcores?: string;
  memMb?: number;
}

export interface Testpmd {
  argv: string[];
  output(): string;
  stop(): Promise<void>;
}

export function startTestpmdIo(o: IoOptions): Testpmd {
  const argv = [
    '-oL', TESTPMD,
    '-l', o.lcores ?? '0,1',
    '--no-huge', '-m', String(o.memMb ?? 2048), '--no-pci',
    '--file-prefix', o.prefix,
    '--vdev', `net_pcap0,rx_pcap=${o.pcap},infinite_rx=1`,
    '--vdev', 'net_null0,no-rx=1',
    '--',
    '--forward-mode=io', '--auto-start',
    '--stats-period', String(o.statsPeriodS),
    '--nb-cores', '1',
    '--total-num-mbufs', String(o.mbufs),
  ];
  const proc = spawnTracked('stdbuf', argv, 400_000);
  const runDpdk = `/var/run/dpdk/${o.prefix}`;
  trackDir(runDpdk);
  return {
    argv: ['stdbuf', ...argv],
    output: proc.output,
    async stop() {
      await proc.stop('SIGINT', 10_000);
      await fs.rm(runDpdk, { recursive: true, force: true });
      forgetDir(runDpdk);
    },
  };
}

/**
 * Runs testpmd io on the file and returns `windows` Rx-pps samples of
 * statsPeriodS each, after warmupS seconds of forwarding.
 */
export async function measureTestpmdIo(o: IoOptions & { warmupS: number; windows: number }): Promise<{ samples: number[]; argv: string[] }> {
  const t = startTestpmdIo(o);
  try {
    await waitUntil(
      'testpmd to forward',
      async () => {
        if (/EAL: Error|Fail|Cannot|exiting/i.test(t.output()) && !/forwarding packets/i.test(t.output())) throw new Error(`testpmd failed:\n${t.output().slice(-3000)}`);
        return /Start automatic packet forwarding|forwarding packets/i.test(t.output());
      },
      60_000,
      100,
    );
    // Two ports print per period (pcap, null): sum their Rx-pps (null's is 0 with no-rx=1).
    const samples = await testpmdRxPps(t.output, { warmupS: o.warmupS, samples: o.windows, ports: 2 });
    return { samples, argv: t.argv };
  } finally {
    await t.stop();
  }
}
