// Drives Debian's Chromium through playwright-core for tests/web/test_page_e2e.py.
//   node driver.mjs <scenario> <base-url> <out-dir>
// Environment: FACECRAFT_E2E_PLAYWRIGHT (playwright-core folder), FACECRAFT_E2E_CHROMIUM (browser binary),
// FACECRAFT_E2E_DATA (tests/data), FACECRAFT_E2E_KEY (the server's API key, scenario "key").
// Prints one JSON line with what it saw; the pytest side checks it (and the downloaded files).
// A failed expectation throws: exit status 1 and a message naming the step; a screenshot is kept.
import { createRequire } from "node:module";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const [scenario, baseUrl, outDir] = process.argv.slice(2);
const require = createRequire(path.join(process.env.FACECRAFT_E2E_PLAYWRIGHT, "package.json"));
const { chromium } = require(process.env.FACECRAFT_E2E_PLAYWRIGHT);
const DATA = process.env.FACECRAFT_E2E_DATA;
const TIMEOUT = 90_000; // one photo on a slow CI CPU, with the models' first run
mkdirSync(outDir, { recursive: true });

const profile = mkdtempSync(path.join(tmpdir(), "facecraft-e2e-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.FACECRAFT_E2E_CHROMIUM,
  headless: true,
  acceptDownloads: true,
  viewport: { width: 1280, height: 900 },
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
const page = context.pages()[0] || (await context.newPage());
const consoleErrors = [];
page.on("console", (msg) => { if (msg.type() === "error") consoleErrors.push(msg.text()); });
page.on("pageerror", (err) => consoleErrors.push(String(err)));
const shots = [];
let step = "start";

async function shot(name) {
  const file = path.join(outDir, `${scenario}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  shots.push(file);
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

async function statusText(kind) {
  await page.locator(`#status.${kind}`).waitFor({ timeout: TIMEOUT });
  return (await page.locator("#status").textContent()).trim();
}

async function open() {
  step = "open the page";
  await page.goto(baseUrl + "/");
  await page.locator("#preset option[value='passport']").waitFor({ state: "attached", timeout: 15_000 });
}

async function download(locator, name) {
  const [file] = await Promise.all([page.waitForEvent("download"), locator.click()]);
  const target = path.join(outDir, name || file.suggestedFilename());
  await file.saveAs(target);
  return { path: target, suggested: file.suggestedFilename() };
}

const scenarios = {
  // One photo with the passport preset: result shown beside the original, downloaded; then a photo with no face.
  async single() {
    await open();
    step = "accessibility checks";
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll("input, select, textarea, button")]
        .filter((e) => e.type !== "hidden")
        .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute("aria-label") && !(e.tagName === "BUTTON" && e.textContent.trim()))
        .map((e) => e.id || e.outerHTML.slice(0, 60)));
    const live = await page.locator("[aria-live]").count();
    await shot("01-empty");

    step = "choose the passport preset and a photo";
    await page.selectOption("#preset", "passport");
    const fields = { width: await page.inputValue("#width"), height: await page.inputValue("#height"),
      format: await page.inputValue("#format") };
    await page.setInputFiles("#files", path.join(DATA, "astronaut.jpg"));
    await page.locator("#original-img").waitFor({ state: "visible" });
    step = "process it";
    await page.click("#process");
    await page.locator("#result-img").waitFor({ state: "visible", timeout: TIMEOUT });
    const done = await statusText("ok");
    const natural = await page.evaluate(() => {
      const img = document.getElementById("result-img");
      return { width: img.naturalWidth, height: img.naturalHeight, meta: document.getElementById("result-meta").textContent };
    });
    await shot("02-result");
    step = "download the result";
    const saved = await download(page.locator("#download"));

    step = "a photo without a face";
    await page.setInputFiles("#files", path.join(DATA, "coffee.jpg"));
    await page.click("#process");
    const noFace = await statusText("error");
    await shot("03-no-face");

    step = "an unreadable file";
    await page.setInputFiles("#files", path.join(DATA, "fake.jpg"));
    await page.click("#process");
    const unsupported = await statusText("error");
    return { unlabelled, live, fields, done, natural, download: saved, noFace, unsupported };
  },

  // A document preset: the ✔/✘ checklist with values, the band overlay (toggled off and on), a print sheet.
  async document() {
    await open();
    step = "choose the US passport preset and a photo";
    await page.selectOption("#preset", "us_passport");
    await page.setInputFiles("#files", path.join(DATA, "astronaut.jpg"));
    await page.click("#process");
    step = "wait for the checklist";
    await page.locator("#checklist li").first().waitFor({ state: "visible", timeout: TIMEOUT });
    const checks = await page.locator("#checklist li").evaluateAll((items) =>
      items.map((li) => ({ mark: li.children[0].textContent, name: li.children[1].textContent, value: li.children[2].textContent })));
    const summary = (await page.textContent("#compliance-summary")).trim();
    const bands = await page.evaluate(() => {
      const box = (id) => { const r = document.getElementById(id).getBoundingClientRect(); return { top: r.top, height: r.height }; };
      return { hidden: document.getElementById("bands").hidden, image: box("result-img"), head: box("band-head"),
        eye: box("band-eye"), crown: box("line-crown"), chin: box("line-chin") };
    });
    await shot("01-checklist");
    step = "toggle the bands";
    await page.uncheck("#show-bands");
    const hiddenAfterToggle = await page.evaluate(() => document.getElementById("bands").hidden);
    await page.check("#show-bands");
    step = "make a print sheet";
    await page.selectOption("#paper", "4x6");
    await page.click("#make-sheet");
    await page.locator("#sheet-download").waitFor({ state: "visible", timeout: TIMEOUT });
    const sheetStatus = await statusText("ok");
    const sheet = await download(page.locator("#sheet-download"));
    await shot("02-sheet");
    return { checks, summary, bands, hiddenAfterToggle, sheetStatus, sheet };
  },

  // Three photos (one without a face): per-file progress, then a ZIP of the two results.
  async batch() {
    await open();
    await page.selectOption("#preset", "avatar");
    step = "choose three photos";
    await page.setInputFiles("#files", ["astronaut.jpg", "coffee.jpg", "grace_hopper.jpg"].map((n) => path.join(DATA, n)));
    const label = await page.textContent("#process");
    // Record every value the progress bar takes.
    await page.evaluate(() => {
      window.__progress = [];
      const bar = document.getElementById("batch-progress");
      setInterval(() => window.__progress.push(Number(bar.value)), 50);
    });
    await page.click("#process");
    step = "progress after the first photo";
    await page.waitForFunction(() => document.getElementById("batch-progress").value >= 1, null, { timeout: TIMEOUT });
    await shot("01-progress");
    step = "wait for the ZIP link";
    await page.locator("#zip").waitFor({ state: "visible", timeout: 3 * TIMEOUT });
    const summary = await page.locator("#status").textContent();
    const rows = await page.locator("#batch-list li .state").allTextContents();
    const progress = await page.evaluate(() => ({ values: [...new Set(window.__progress)], max: document.getElementById("batch-progress").max,
      count: document.getElementById("batch-count").textContent }));
    await shot("02-done");
    step = "download the ZIP";
    const zip = await download(page.locator("#zip"));
    return { label, summary: summary.trim(), rows, progress, zip };
  },

  // A server with FACECRAFT_API_KEY: the page asks for the key, refuses a wrong one, works with the right one.
  async key() {
    step = "open the page";
    await page.goto(baseUrl + "/");
    await page.locator("#key-panel").waitFor({ state: "visible", timeout: 15_000 });
    const asked = (await page.textContent("#status")).trim();
    const focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
    await shot("01-asks-for-key");
    step = "a wrong key";
    await page.fill("#api-key", "not-the-key");
    await page.click("#key-form button[type=submit]");
    const refused = await statusText("error");
    step = "the right key";
    await page.fill("#api-key", process.env.FACECRAFT_E2E_KEY);
    await page.click("#key-form button[type=submit]");
    const accepted = await statusText("ok");
    await page.selectOption("#preset", "ad_thumbnail");
    await page.setInputFiles("#files", path.join(DATA, "grace_hopper.jpg"));
    await page.click("#process");
    await page.locator("#result-img").waitFor({ state: "visible", timeout: TIMEOUT });
    const natural = await page.evaluate(() => {
      const img = document.getElementById("result-img");
      return { width: img.naturalWidth, height: img.naturalHeight };
    });
    await shot("02-with-key");
    const storage = await page.evaluate(() => ({ session: Object.keys(sessionStorage), local: Object.keys(localStorage) }));
    return { asked, focused, refused, accepted, natural, storage };
  },

  // Busy and too-large answers (made up by intercepting the request) and keyboard use.
  async errors() {
    await open();
    step = "keyboard: tab through the page";
    const order = [];
    for (let i = 0; i < 14; i += 1) {
      await page.keyboard.press("Tab");
      order.push(await page.evaluate(() => {
        const a = document.activeElement;
        const style = getComputedStyle(a.id === "files" ? a.closest(".drop") : a);
        return { id: a.id || a.className || a.tagName, outline: style.outlineStyle, width: style.outlineWidth };
      }));
    }
    step = "keyboard: choose a preset with the arrow keys";
    await page.focus("#preset");
    await page.keyboard.press("ArrowDown");
    const presetAfterKey = await page.inputValue("#preset");
    await page.focus("#files");
    await shot("01-focus-on-file-input");

    step = "busy server (429)";
    let calls = 0;
    await page.route("**/api/v1/process", (route) => {
      calls += 1;
      return route.fulfill({ status: 429, headers: { "Retry-After": "1", "Content-Type": "application/json" },
        body: JSON.stringify({ success: false, error: { code: "busy", message: "The server is busy; retry shortly." }, detail: "busy" }) });
    });
    await page.setInputFiles("#files", path.join(DATA, "astronaut.jpg"));
    await page.click("#process");
    await page.waitForFunction(() => /retrying|Trying again/i.test(document.getElementById("status").textContent), null, { timeout: 10_000 });
    const waiting = (await page.textContent("#status")).trim();
    const busy = await statusText("error");
    await shot("02-busy");
    await page.unroute("**/api/v1/process");

    step = "upload too large (413)";
    await page.route("**/api/v1/process", (route) => route.fulfill({ status: 413, contentType: "application/json",
      body: JSON.stringify({ success: false, error: { code: "upload_too_large", message: "The upload is larger than the 20 MB limit." }, detail: "x" }) }));
    await page.click("#process");
    const tooLarge = await statusText("error");
    await page.unroute("**/api/v1/process");

    step = "a setting out of range";
    await page.fill("#width", "5");
    await page.click("#process");
    const invalid = await statusText("error");
    const invalidMarked = await page.getAttribute("#width", "aria-invalid");
    await shot("03-invalid-width");
    return { order, presetAfterKey, calls, waiting, busy, tooLarge, invalid, invalidMarked };
  },
};

let result;
let failure = null;
try {
  if (!scenarios[scenario]) throw new Error(`unknown scenario ${scenario}`);
  result = await scenarios[scenario]();
} catch (error) {
  failure = `${scenario}: step "${step}" failed: ${error.message}`;
  try { await shot("failure"); } catch { /* the page may be gone */ }
}
await context.close();
rmSync(profile, { recursive: true, force: true });
const report = { ok: failure === null, failure, result, shots, consoleErrors };
writeFileSync(path.join(outDir, `${scenario}-report.json`), JSON.stringify(report, null, 2));
console.log(JSON.stringify(report));
process.exit(failure === null ? 0 : 1);
