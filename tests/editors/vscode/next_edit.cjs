// Drives VS Code (code-server) through a next-edit prediction, as a user would.
//
// Usage: node next_edit.cjs '<json>' with url, chromium, screenshotDir, timeoutMs, file (to
// open; path: its absolute path), at ("line:column" where the renamed word starts), word (its
// new text). The user selects the word there and types the new one; the extension shows the predicted edit (a highlight and
// "⇥ new text" after the line); Tab jumps to it, Tab applies it; the file is saved.
// Prints one JSON object: the preview shown, the cursor after the jump, the status after apply.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');

const config = JSON.parse(process.argv[2]);
const timeout = config.timeoutMs ?? 30000;
const started = Date.now();

function log(message) {
    process.stderr.write(`[next-edit ${((Date.now() - started) / 1000).toFixed(1)}s] ${message}\n`);
}

/** The "⇥ …" texts the prediction's decorations put after lines (CSS ::after content). */
function previews() {
    const found = [];
    for (const element of document.querySelectorAll('.view-lines span')) {
        const after = getComputedStyle(element, '::after').content;
        for (const text of [after, element.textContent ?? '']) {
            if (text.includes('⇥')) {
                // CSS content: quoted, with its own quotes escaped.
                found.push(text.replace(/^"|"$/g, '').replace(/\\(.)/g, '$1').replace(/\u00a0/g, ' '));
            }
        }
    }
    return [...new Set(found)];
}

async function cursorStatus(page) {
    const item = page.locator('.statusbar-item[id="status.editor.selection"]');
    await item.waitFor({ timeout });
    return (await item.innerText()).trim();
}

async function quickInput(page, key, text, row) {
    await page.keyboard.press(key);
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout });
    await input.fill(text);
    if (row) {
        await page.locator('.quick-input-list .monaco-list-row', { hasText: row }).first().waitFor({ timeout });
    }
    await page.keyboard.press('Enter');
}

async function scenario(page, result) {
    await page.locator('.statusbar-item[id$="qwen-lsp.status"]').waitFor({ timeout });
    await quickInput(page, 'Control+P', config.file, path.basename(config.file));
    await page.locator('.tab.active', { hasText: path.basename(config.file) }).waitFor({ timeout });
    await page.locator('.monaco-editor .view-lines').first().click();
    await quickInput(page, 'Control+G', `:${config.at}`); // go to line:column
    await page.keyboard.press('Control+Shift+ArrowRight');
    await page.keyboard.type(config.word, { delay: 60 });
    log(`renamed at ${config.at} to ${config.word}`);
    result.cursorAfterTyping = await cursorStatus(page);

    await page.waitForFunction(() => previews().length > 0, null, { timeout });
    await page.waitForTimeout(300);
    result.previews = await page.evaluate(previews);
    log(`prediction shown: ${JSON.stringify(result.previews)}`);
    await page.screenshot({ path: path.join(config.screenshotDir, 'next-edit-shown.png') });

    await page.keyboard.press('Tab');
    await page.waitForFunction(
        (before) => {
            const item = document.querySelector('.statusbar-item[id="status.editor.selection"]');
            return item !== null && item.textContent.trim() !== before;
        },
        result.cursorAfterTyping,
        { timeout },
    );
    result.cursorAfterJump = await cursorStatus(page);
    log(`Tab jumped: ${result.cursorAfterJump}`);

    await page.keyboard.press('Tab');
    await page.waitForFunction(() => previews().length === 0, null, { timeout });
    await page.waitForTimeout(300);
    result.previewsAfterApply = await page.evaluate(previews);
    await page.screenshot({ path: path.join(config.screenshotDir, 'next-edit-applied.png') });
    // Save, and wait until the file on disk has changed (closing the browser at once could
    // drop the save on its way to code-server).
    const before = fs.readFileSync(config.path, 'utf8');
    await page.keyboard.press('Control+S');
    const deadline = Date.now() + timeout;
    while (fs.readFileSync(config.path, 'utf8') === before) {
        if (Date.now() > deadline) {
            throw new Error('the file was not saved');
        }
        await page.waitForTimeout(100);
    }
    await page.screenshot({ path: path.join(config.screenshotDir, 'next-edit-saved.png') });
    log('applied and saved');
}

async function main() {
    const result = {};
    const browser = await chromium.launch({
        executablePath: config.chromium,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.addInitScript(`window.previews = ${previews.toString()};`);
    try {
        await page.goto(config.url);
        await page.waitForSelector('.monaco-workbench', { timeout: 60000 });
        await scenario(page, result);
    } catch (error) {
        result.error = String(error && error.stack ? error.stack : error);
        await page.screenshot({ path: path.join(config.screenshotDir, 'failure.png') }).catch(() => undefined);
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
