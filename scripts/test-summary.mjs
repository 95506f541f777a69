// Prints vitest's JSON reports as the plain last line CI reads: "N passed, N failed".
// `npm test` writes two reports (the main suite, then the chaos suite); the counts are summed.
// A missing or unreadable report (that run never got to vitest) counts as one failure.
import { readFileSync } from 'node:fs';

const files = process.argv.length > 2 ? process.argv.slice(2) : ['.vitest-tmp/results.json', '.vitest-tmp/chaos-results.json'];
let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of files) {
  try {
    const r = JSON.parse(readFileSync(file, 'utf8'));
    const failedSuites = (r.testResults ?? []).filter((s) => s.status === 'failed' && (s.assertionResults ?? []).length === 0).length;
    passed += r.numPassedTests;
    failed += r.numFailedTests + failedSuites;
    skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  } catch {
    failed += 1;
  }
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
