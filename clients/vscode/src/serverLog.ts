/**
 * The server's stderr, line by line, into the output channel at the level the server logged it
 * ("2026-01-02 10:11:12,345 WARNING qwen_lsp.x: text" → warn). A line without a level (a
 * traceback's continuation) keeps the level of the line before it.
 */
import * as readline from 'node:readline';
import type { Readable } from 'node:stream';
import * as vscode from 'vscode';

export type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error';

const SERVER_LINE = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:[,.]\d+)? (DEBUG|INFO|WARNING|ERROR|CRITICAL) (.*)$/;
const LEVELS: Record<string, Level> = {
    DEBUG: 'debug',
    INFO: 'info',
    WARNING: 'warn',
    ERROR: 'error',
    CRITICAL: 'error',
};

/** The level and text (without the server's own timestamp) of one stderr line. */
export function parseServerLine(line: string, previous: Level): { level: Level; text: string } {
    const match = SERVER_LINE.exec(line);
    if (!match) {
        return { level: previous, text: line };
    }
    return { level: LEVELS[match[1]], text: match[2] };
}

/** Pipe a stderr stream into ``output`` with the server's levels. */
export function logServerStderr(input: Readable, output: vscode.LogOutputChannel): void {
    let level: Level = 'error'; // text before any log line: Python itself failing
    readline
        .createInterface({ input, crlfDelay: Infinity, terminal: false, historySize: 0 })
        .on('line', (line) => {
            const parsed = parseServerLine(line, level);
            level = parsed.level;
            if (level === 'debug' && output.logLevel > vscode.LogLevel.Debug) {
                // qwen-lsp.logLevel = debug asked for them: show them at the channel's level too.
                output.info(`(debug) ${parsed.text}`);
            } else {
                output[level](parsed.text);
            }
        });
}
