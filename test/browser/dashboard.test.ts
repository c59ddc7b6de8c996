// The dashboard page in headless Chromium, against a real 4-node network:
// it shows every node and follows changes live, without reloading.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { DSNodeServer } from '../../src/index.js';
import { LOCAL, TestNet } from '../helpers/net.js';
import { CHROMIUM, hasChromium, launchChromium } from './chromium.js';

// The callbacks passed to page.evaluate and waitForFunction run in the page.
// This project compiles without the DOM types, so the little they use is
// declared here, for this file only.
interface PageElement {
  textContent: string | null;
  hidden: boolean;
  dataset: Record<string, string | undefined>;
  classList: { contains(name: string): boolean };
  querySelector(selector: string): PageElement | null;
}
declare const document: {
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): { length: number };
};
declare const CSS: { escape(text: string): string };
declare const window: { marker?: number };

// Locally a missing browser skips these tests; in CI it fails them.
const skip =
  !hasChromium() && !process.env.CI
    ? `${CHROMIUM} not found (apt-get install chromium); the browser tests need it`
    : false;

/** Waits in the page; 2 s is plenty for a push that should take 100 ms. */
const PUSH_TIMEOUT = { timeout: 2000 };

describe('dashboard page in a browser', { skip }, () => {
  const net = new TestNet();
  let browser: Browser;
  let page: Page;
  let hub: DSNodeServer;
  let n2: DSNodeServer;
  let n3: DSNodeServer;
  let n4: DSNodeServer;
  const problems: string[] = [];
  let navigations = 0;

  before(async () => {
    assert.ok(hasChromium(), `${CHROMIUM} is missing: the browser tests must run in CI`);
    hub = await net.start('hub', { dashboard: { port: 0, host: LOCAL } });
    n2 = await net.start('n2', { via: hub });
    n3 = await net.start('n3', { via: hub });
    n4 = await net.start('n4', { via: hub });
    await hub.updateData('role', 'hub');
    await n2.updateData('temperature', '21.5');
    await n3.updateData('color', 'red');
    await n4.updateData('status', 'online');
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    // Console errors include Content-Security-Policy violations: a wrong hash would show here.
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame()) navigations++;
    });
  });
  after(async () => {
    await browser?.close();
    await net.stopAll();
  });

  /** The text of node `node`'s value for `key` on the page, or null. */
  const shownValue = (node: string, key: string) =>
    page.evaluate(
      ([n, k]) =>
        document.querySelector(
          `[data-node="${CSS.escape(n)}"] tr[data-key="${CSS.escape(k)}"] td.v`,
        )?.textContent ?? null,
      [node, key] as const,
    );

  /** Resolves once node's key shows `value`, highlighted as a fresh change. */
  const shows = (node: string, key: string, value: string) =>
    page.waitForFunction(
      ([n, k, v]) => {
        const row = document.querySelector(
          `[data-node="${CSS.escape(n)}"] tr[data-key="${CSS.escape(k)}"]`,
        );
        return row?.querySelector('td.v')?.textContent === v && row.classList.contains('flash');
      },
      [node, key, value] as const,
      PUSH_TIMEOUT,
    );

  it('shows all four nodes with their addresses, liveness and values; marks its own', async () => {
    await page.goto(hub.dashboard?.url as string);
    await page.waitForFunction(
      () => document.querySelectorAll('article[data-node]').length === 4,
      null,
      PUSH_TIMEOUT,
    );
    const ids = await page.$$eval('article[data-node]', (cards) =>
      cards.map((c) => (c as unknown as PageElement).dataset.node),
    );
    assert.deepEqual(ids, ['hub', 'n2', 'n3', 'n4'], 'own node first, then by ID');
    assert.equal(await shownValue('n2', 'temperature'), '21.5');
    assert.equal(await shownValue('n3', 'color'), 'red');
    assert.equal(await shownValue('n4', 'status'), 'online');
    const own = page.locator('article[data-node="hub"]');
    assert.match((await own.getAttribute('class')) ?? '', /\bself\b/);
    assert.equal(await own.locator('.badge').textContent(), 'this node');
    assert.equal(await page.locator('[data-node="n3"] .addr').textContent(), `${LOCAL}:${n3.port}`);
    assert.equal(await page.locator('[data-node="n3"] .pill').textContent(), 'alive');
    assert.match((await page.locator('[data-node="n3"] .age').textContent()) ?? '', /^updated /);
    assert.equal(await page.locator('#count').textContent(), '4');
    assert.equal(await page.locator('#self').textContent(), 'hub');
    assert.match((await page.locator('#conn').textContent()) ?? '', /Live/);
  });

  it('shows a new value pushed live, highlighted, without reloading', async () => {
    await page.evaluate(() => {
      window.marker = 42;
    });
    await n3.updateData('color', 'ultramarine');
    await shows('n3', 'color', 'ultramarine');
    await n2.updateData('humidity', '40');
    await shows('n2', 'humidity', '40');
    await hub.updateData('role', 'hub, primary');
    await shows('hub', 'role', 'hub, primary');
    assert.equal(await page.evaluate(() => window.marker), 42);
    assert.equal(navigations, 1, 'the page was never reloaded');
  });

  it('removes a deleted key', async () => {
    await n2.deleteData('humidity');
    await page.waitForFunction(
      () => !document.querySelector('[data-node="n2"] tr[data-key="humidity"]'),
      null,
      PUSH_TIMEOUT,
    );
    assert.equal(await shownValue('n2', 'temperature'), '21.5');
  });

  it('shows a node joining and one leaving, in the cards and the activity list', async () => {
    const n5 = await net.start('n5', { via: hub });
    await n5.updateData('fresh', 'yes');
    // A new card enters as a whole; its values are not highlighted one by one.
    await page.waitForFunction(
      () =>
        document.querySelector('[data-node="n5"] tr[data-key="fresh"] td.v')?.textContent === 'yes',
      null,
      PUSH_TIMEOUT,
    );
    await page.waitForFunction(
      () => document.querySelector('#activity')?.textContent?.includes('n5 joined'),
      null,
      PUSH_TIMEOUT,
    );
    await n4.stop();
    // Suspected after a failed ping, then gone: the card stays a moment, marked as left.
    await page.waitForFunction(
      () => document.querySelector('[data-node="n4"] .pill')?.textContent === 'left',
      null,
      { timeout: 10_000 },
    );
    await page.waitForFunction(
      () => document.querySelector('#activity')?.textContent?.includes('n4 left'),
      null,
      PUSH_TIMEOUT,
    );
    assert.equal(await page.locator('#count').textContent(), '4');
  });

  it('ticks the ages locally', async () => {
    const before = await page.locator('[data-node="n3"] .age').textContent();
    await page.waitForFunction(
      (text) => document.querySelector('[data-node="n3"] .age')?.textContent !== text,
      before,
      { timeout: 3000 },
    );
  });

  it('filters nodes by ID, key or value', async () => {
    await page.fill('#filter', 'ultramarine');
    const visible = () =>
      page.$$eval('article[data-node]', (cards) =>
        cards
          .filter((c) => !(c as unknown as PageElement).hidden)
          .map((c) => (c as unknown as PageElement).dataset.node),
      );
    assert.deepEqual(await visible(), ['n3']);
    await page.fill('#filter', '');
    assert.ok((await visible()).length >= 4);
  });

  it('logged no errors (script errors, blocked content)', () => {
    assert.deepEqual(problems, []);
  });
});
