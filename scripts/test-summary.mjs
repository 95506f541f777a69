// Prints vitest's JSON reports as the plain last line CI reads: "N passed, N failed".
// `npm test` writes three reports (the main suite, the hostile suite, the chaos suite); the counts are summed.
// A missing or unreadable report (that run never got to vitest) counts as one failure.
// `--status N` is the test command's exit status: a failed run whose reports show
// no failed test (vitest exits 1 on an unhandled error outside any test, which its
// JSON report does not list) counts as one failure, so the last line never says
// "0 failed" for a red run.
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const statusAt = args.indexOf('--status');
const status = statusAt >= 0 ? Number(args.splice(statusAt, 2)[1]) : 0;
const files =
  args.length > 0
    ? args
    : ['.vitest-tmp/results.json', '.vitest-tmp/hostile-results.json', '.vitest-tmp/chaos-results.json'];
let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of files) {
  try {
    const r = JSON.parse(readFileSync(file, 'utf8'));
    const failedSuites = (r.testResults ?? []).filter(
      (s) => s.status === 'failed' && (s.assertionResults ?? []).length === 0,
    ).length;
    passed += r.numPassedTests;
    failed += r.numFailedTests + failedSuites;
    skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  } catch {
    failed += 1;
  }
}
if (status !== 0 && failed === 0) {
  console.log(
    `the test command exited with ${status} although no test failed: an error outside the tests (see "Unhandled Errors" above)`,
  );
  failed = 1;
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
