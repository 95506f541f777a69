/**
 * `npm run bench:render`: writes docs/bench/README.md and its plots again from
 * docs/bench/report.json (after a change to the report's wording or plots),
 * without running the benchmark.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeReport } from './support/report.ts';

const dir = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'bench'));
const written = writeReport(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')), dir);
console.log(`written ${written.join(', ')} in ${dir}`);
