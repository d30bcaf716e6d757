// Drives Debian's headless Chromium (playwright-core, no downloaded browser) through the Temporal UI and reports
// what an operator sees, as JSON on stdout. tests/ui/test_temporal_ui.py writes the job and judges the answer.
//
// Job (JSON, first argument or stdin):
//   ui              the UI's base URL, e.g. http://127.0.0.1:8233
//   namespace       default "default"
//   out_dir         where screenshots go (created)
//   name            prefix of the screenshots
//   timeout_ms      how long each view may take to show what is expected (default 20000)
//   columns         labels of the workflow list's columns (search attribute names allowed); optional
//   list            {query?, rows: {workflowId: [texts expected in that row]}}
//   pages           [{workflow_id, label?, tabs: [{tab, expect: [texts], absent: [texts]}]}]; tab is the label of a
//                   workflow page tab ("Timeline", "User Metadata", "Search Attributes", ...)
//   codec_prefix    URL prefix of the codec server; its answers are reported in codec_requests
//   codec_headers   headers added to every request to codec_prefix (the operator's authenticating proxy)
//   codec_sign_in   {token}: the operator signs in at codec_prefix/session, then points this browser's UI at
//                   codec_prefix with "Include cross-origin credentials" in its Codec Server dialog
//
// Texts are compared with runs of whitespace collapsed. Nothing here asserts: every view reports what it found
// and missed, its text and screenshot, so one failing expectation does not hide the others.
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
// Without the background-networking flags Chromium dials out and the closed network refuses it.
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const squash = (text) => text.replace(/\s+/g, ' ').trim();

function readJob() {
  const raw = process.argv[2] ?? fs.readFileSync(0, 'utf8');
  return JSON.parse(raw);
}

// The visible text of the page's main region plus that of its frames: the UI renders summaries and details
// (Markdown) in sandboxed iframes.
async function visibleText(page) {
  const parts = [await page.getByRole('main').innerText().catch(() => '')];
  for (const frame of page.frames()) {
    if (frame === page.mainFrame()) continue;
    parts.push(await frame.locator('body').innerText({ timeout: 1000 }).catch(() => ''));
  }
  return squash(parts.join('\n'));
}

// Polls `read` until every expected text is in it or the deadline passes.
async function waitForTexts(read, expect, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await read();
    const missing = expect.filter((t) => !text.includes(squash(t)));
    if (missing.length === 0 || Date.now() > deadline) return { text, missing };
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function shot(page, job, label) {
  const file = path.join(job.out_dir, `${job.name}-${label}.png`.replace(/[^A-Za-z0-9_.-]+/g, '-'));
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

async function inspectList(page, job, report) {
  const ns = encodeURIComponent(job.namespace);
  const query = job.list.query ? `?query=${encodeURIComponent(job.list.query)}` : '';
  await page.goto(`${job.ui}/namespaces/${ns}/workflows${query}`);
  const rows = {};
  for (const [workflowId, expect] of Object.entries(job.list.rows)) {
    const row = page.getByRole('row').filter({ hasText: workflowId });
    await row.first().waitFor({ timeout: job.timeout_ms }).catch(() => {});
    const read = async () => squash(await row.first().innerText().catch(() => ''));
    const found = await waitForTexts(read, [workflowId, ...expect], job.timeout_ms);
    rows[workflowId] = { count: await row.count(), ...found };
  }
  const headers = await page.getByRole('columnheader').allInnerTexts();
  report.list = { url: page.url(), rows, headers: headers.map(squash), screenshot: await shot(page, job, 'list') };
}

// What README tells operators to do: sign in once at the codec server, then set the UI's codec settings.
async function signInToCodec(page, job) {
  await page.goto(`${job.codec_prefix}/session`);
  await page.locator('input[type=password]').fill(job.codec_sign_in.token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('Signed in').waitFor({ timeout: job.timeout_ms });
  await page.goto(`${job.ui}/namespaces/${encodeURIComponent(job.namespace)}/workflows`);
  await page.getByRole('button', { name: /Codec Server/ }).first().click({ timeout: job.timeout_ms });
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Use my browser setting and ignore Cluster-level setting.').check();
  await dialog.getByPlaceholder('Paste your endpoint here').fill(job.codec_prefix);
  // The switch itself is visually hidden: an operator clicks its label.
  await dialog.getByText('Include cross-origin credentials', { exact: true }).click();
  const includeCredentials = await dialog.getByRole('switch', { name: 'Include cross-origin credentials' }).isChecked();
  const screenshot = await shot(page, job, 'codec-settings');
  await dialog.getByRole('button', { name: 'Apply' }).click();
  return { include_credentials: includeCredentials, screenshot };
}

async function inspectWorkflow(page, job, spec) {
  const ns = encodeURIComponent(job.namespace);
  await page.goto(`${job.ui}/namespaces/${ns}/workflows/${encodeURIComponent(spec.workflow_id)}`);
  const tabs = [];
  for (const { tab, expect = [], absent = [] } of spec.tabs) {
    const link = page.getByRole('tab', { name: tab }).or(page.getByRole('link', { name: tab, exact: true }));
    await link.first().click({ timeout: job.timeout_ms });
    const found = await waitForTexts(() => visibleText(page), expect, job.timeout_ms);
    const present = absent.filter((t) => found.text.includes(squash(t)));
    const screenshot = await shot(page, job, `${spec.label ?? spec.workflow_id}-${tab}`);
    tabs.push({ tab, url: page.url(), ...found, present, screenshot });
  }
  return { workflow_id: spec.workflow_id, tabs };
}

async function main() {
  const job = { namespace: 'default', out_dir: '.dev/ui', name: 'ui', timeout_ms: 20000, ...readJob() };
  fs.mkdirSync(job.out_dir, { recursive: true });
  const started = Date.now();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  const report = { codec_requests: [], console_errors: [] };
  try {
    const context = await browser.newContext({ viewport: { width: 2000, height: 1000 } });
    if (job.columns) {
      // What the list's "Configure Columns" drawer saves, per namespace, before the UI first loads.
      const columns = { [job.namespace]: job.columns.map((label) => ({ label })) };
      await context.addInitScript((value) => {
        localStorage.setItem('namespace-workflow-table-columns', value);
      }, JSON.stringify(columns));
    }
    if (job.codec_prefix && job.codec_headers) {
      // The operator's authenticating proxy in front of the codec server: it adds the credentials the browser
      // does not have. Playwright answers the CORS preflight of routed requests itself.
      await context.route(`${job.codec_prefix}/**`, async (route) => {
        const headers = { ...route.request().headers(), ...job.codec_headers };
        await route.fulfill({ response: await route.fetch({ headers }) });
      });
    }
    const page = await context.newPage();
    page.on('response', (response) => {
      const request = response.request();
      if (job.codec_prefix && request.url().startsWith(job.codec_prefix)) {
        report.codec_requests.push({ method: request.method(), url: request.url(), status: response.status() });
      }
    });
    page.on('console', (msg) => {
      if (msg.type() === 'error') report.console_errors.push(msg.text().slice(0, 300));
    });
    if (job.codec_sign_in) report.codec_sign_in = await signInToCodec(page, job);
    if (job.list) await inspectList(page, job, report);
    report.pages = [];
    for (const spec of job.pages ?? []) report.pages.push(await inspectWorkflow(page, job, spec));
  } finally {
    await browser.close();
  }
  report.elapsed_ms = Date.now() - started;
  process.stdout.write(JSON.stringify(report));
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});
