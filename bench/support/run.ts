/**
 * What every standalone benchmark (bench:orders, bench:saga,
 * bench:subscriptions) does around its own work: a run id and a seeded
 * random source, the machine and its load at the start, the system booted;
 * then the JSON summary written to `--out` and the console lines printed,
 * the system torn down on success and on failure alike, and the exit code.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { boot, log, type BootOptions, type Booted } from './boot.ts';
import { cpuReference, loadAverage, machineInfo } from './proc.ts';
import { prng } from './stats.ts';

export interface BenchRun {
  booted: Booted;
  runId: string;
  random: () => number;
  /** The machine, its load and the reference work's time at the start. */
  machine: ReturnType<typeof machineAtStart>;
  /** The same with the load and reference work at the end: call it once the measurement is over. */
  machineAtEnd(): ReturnType<typeof machineAtStart> & {
    loadAtEnd: ReturnType<typeof loadAverage>;
    cpuReferenceAtEnd: ReturnType<typeof cpuReference>;
  };
  /**
   * The JSON summary every benchmark writes: its name, the time, the machine
   * at the end, the target system (mode, gateway, PostgreSQL) with the
   * benchmark's own `config`, then its `sections` (results…).
   */
  summaryOf<C extends object, S extends object>(benchmark: string, config: C, sections: S): SummaryOf<C, S>;
}

type SummaryOf<C, S> = {
  benchmark: string;
  timestamp: string;
  machine: ReturnType<BenchRun['machineAtEnd']>;
  config: { target: string; gateway: string; postgres: Booted['postgres'] } & C;
} & S;

export interface BenchResult {
  summary: object;
  /** Console lines; the runner adds where the summary went, with `pad` as the label's width. */
  lines: string[];
  pad: (label: string) => string;
}

const machineAtStart = () => ({ ...machineInfo(), loadAtStart: loadAverage(), cpuReferenceAtStart: cpuReference() });

export function runBenchmark(
  flags: BootOptions & { seed: number; out: string },
  body: (run: BenchRun) => Promise<BenchResult>,
): void {
  const main = async () => {
    const machine = machineAtStart();
    const booted = await boot(flags);
    try {
      const run: BenchRun = {
        booted,
        runId: randomBytes(3).toString('hex'),
        random: prng(flags.seed),
        machine,
        machineAtEnd: () => ({ ...machine, loadAtEnd: loadAverage(), cpuReferenceAtEnd: cpuReference() }),
        summaryOf: (benchmark, config, sections) => ({
          benchmark,
          timestamp: new Date().toISOString(),
          machine: run.machineAtEnd(),
          config: { target: booted.stack.mode, gateway: booted.stack.gatewayUrl, postgres: booted.postgres, ...config },
          ...sections,
        }),
      };
      const { summary, lines, pad } = await body(run);
      await booted.cleanup();
      mkdirSync(dirname(flags.out), { recursive: true });
      writeFileSync(flags.out, `${JSON.stringify(summary, null, 2)}\n`);
      process.stdout.write(`${lines.join('\n')}\n${pad('written')}${flags.out}\n`);
      return 0;
    } catch (err) {
      log(`failed: ${(err as Error).stack ?? String(err)}`);
      await booted.cleanup();
      return 1;
    }
  };
  main().then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
