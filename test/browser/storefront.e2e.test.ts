import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  PLACE_ORDER,
  buildOrderInput,
  createProduct,
  eventually,
  startSystem,
  type System,
} from '../support/system.ts';
import { launchChromium } from './chromium.ts';
import { REPO_ROOT, buildStorefront, startStorefrontServer, type StorefrontServer } from './storefront-server.ts';

/**
 * Screenshots of the main pages go to .vitest-tmp/screenshots on every run;
 * with UPDATE_SCREENSHOTS=1 they also replace the committed ones in
 * docs/screenshots (which the README shows), so ordinary runs leave the
 * work tree clean.
 */
const SHOTS_DIR = join(REPO_ROOT, '.vitest-tmp', 'screenshots');
const DOCS_SHOTS_DIR = join(REPO_ROOT, 'docs', 'screenshots');
const VIEWPORT = { width: 1280, height: 800 };

/** `docs: false` for pages worth a look after a run but not in the README; `fullPage` for pages longer than the window. */
async function screenshot(page: Page, name: string, { docs = true, fullPage = false } = {}) {
  await mkdir(SHOTS_DIR, { recursive: true });
  const file = join(SHOTS_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  if (docs && process.env.UPDATE_SCREENSHOTS === '1') {
    await mkdir(DOCS_SHOTS_DIR, { recursive: true });
    await copyFile(file, join(DOCS_SHOTS_DIR, `${name}.png`));
  }
}

async function signInOperator(page: Page) {
  await page.fill('[data-testid=operator-login] input[name=clientId]', 'ops-console');
  await page.fill('[data-testid=operator-login] input[name=clientSecret]', 'ops-console-dev-secret');
  await page.click('[data-testid=operator-login] button[type=submit]');
  await page.waitForSelector('[data-testid=operator-console]');
}

async function fillAddress(
  page: Page,
  overrides: Partial<Record<'name' | 'line1' | 'city' | 'postalCode' | 'country', string>> = {},
) {
  const address = {
    name: 'Grace Hopper',
    line1: '1 Navy Yard',
    city: 'Arlington',
    postalCode: '22202',
    country: 'US',
    ...overrides,
  };
  const form = page.locator('[data-testid=checkout-form]');
  for (const [field, value] of Object.entries(address)) await form.locator(`input[name=${field}]`).fill(value);
}

describe('web storefront in a real browser', () => {
  let system: System;
  let server: StorefrontServer;
  let browser: Browser;
  let outDir: string;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];

  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: VIEWPORT, locale: 'en-US', timezoneId: 'UTC' });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (err) => pageErrors.push(err.message));
    return page;
  }

  /**
   * A setup failure (no Chromium, say) is rethrown by each test, so that the
   * run counts failed tests rather than skipped ones: a browser test that
   * cannot run must not look like one that was left out on purpose.
   */
  let setupError: unknown = null;
  const ready = () => {
    if (setupError) throw setupError;
  };

  beforeAll(async () => {
    try {
      // Chromium first: without it nothing else is worth starting.
      browser = await launchChromium();
      outDir = await mkdtemp(join(tmpdir(), 'orderflow-web-'));
      [system] = await Promise.all([startSystem(), buildStorefront(outDir)]);
      server = await startStorefrontServer({ root: outDir, gatewayUrl: system.gatewayUrl });
    } catch (err) {
      setupError = err;
    }
  }, 240_000);

  beforeEach(() => {
    pageErrors.length = 0;
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await server?.stop();
    await system?.stop();
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });

  it('signs up, orders, and sees the operator ship the order without a reload', async () => {
    ready();
    const lamp = await createProduct(system, {
      name: 'Walnut desk lamp',
      price: '49.90',
      initialStock: 25,
      lowStockThreshold: 5,
      description: 'Warm light, solid walnut base, braided cable.',
    });
    const pen = await createProduct(system, {
      name: 'Brass fountain pen',
      price: '34.00',
      initialStock: 8,
      lowStockThreshold: 5,
      description: 'Refillable, fine nib.',
    });
    await createProduct(system, {
      name: 'Linen notebook',
      price: '12.50',
      initialStock: 120,
      description: 'A5, 192 dotted pages.',
    });
    await createProduct(system, {
      name: 'Ceramic mug',
      price: '18.00',
      initialStock: 3,
      lowStockThreshold: 5,
      description: 'Stoneware, 350 ml.',
    });
    await createProduct(system, {
      name: 'Oak monitor stand',
      price: '89.00',
      initialStock: 0,
      description: 'Sold out until the next batch.',
    });

    // ── the customer signs up ─────────────────────────────────────────
    const page = await newPage();
    const email = `web-${Date.now()}@example.test`;
    await page.goto(`${server.url}/#/signup`);
    await page.fill('[data-testid=signup-form] input[name=name]', 'Grace Hopper');
    await page.fill('[data-testid=signup-form] input[name=email]', email);
    await page.fill('[data-testid=signup-form] input[name=password]', 'correct-horse-battery');
    await page.click('[data-testid=signup-form] button[type=submit]');
    await page.waitForSelector(`[data-testid=signed-in-as]:has-text("${email}")`);

    // ── the catalog, with live stock; search, add to the cart ─────────
    await page.waitForSelector('[data-testid=product-card]');
    expect(await page.locator('[data-testid=product-card]').count()).toBe(5);
    await screenshot(page, 'catalog');
    await page.fill('input[type=search]', 'lamp');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=product-card]').length === 1);
    const card = page.locator(`[data-testid=product-card][data-product-id="${lamp.id}"]`);
    await card.locator('[data-testid=available-quantity][data-value="25"]').waitFor();
    await card.locator('input[type=number]').fill('2');
    await card.getByRole('button', { name: 'Add to cart' }).click();
    await page.waitForSelector('[data-testid=cart-count]:has-text("2")');

    // ── checkout ──────────────────────────────────────────────────────
    await page.click('nav a[href="#/cart"]');
    await fillAddress(page);
    await page.selectOption('select[name=paymentToken]', 'tok_visa');
    await page.waitForSelector('[data-testid=cart-total]:has-text("99.80")');
    await screenshot(page, 'checkout');
    await page.click('[data-testid=place-order]');

    // ── the order page follows the saga live ──────────────────────────
    await page.waitForURL(/#\/orders\/[0-9a-f-]{36}$/);
    const orderId = (await page.locator('[data-testid=order-id]').textContent())!.trim();
    expect(page.url()).toContain(orderId);
    await page.waitForSelector('[data-testid=order-status][data-status=PENDING_SHIPMENT]', { timeout: 30_000 });
    await page.waitForSelector('[data-testid=live-indicator][data-live=live]');
    // The shipment appears a moment after payment, with its carrier and tracking number.
    await page.waitForSelector('[data-testid=shipment] [data-testid=tracking-number]', { timeout: 30_000 });
    expect((await page.locator('[data-testid=carrier]').textContent())?.trim()).not.toBe('');
    // A reload would drop this marker: the SHIPPED status below must arrive without one.
    await page.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));

    // ── the operator, in another browser context ──────────────────────
    const ops = await newPage();
    await ops.goto(`${server.url}/#/operator`);
    await ops.waitForSelector('[data-testid=dev-secret-note]');
    await screenshot(ops, 'operator-login', { docs: false });
    await signInOperator(ops);
    await ops.click('[data-testid=tab-stock]');
    await ops.fill('input[name=lookupId]', orderId);
    await ops.click('[data-testid=shipment-desk] button[type=submit]');
    await ops.waitForSelector('[data-testid=advance-shipment][data-next=SHIPPED]');

    // A low-stock alert reaches the operator's live feed: another customer's
    // order takes the pen from 8 to 4 (threshold 5). The feed starts with live
    // events only, so retry (restocked above the threshold) should the first
    // crossing beat the subscription to the server.
    await ops.waitForSelector('[data-testid=low-stock-feed] [data-testid=live-indicator][data-live=live]');
    const buyer = await system.signUpCustomer('pen-buyer');
    const operatorHeaders = await system.operatorHeaders();
    await eventually(
      async () => {
        const placed = await system.graphql(
          PLACE_ORDER,
          { input: buildOrderInput({ items: [{ productId: pen.id, quantity: 4 }] }) },
          buyer.headers,
        );
        expect(placed.data?.placeOrder.__typename).toBe('OrderPlaced');
        const seen = await ops
          .waitForSelector('[data-testid=low-stock-feed] .alerts li:has-text("Brass fountain pen")', { timeout: 5_000 })
          .then(
            () => true,
            () => false,
          );
        if (!seen) {
          await system.graphql(
            `mutation($id: ID!) { restockProduct(productId: $id, quantity: 4) { id } }`,
            { id: pen.id },
            operatorHeaders,
          );
        }
        return seen;
      },
      { timeoutMs: 30_000, intervalMs: 0 },
    );
    await screenshot(ops, 'operator-stock');

    // ── the network drops; the operator ships; the customer's page shows it live ──
    // The order page no longer polls (its shipment exists): SHIPPED can only
    // come through the subscription, resumed after the drop from its last cursor.
    expect(server.dropWebSockets()).toBeGreaterThanOrEqual(2);
    await ops.click('[data-testid=advance-shipment][data-next=SHIPPED]');
    await ops.waitForSelector('[data-testid=shipment-status][data-status=SHIPPED]');

    await page.waitForSelector('[data-testid=order-status][data-status=SHIPPED]', { timeout: 20_000 });
    await page.waitForSelector('[data-testid=shipment-status][data-status=SHIPPED]');
    await page.waitForSelector('[data-testid=status-history] [data-status=SHIPPED]');
    expect(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
    await screenshot(page, 'order-live');

    expect(pageErrors).toEqual([]);
  }, 180_000);

  it('logs in, shows InvalidOrder and ProductsUnavailable clearly, follows a declined payment, cancels an order', async () => {
    ready();
    const vase = await createProduct(system, {
      name: 'Glass vase',
      price: '25.00',
      initialStock: 3,
      lowStockThreshold: 1,
    });
    const candle = await createProduct(system, { name: 'Beeswax candle', price: '9.50', initialStock: 40 });
    const customer = await system.signUpCustomer('returning');

    const page = await newPage();
    await page.goto(`${server.url}/#/login`);
    await page.fill('[data-testid=login-form] input[name=email]', customer.email);
    await page.fill('[data-testid=login-form] input[name=password]', customer.password);
    await page.click('[data-testid=login-form] button[type=submit]');
    await page.waitForSelector(`[data-testid=signed-in-as]:has-text("${customer.email}")`);

    // Five vases when three are left: the cart lets it through, the server says no.
    const vaseCard = page.locator(`[data-testid=product-card][data-product-id="${vase.id}"]`);
    await vaseCard.locator('input[type=number]').fill('5');
    await vaseCard.getByRole('button', { name: 'Add to cart' }).click();
    await page.click('nav a[href="#/cart"]');

    // A country that is no ISO code: InvalidOrder, on the field it names.
    await fillAddress(page, { country: 'ZZ' });
    await page.click('[data-testid=place-order]');
    await page.waitForSelector('[data-testid=outcome-invalid]:has-text("shippingAddress.country")');
    expect(await page.getAttribute('input[name=country]', 'aria-invalid')).toBe('true');

    await page.fill('input[name=country]', 'US');
    await page.click('[data-testid=place-order]');
    const unavailable = page.locator('[data-testid=outcome-unavailable]');
    await unavailable.waitFor();
    expect(await unavailable.textContent()).toContain('Glass vase: you asked for 5, 3 available');
    await screenshot(page, 'checkout-unavailable', { docs: false });
    await unavailable.getByRole('button', { name: 'Use the available quantities' }).click();
    expect(await page.inputValue('[data-testid=cart-lines] input[type=number]')).toBe('3');

    // A declined card: the order page shows PAYMENT_FAILED, with no way to cancel.
    await page.selectOption('select[name=paymentToken]', 'tok_chargeDeclined');
    await page.click('[data-testid=place-order]');
    await page.waitForURL(/#\/orders\/[0-9a-f-]{36}$/);
    await page.waitForSelector('[data-testid=order-status][data-status=PAYMENT_FAILED]', { timeout: 30_000 });
    expect(await page.locator('[data-testid=cancel-order]').count()).toBe(0);
    await screenshot(page, 'order-payment-failed', { docs: false });

    // The stock came back: the catalog shows three vases again.
    await page.click('nav a[href="#/"]');
    await page
      .locator(
        `[data-testid=product-card][data-product-id="${vase.id}"] [data-testid=available-quantity][data-value="3"]`,
      )
      .waitFor({ timeout: 15_000 });

    // An order cancelled from its page, live.
    const candleCard = page.locator(`[data-testid=product-card][data-product-id="${candle.id}"]`);
    await candleCard.getByRole('button', { name: 'Add to cart' }).click();
    await page.click('nav a[href="#/cart"]');
    await fillAddress(page);
    await page.click('[data-testid=place-order]');
    await page.waitForURL(/#\/orders\/[0-9a-f-]{36}$/);
    await page.click('[data-testid=cancel-order]');
    await page.click('[data-testid=confirm-cancel]');
    await page.waitForSelector('[data-testid=order-status][data-status=CANCELLED]', { timeout: 30_000 });

    // My orders: both, with their final statuses.
    await page.click('nav a[href="#/orders"]');
    await page.waitForSelector('[data-testid=my-orders] tbody tr >> nth=1');
    const statuses = await page
      .locator('[data-testid=my-orders] [data-status]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-status')).sort());
    expect(statuses).toEqual(['CANCELLED', 'PAYMENT_FAILED']);
    await screenshot(page, 'my-orders', { docs: false });

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForSelector('.account a[href="#/login"]');
    expect(pageErrors).toEqual([]);
  }, 120_000);
  it("the operator finds a customer's order by email, follows its timeline, cancels it (its stock returns) and sees the figures move", async () => {
    ready();
    const organiser = await createProduct(system, {
      name: 'Oak desk organiser',
      price: '42.00',
      initialStock: 30,
      lowStockThreshold: 3,
      description: 'Three trays, solid oak.',
    });
    const caller = await system.signUpCustomer('caller');
    async function placeOrder(quantity: number): Promise<string> {
      const res = await system.graphql(
        PLACE_ORDER,
        { input: buildOrderInput({ items: [{ productId: organiser.id, quantity }] }) },
        caller.headers,
      );
      expect(res.data?.placeOrder.__typename).toBe('OrderPlaced');
      return res.data.placeOrder.order.id as string;
    }

    // ── the dashboard, over the last hour ─────────────────────────────
    const ops = await newPage();
    await ops.goto(`${server.url}/#/operator`);
    await signInOperator(ops);
    const perMinute = ops.locator('[data-testid=metric-orders-per-minute]');
    await perMinute.waitFor();
    await ops.click('[data-testid=window-60]');
    await ops.waitForSelector('[data-testid=dashboard][data-window="60"] .figures:not(.stale)');
    const ordersBefore = Number(await perMinute.getAttribute('data-total'));

    // The customer orders twice (3, then 2 organisers): the bars move without a reload.
    const firstOrder = await placeOrder(3);
    const secondOrder = await placeOrder(2);
    await ops.waitForFunction(
      (min) =>
        Number(document.querySelector('[data-testid=metric-orders-per-minute]')?.getAttribute('data-total')) >= min,
      ordersBefore + 2,
      { timeout: 30_000 },
    );
    // Both are paid within seconds: the success rate and the p95 have figures to show.
    await ops.waitForSelector('[data-testid=metric-success-rate]:not([data-value=""])', { timeout: 30_000 });
    await ops.waitForSelector('[data-testid=metric-p95]:not([data-value=""])', { timeout: 30_000 });
    console.log(
      'dashboard (60 min):',
      await ops
        .locator('[data-testid=dashboard] .figure')
        .evaluateAll((els) =>
          els.map(
            (e) => `${e.querySelector('.figure-title')?.textContent}: ${e.querySelector('.figure-value')?.textContent}`,
          ),
        ),
    );
    // Back to the last 5 minutes, where this test's orders are most of the bars.
    await ops.click('[data-testid=window-5]');
    await ops.waitForSelector('[data-testid=dashboard][data-window="5"] .figures:not(.stale)');
    expect(Number(await perMinute.getAttribute('data-total'))).toBeGreaterThanOrEqual(2);
    await screenshot(ops, 'operator');

    // ── "where is my order?": found by the customer's email ───────────
    await ops.click('[data-testid=tab-orders]');
    await ops.fill('[data-testid=order-search] input[name=email]', caller.email);
    await ops.click('[data-testid=order-search] button[type=submit]');
    await ops.waitForSelector('[data-testid=order-results] tbody tr >> nth=1');
    const found = await ops
      .locator('[data-testid=order-results] tbody tr')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-order-id')));
    expect(found).toEqual([secondOrder, firstOrder]); // newest first, nobody else's
    expect(await ops.locator('[data-testid=order-customer]').first().textContent()).toBe(caller.email);
    await screenshot(ops, 'operator-orders');

    // ── the order: its payment and shipment in the timeline ───────────
    await ops.click(`[data-testid=order-results] tr[data-order-id="${secondOrder}"] [data-testid=order-link]`);
    await ops.waitForSelector(`[data-testid=operator-order][data-order-id="${secondOrder}"]`);
    const timeline = ops.locator('[data-testid=order-timeline]');
    await timeline.locator('li[data-kind=PAYMENT]').first().waitFor({ timeout: 30_000 });
    await timeline.locator('li[data-kind=SHIPMENT]').first().waitFor({ timeout: 30_000 });
    await ops.waitForSelector('[data-testid=operator-order-status][data-status=PENDING_SHIPMENT]');
    const available = ops.locator(
      `[data-testid=operator-order-items] tr[data-product-id="${organiser.id}"] [data-testid=item-available]`,
    );
    await available.and(ops.locator('[data-value="25"]')).waitFor();

    // ── cancelled from the console: the two organisers go back on the shelf ──
    await ops.fill('[data-testid=operator-cancel] input[name=reason]', 'Customer called: ordered twice');
    await ops.click('[data-testid=operator-cancel-order]');
    await ops.click('[data-testid=confirm-operator-cancel]');
    // Done at once, or (a paid order, the shipments service slow to answer) being completed: either way it ends CANCELLED.
    await ops.waitForSelector('[data-testid=operator-cancelled], [data-testid=operator-cancellation-pending]');
    await ops.waitForSelector('[data-testid=operator-order-status][data-status=CANCELLED]', { timeout: 30_000 });
    await available.and(ops.locator('[data-value="27"]')).waitFor({ timeout: 30_000 });
    // The operator's act is in the timeline, with the console's client id.
    await timeline.locator('[data-testid=timeline-actor]:has-text("ops-console")').first().waitFor({ timeout: 15_000 });
    await ops.evaluate(() => window.scrollTo(0, 0));
    await screenshot(ops, 'operator-order', { fullPage: true });

    // The stock view says the same.
    await ops.click('[data-testid=tab-stock]');
    await ops.fill('input[aria-label="Search inventory"]', 'organiser');
    await ops
      .locator(`[data-testid=inventory] tr[data-product-id="${organiser.id}"] [data-testid=inventory-available]`)
      .and(ops.locator(':text-is("27")'))
      .waitFor({ timeout: 15_000 });

    // ── the other order: its shipment moved from the order page ───────
    await ops.click('[data-testid=tab-orders]');
    await ops.click(`[data-testid=order-results] tr[data-order-id="${firstOrder}"] [data-testid=order-link]`);
    await ops.waitForSelector(`[data-testid=operator-order][data-order-id="${firstOrder}"]`);
    await ops.click('[data-testid=advance-shipment][data-next=SHIPPED]', { timeout: 30_000 });
    await ops.waitForSelector('[data-testid=operator-shipment] [data-testid=shipment-status][data-status=SHIPPED]');
    await ops.waitForSelector('[data-testid=operator-order-status][data-status=SHIPPED]', { timeout: 30_000 });
    await screenshot(ops, 'operator-order-shipped', { docs: false });

    // ── the status filter: of the caller's orders, the cancelled one ──
    await ops.click('[data-testid=tab-orders]');
    await ops.check('[data-testid=order-search] input[name=status][value=CANCELLED]');
    await ops.click('[data-testid=order-search] button[type=submit]');
    await ops.waitForURL(/status=CANCELLED/);
    await ops.waitForSelector('[data-testid=order-count]:text-is("1 order matches, newest first")');
    expect(
      await ops
        .locator('[data-testid=order-results] tbody tr')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-order-id'))),
    ).toEqual([secondOrder]);

    // ── the product filter: every order with an organiser, whoever placed it ──
    await ops.click('[data-testid=order-search] button:text-is("Clear")');
    await ops.fill('[data-testid=order-search] input[name=product]', 'organiser');
    await ops.waitForSelector('#product-choices option[value^="Oak desk organiser"]', { state: 'attached' });
    await ops.click('[data-testid=order-search] button[type=submit]');
    await ops.waitForURL(/productId=/);
    await ops.waitForSelector('[data-testid=order-count]:text-is("2 orders match, newest first")');
    expect(
      await ops
        .locator('[data-testid=order-results] tbody tr')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-order-id'))),
    ).toEqual([secondOrder, firstOrder]);

    expect(pageErrors).toEqual([]);
  }, 180_000);
});
