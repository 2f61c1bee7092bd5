// Drives VS Code (code-server) in Debian's Chromium through playwright-core, as a user would.
//
// Usage: node drive.cjs '<json>' where the JSON has
//   url            code-server URL with ?folder=...
//   chromium       path of the Chromium executable
//   screenshotDir  where screenshots go (one per ghost text and a final one; one on failure)
//   file           workspace-relative file to open
//   firstText      typed at the end of the file while the endpoint still wants an API key:
//                  the status bar must turn to error
//   apiKey         then set through "Qwen: Set API Key"; "Qwen: Trigger Inline Completion"
//                  asks again and the ghost text that follows is accepted with Tab
//   secondText     typed on a new line; its ghost text (asked for by VS Code itself) is accepted
//   timeoutMs      time limit for each wait
//   scenario       "apiKey" (the steps above, the default) or "firstHour": no server settings, the
//                  extension installs its own server (or, with expectInstallFailure, says why it
//                  cannot); type firstText and accept; then settings.json is edited on disk
//                  (userSettings: its path; newModel: the endpoint.model written there) and
//                  secondText typed on a new line is completed with the new setting
// Prints one JSON object on stdout: what the editor showed at each step, and every label the
// status bar item had. The pytest test makes the assertions; this script only fails when a step
// cannot be carried out.
'use strict';

const path = require('node:path');
const { chromium } = require('playwright-core');

const config = JSON.parse(process.argv[2]);
const timeout = config.timeoutMs ?? 30000;
const started = Date.now();

function log(message) {
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    process.stderr.write(`[drive ${seconds}s] ${message}\n`);
}

const CHROMIUM_ARGS = [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-dev-shm-usage',
];

/** The status bar item contributed by the extension (id `<extension id>.qwen-lsp.status`). */
function statusItem(page) {
    return page.locator('.statusbar-item[id$="qwen-lsp.status"]');
}

async function readStatus(page) {
    const item = statusItem(page);
    if ((await item.count()) === 0) {
        return null;
    }
    return {
        id: await item.first().getAttribute('id'),
        text: (await item.first().innerText()).trim(),
        label: await item.first().getAttribute('aria-label'),
    };
}

async function waitForStatusLabel(page, label) {
    await page.waitForFunction(
        (wanted) => {
            const item = document.querySelector('.statusbar-item[id$="qwen-lsp.status"]');
            return item !== null && item.getAttribute('aria-label') === wanted;
        },
        label,
        { timeout },
    );
}

/** The ghost text on the cursor line: VS Code splits it into one span per token. */
async function waitForGhostText(page) {
    await page.waitForSelector('span.ghost-text-decoration', { timeout });
    // Let the whole suggestion render before reading it.
    await page.waitForTimeout(200);
    return page.$$eval('span.ghost-text-decoration', (spans) =>
        spans.map((span) => span.textContent ?? '').join('').replace(/\u00a0/g, ' '),
    );
}

async function waitForNoGhostText(page) {
    await page.waitForSelector('span.ghost-text-decoration', { state: 'detached', timeout });
}

async function runCommand(page, title) {
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout });
    await input.fill(`>${title}`);
    await page
        .locator('.quick-input-list .monaco-list-row', { hasText: title })
        .first()
        .waitFor({ timeout });
    await page.keyboard.press('Enter');
}

/** Record every accessibility label the status bar item takes, from now on. */
async function recordStatusLabels(page) {
    await page.evaluate(() => {
        const seen = [];
        window.__qwenStatusLabels = seen;
        const note = () => {
            const item = document.querySelector('.statusbar-item[id$="qwen-lsp.status"]');
            const label = item && item.getAttribute('aria-label');
            if (label && seen[seen.length - 1] !== label) {
                seen.push(label);
            }
        };
        note();
        new MutationObserver(note).observe(document.querySelector('.part.statusbar'), {
            subtree: true,
            childList: true,
            attributes: true,
            attributeFilter: ['aria-label'],
        });
    });
}

async function acceptGhostText(page, result, name) {
    result[`${name}Ghost`] = await waitForGhostText(page);
    log(`ghost text ${JSON.stringify(result[`${name}Ghost`])}`);
    await page.screenshot({ path: path.join(config.screenshotDir, `${name}-ghost.png`) });
    await page.keyboard.press('Tab');
    await waitForNoGhostText(page);
    log('accepted with Tab');
}

async function focusEditorEnd(page) {
    await page.locator('.monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+End');
}

async function readHover(page) {
    await statusItem(page).first().hover();
    const hover = page.locator('.workbench-hover, .monaco-hover').filter({ hasText: 'Qwen Coder' });
    await hover.first().waitFor({ state: 'visible', timeout });
    const text = (await hover.first().innerText()).trim();
    await page.mouse.move(10, 10);
    return text;
}

async function openFile(page) {
    await page.keyboard.press('Control+P');
    const quickOpen = page.locator('.quick-input-widget input');
    await quickOpen.waitFor({ state: 'visible', timeout });
    await quickOpen.fill(config.file);
    await page
        .locator('.quick-input-list .monaco-list-row', { hasText: path.basename(config.file) })
        .first()
        .waitFor({ timeout });
    await page.keyboard.press('Enter');
    await page.locator('.tab.active', { hasText: path.basename(config.file) }).waitFor({ timeout });
    await focusEditorEnd(page);
    log(`opened ${config.file}`);
}

async function firstHour(page, result) {
    await statusItem(page).waitFor({ timeout });
    if (config.expectInstallFailure) {
        const toast = page.locator('.notification-toast', { hasText: 'Python 3.10+' });
        await toast.first().waitFor({ timeout });
        result.installFailure = (await toast.first().innerText()).trim();
        result.stoppedStatus = await readStatus(page);
        await page.screenshot({ path: path.join(config.screenshotDir, 'install-failure.png') });
        return;
    }
    // The first start installs the server (a notification shows the progress).
    await page.waitForFunction(
        () => {
            const item = document.querySelector('.statusbar-item[id$="qwen-lsp.status"]');
            return item !== null && item.getAttribute('aria-label') === 'Qwen Coder: idle';
        },
        null,
        { timeout: config.installTimeoutMs ?? 180000 },
    );
    log('server installed and running');
    await openFile(page);
    await page.keyboard.type(config.firstText, { delay: 40 });
    await acceptGhostText(page, result, 'first');
    result.idleHover = await readHover(page);

    // settings.json changed on disk (by hand, by a dotfiles sync): applied without a restart.
    const fs = require('node:fs');
    const settings = JSON.parse(fs.readFileSync(config.userSettings, 'utf8'));
    settings['qwen-lsp.endpoint.model'] = config.newModel;
    fs.writeFileSync(config.userSettings, JSON.stringify(settings, null, 2));
    log(`settings.json: endpoint.model = ${config.newModel}`);
    // The extension logs each configuration change it receives.
    const logged = () => {
        const found = [];
        const walk = (dir) => {
            for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
                const full = path.join(dir, entry.name);
                if (entry.isDirectory()) walk(full);
                else if (entry.name === 'Qwen Coder.log') found.push(fs.readFileSync(full, 'utf8'));
            }
        };
        walk(config.logsDir);
        return found.join('\n').includes('Settings changed');
    };
    const deadline = Date.now() + timeout;
    while (!logged()) {
        if (Date.now() > deadline) {
            throw new Error('the settings.json change never reached the extension');
        }
        await page.waitForTimeout(200);
    }
    result.settingsAppliedAfterMs = timeout - (deadline - Date.now());
    log(`settings change seen after ${result.settingsAppliedAfterMs} ms`);
    await focusEditorEnd(page);
    await page.keyboard.press('Enter');
    await page.keyboard.press('Home');
    await page.keyboard.type(config.secondText, { delay: 40 });
    await acceptGhostText(page, result, 'second');
    await page.keyboard.press('Control+S');
    await page.locator('.tab.active.dirty').waitFor({ state: 'detached', timeout });
    await page.screenshot({ path: path.join(config.screenshotDir, 'final.png') });
}

async function apiKeyScenario(page, result) {
    await statusItem(page).waitFor({ timeout });
    await waitForStatusLabel(page, 'Qwen Coder: idle');
    result.startStatus = await readStatus(page);
    log(`status bar: ${JSON.stringify(result.startStatus)}`);

    await recordStatusLabels(page);

    await openFile(page);

    // No API key yet: the endpoint refuses, the status bar turns to error.
    await page.keyboard.type(config.firstText, { delay: 40 });
    log(`typed ${JSON.stringify(config.firstText)}`);
    await page.waitForFunction(
        () => {
            const item = document.querySelector('.statusbar-item[id$="qwen-lsp.status"]');
            return (item?.getAttribute('aria-label') ?? '').startsWith('Qwen Coder: error');
        },
        null,
        { timeout },
    );
    result.errorStatus = await readStatus(page);
    log(`status bar: ${JSON.stringify(result.errorStatus)}`);
    result.errorHover = await readHover(page);
    log(`hover: ${JSON.stringify(result.errorHover)}`);
    await page.screenshot({ path: path.join(config.screenshotDir, 'error.png') });

    await runCommand(page, 'Qwen: Set API Key');
    const keyInput = page.locator('.quick-input-widget input[type="password"]');
    await keyInput.waitFor({ state: 'visible', timeout });
    await keyInput.fill(config.apiKey);
    await page.keyboard.press('Enter');
    await page
        .locator('.notification-toast', { hasText: 'API key saved' })
        .waitFor({ timeout });
    log('API key set');

    // Ask explicitly, at the same place, now that the key is there.
    await focusEditorEnd(page);
    await runCommand(page, 'Qwen: Trigger Inline Completion');
    await acceptGhostText(page, result, 'first');

    // A new line: this time VS Code asks by itself while the user types.
    await page.keyboard.press('Enter');
    await page.keyboard.press('Home');
    await page.keyboard.type(config.secondText, { delay: 40 });
    log(`typed ${JSON.stringify(config.secondText)}`);
    await acceptGhostText(page, result, 'second');
    await waitForStatusLabel(page, 'Qwen Coder: idle');

    await page.keyboard.press('Control+S');
    await page.locator('.tab.active.dirty').waitFor({ state: 'detached', timeout });
    log('saved');

    await runCommand(page, 'Qwen: Toggle Inline Completion');
    await waitForStatusLabel(page, 'Qwen Coder: disabled');
    result.toggledStatus = await readStatus(page);
    log(`after toggle: ${JSON.stringify(result.toggledStatus)}`);
    result.statusLabels = await page.evaluate(() => window.__qwenStatusLabels);
    await page.screenshot({ path: path.join(config.screenshotDir, 'final.png') });
}

async function main() {
    const result = {};
    const browser = await chromium.launch({
        executablePath: config.chromium,
        headless: true,
        args: CHROMIUM_ARGS,
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    try {
        await page.goto(config.url);
        await page.waitForSelector('.monaco-workbench', { timeout: 60000 });
        log('workbench loaded');
        await (config.scenario === 'firstHour' ? firstHour(page, result) : apiKeyScenario(page, result));
    } catch (error) {
        result.error = String(error && error.stack ? error.stack : error);
        result.statusLabels = await page
            .evaluate(() => window.__qwenStatusLabels)
            .catch(() => undefined);
        const shot = path.join(config.screenshotDir, 'failure.png');
        await page.screenshot({ path: shot }).catch(() => undefined);
        result.screenshot = shot;
        log(`failed: ${result.error}`);
    } finally {
        await browser.close();
    }
    process.stdout.write(JSON.stringify(result) + '\n');
    process.exitCode = result.error ? 1 : 0;
}

main().catch((error) => {
    process.stderr.write(`${error && error.stack ? error.stack : error}\n`);
    process.exit(2);
});
