// Generates the Prisma clients of every subgraph without network access.
// `prisma generate` only needs the schema engine to validate, and tries to
// download it; a dummy path stops the download and generation works offline.
// Migrations never use that dummy: see packages/common/src/migrate.ts.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const prismaBin = join(root, 'node_modules', 'prisma', 'build', 'index.js');
if (!existsSync(prismaBin)) {
  console.log('prisma-generate: prisma CLI not installed yet, skipping');
  process.exit(0);
}
// The path must exist; it is never run by `generate`, and fails loudly if it is.
const dummyEngine = join(root, 'node_modules', '.prisma-offline', 'schema-engine');
mkdirSync(dirname(dummyEngine), { recursive: true });
writeFileSync(dummyEngine, '#!/bin/sh\necho "offline placeholder: use scripts/migrate" >&2\nexit 1\n');
chmodSync(dummyEngine, 0o755);
const env = {
  ...process.env,
  PRISMA_SCHEMA_ENGINE_BINARY: dummyEngine,
  PRISMA_HIDE_UPDATE_MESSAGE: '1',
  CHECKPOINT_DISABLE: '1',
};
let failed = false;
for (const service of ['auth', 'orders', 'products', 'shipments']) {
  const dir = join(root, 'subgraphs', service);
  const schema = join(dir, 'prisma', 'schema.prisma');
  if (!existsSync(schema)) continue;
  const r = spawnSync(process.execPath, [prismaBin, 'generate', '--schema', schema], {
    cwd: dir,
    env,
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    console.error(`prisma-generate: ${service} failed`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
