import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/**
 * The import boundaries of issue 11 are eslint rules (eslint.config.js), so `npm run lint` fails in CI
 * on a violation. This checks the rules themselves: a domain file, the saga's declaration or a contract
 * that imports a mechanism is refused, and what they may import is accepted.
 */
const eslint = new ESLint();

async function restricted(filePath: string, importLine: string): Promise<boolean> {
  const [result] = await eslint.lintText(`${importLine}\nexport const y = x;\n`, { filePath });
  return result.messages.some((m) => m.ruleId === 'no-restricted-imports');
}

describe('import boundaries', () => {
  it('domain/ and saga/ import only the contracts, their own folder and pure libraries', async () => {
    for (const file of ['subgraphs/orders/src/domain/x.ts', 'subgraphs/orders/src/saga/x.ts']) {
      for (const refused of [
        "import { sqlPool as x } from '@orderflow/common/db';",
        "import type { Order as x } from '../db.ts';",
        "import { insertPlacedOrder as x } from '../store/orders-store.ts';",
        "import { x } from './a/../../service/place-order.ts';",
        "import x from 'pg';",
        "import { connect as x } from 'nats';",
        "import { request as x } from 'node:http';",
      ])
        expect(await restricted(file, refused), `${file}: ${refused}`).toBe(true);
      for (const allowed of [
        "import { formatCents as x } from '@orderflow/contracts';",
        "import { ISO_COUNTRIES as x } from './countries.ts';",
        "import { createHash as x } from 'node:crypto';",
      ])
        expect(await restricted(file, allowed), `${file}: ${allowed}`).toBe(false);
    }
  });

  it('the contracts import nothing that does I/O', async () => {
    const file = 'packages/contracts/src/x.ts';
    expect(await restricted(file, "import { createEvent as x } from '@orderflow/common/messaging';")).toBe(true);
    expect(await restricted(file, "import x from 'pg';")).toBe(true);
    expect(await restricted(file, "import { z as x } from 'zod';")).toBe(false);
    expect(await restricted(file, "import { SCOPES as x } from './scopes.ts';")).toBe(false);
  });
});
