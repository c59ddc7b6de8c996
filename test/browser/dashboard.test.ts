// The dashboard page in headless Chromium, against a real 4-node network:
// it shows every node and follows changes live, without reloading: values,
// liveness from the node's events (suspected, left, failed), sparklines of
// numeric values; and it fits a phone's width.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startDashboard } from '../../src/dashboard/server.js';
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
  getAttribute(name: string): string | null;
  hasAttribute(name: string): boolean;
  getBoundingClientRect(): { top: number; bottom: number; left: number; right: number };
}
declare const document: {
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): { length: number };
  scrollingElement: { scrollWidth: number };
  body: unknown;
};
declare const CSS: { escape(text: string): string };
declare const window: { marker?: number; pills?: string[]; innerWidth: number };
declare function getComputedStyle(e: unknown): { color: string };
declare class MutationObserver {
  constructor(cb: () => void);
  observe(
    target: unknown,
    options: { subtree: boolean; childList: boolean; characterData: boolean },
  ): void;
}

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

  /** Resolves once node's card shows pill `text`. */
  const pill = (node: string, text: string, timeout = 10_000) =>
    page.waitForFunction(
      ([n, t]) => document.querySelector(`[data-node="${CSS.escape(n)}"] .pill`)?.textContent === t,
      [node, text] as const,
      { timeout },
    );

  const activityHas = (text: string) =>
    page.waitForFunction(
      (t) => document.querySelector('#activity')?.textContent?.includes(t),
      text,
      PUSH_TIMEOUT,
    );

  const cardClass = async (node: string) =>
    (await page.locator(`article[data-node="${node}"]`).getAttribute('class')) ?? '';

  it('shows a node joining, and one that stops cleanly as left, at once', async () => {
    const n5 = await net.start('n5', { via: hub });
    await n5.updateData('fresh', 'yes');
    // A new card enters as a whole; its values are not highlighted one by one.
    await page.waitForFunction(
      () =>
        document.querySelector('[data-node="n5"] tr[data-key="fresh"] td.v')?.textContent === 'yes',
      null,
      PUSH_TIMEOUT,
    );
    await activityHas('n5 joined');
    await n4.stop();
    // A goodbye: no suspicion first, the card stays, greyed, with its last state.
    await pill('n4', 'left', PUSH_TIMEOUT.timeout);
    await activityHas('n4 left');
    assert.match(await cardClass('n4'), /\bdeparted\b.*\bleft\b|\bleft\b.*\bdeparted\b/);
    assert.equal(await shownValue('n4', 'status'), 'online');
    assert.match((await page.locator('[data-node="n4"] .age').textContent()) ?? '', /^left /);
    assert.equal(await page.locator('#count').textContent(), '4');
    assert.equal(await page.locator('#gone').textContent(), '1');
    assert.equal(await page.locator('#gone-stat').isVisible(), true);
  });

  it('shows a node that stops answering as suspected at once, then failed', async () => {
    const n6 = await net.start('n6', { via: hub });
    await n6.updateData('doomed', 'yes');
    await pill('n6', 'alive', PUSH_TIMEOUT.timeout);
    // Every text the pill takes, as it takes it.
    await page.evaluate(() => {
      window.pills = [];
      const target = document.querySelector('[data-node="n6"] .pill');
      new MutationObserver(() => {
        const text = document.querySelector('[data-node="n6"] .pill')?.textContent ?? '';
        if (window.pills?.at(-1) !== text) window.pills?.push(text);
      }).observe(target, { subtree: true, childList: true, characterData: true });
    });
    // No goodbye: its peers notice by themselves.
    await n6.node.transport.close();
    await pill('n6', 'failed');
    await activityHas('n6 failed');
    assert.deepEqual(await page.evaluate(() => window.pills), ['suspected', 'failed']);
    await activityHas('n6 suspected');
    const cls = await cardClass('n6');
    assert.match(cls, /\bfailed\b/);
    assert.doesNotMatch(cls, /\bleft\b|\bsuspect\b/);
    assert.match((await page.locator('[data-node="n6"] .age').textContent()) ?? '', /^failed /);
    // Left and failed look different, not only in words.
    const colour = (node: string) =>
      page.locator(`[data-node="${node}"] .pill`).evaluate((e) => getComputedStyle(e).color);
    assert.notEqual(await colour('n6'), await colour('n4'));
    assert.equal(await page.locator('#count').textContent(), '4');
    assert.equal(await page.locator('#gone').textContent(), '2');
  });

  it('drops a departed node once its time is up', async () => {
    const quick = await startDashboard(hub, { port: 0, host: LOCAL }, { departedMs: 1500 });
    const other = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      await other.goto(quick.url);
      const n7 = await net.start('n7', { via: hub });
      await other.waitForSelector('[data-node="n7"]', PUSH_TIMEOUT);
      await n7.stop();
      await other.waitForFunction(
        () => document.querySelector('[data-node="n7"] .pill')?.textContent === 'left',
        null,
        PUSH_TIMEOUT,
      );
      await other.waitForFunction(() => !document.querySelector('[data-node="n7"]'), null, {
        timeout: 5000,
      });
    } finally {
      await other.close();
      await quick.close();
    }
  });

  it('draws a sparkline for a numeric key after a few updates, none for other keys', async () => {
    const spark = (node: string, key: string) =>
      page.evaluate(
        ([n, k]) => {
          const svg = document.querySelector(
            `[data-node="${CSS.escape(n)}"] tr[data-key="${CSS.escape(k)}"] svg.spark`,
          );
          if (!svg || svg.hasAttribute('hidden')) return null;
          const points = svg.querySelector('polyline')?.getAttribute('points') ?? '';
          return { points: points.split(' ').length, label: svg.getAttribute('aria-label') };
        },
        [node, key] as const,
      );
    for (const [i, load] of ['0.5', '1.25', '0.75', '2'].entries()) {
      await n2.updateData('load', load);
      await n3.updateData('color', ['green', 'blue', 'teal', 'ultramarine'][i] as string);
      await shows('n2', 'load', load);
      await shows('n3', 'color', ['green', 'blue', 'teal', 'ultramarine'][i] as string);
    }
    const drawn = await spark('n2', 'load');
    assert.ok(drawn, 'a sparkline for n2 load');
    assert.ok(drawn.points >= 4, `${drawn.points} points`);
    assert.match(drawn.label ?? '', /4 readings, min 0\.5, max 2$/);
    assert.equal(await spark('n3', 'color'), null, 'no sparkline for a word');
    assert.equal(await shownValue('n2', 'load'), '2', 'the value cell holds only the value');
    // A value that stops being a number ends its line.
    await n2.updateData('load', 'high');
    await shows('n2', 'load', 'high');
    assert.equal(await spark('n2', 'load'), null);
  });

  it('fits a 390 px wide screen: no horizontal scroll, the table reflows', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      const fits = await page.evaluate(
        () => document.scrollingElement.scrollWidth <= window.innerWidth,
      );
      assert.ok(fits, 'the page scrolls sideways at 390 px');
      // Each key sits above its value, and every card is within the screen.
      const layout = await page.evaluate(() => {
        const k = document.querySelector('[data-node="n2"] tr[data-key="temperature"] td.k');
        const v = document.querySelector('[data-node="n2"] tr[data-key="temperature"] td.v');
        const card = document.querySelector('[data-node="n2"]');
        return {
          stacked:
            (v?.getBoundingClientRect().top ?? 0) >= (k?.getBoundingClientRect().bottom ?? 1) - 1,
          right: card?.getBoundingClientRect().right ?? 9999,
        };
      });
      assert.ok(layout.stacked, 'key above value');
      assert.ok(layout.right <= 390, `a card ends at ${layout.right} px`);
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
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
