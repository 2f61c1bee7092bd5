/**
 * The extension's settings, read from VS Code and translated into what the server understands.
 *
 * The server takes one nested settings object (the shape of its config.toml, camelCase keys) as
 * `initializationOptions` and as the answer to `workspace/configuration` for section "qwen-lsp".
 * Keys that only the extension uses (server path, per-language switches, ...) are never sent:
 * the server reports unknown keys as mistakes.
 */
import * as vscode from 'vscode';

export const SECTION = 'qwen-lsp';

/** Settings whose change needs a new server process; every other change is pushed live. */
const RESTART_KEYS = ['server.path', 'server.pythonPath', 'server.args', 'server.env'];

export type JsonObject = { [key: string]: unknown };

export interface ServerLaunch {
    command: string;
    args: string[];
    env: NodeJS.ProcessEnv;
}

function config(scope?: vscode.ConfigurationScope): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration(SECTION, scope);
}

/**
 * How to start the server: an explicit executable, or `python -m qwen_lsp` with an explicit
 * Python, or (neither set) with ``managedPython``, the extension's own installation.
 */
export function serverLaunch(managedPython?: string): ServerLaunch | undefined {
    const cfg = config();
    const path = cfg.get<string>('server.path', '').trim();
    const python = cfg.get<string>('server.pythonPath', '').trim() || managedPython;
    const extra = cfg.get<string[]>('server.args', []);
    const env = { ...process.env, ...cfg.get<Record<string, string>>('server.env', {}) };
    if (path) {
        return { command: expandHome(path), args: ['--stdio', ...extra], env };
    }
    if (python) {
        return { command: expandHome(python), args: ['-m', 'qwen_lsp', '--stdio', ...extra], env };
    }
    return undefined;
}

function expandHome(path: string): string {
    const home = process.env.HOME ?? process.env.USERPROFILE;
    return home && (path === '~' || path.startsWith('~/')) ? home + path.slice(1) : path;
}

export function needsRestart(event: vscode.ConfigurationChangeEvent): boolean {
    return RESTART_KEYS.some((key) => event.affectsConfiguration(`${SECTION}.${key}`));
}

export function isGloballyEnabled(): boolean {
    return config().get<boolean>('enable', true);
}

/** The per-language switch: an explicit entry for the language wins over "*". */
export function isLanguageEnabled(languageId: string): boolean {
    const languages = config().get<Record<string, boolean>>('languages', {});
    if (typeof languages[languageId] === 'boolean') {
        return languages[languageId];
    }
    return languages['*'] !== false;
}

export function isEnabledFor(document: vscode.TextDocument): boolean {
    return isGloballyEnabled() && isLanguageEnabled(document.languageId);
}

/**
 * The server's settings object. `apiKey` comes from SecretStorage and is only included when
 * set, so an API key from the server's own environment (QWEN_LSP_API_KEY, ...) still applies.
 */
export function serverSettings(apiKey: string | undefined): JsonObject {
    const cfg = config();
    const languages = cfg.get<Record<string, boolean>>('languages', {});
    const disabledLanguages = Object.keys(languages).filter(
        (id) => id !== '*' && languages[id] === false,
    );
    const endpoint: JsonObject = {
        baseUrl: cfg.get<string>('endpoint.baseUrl'),
        model: cfg.get<string>('endpoint.model'),
        transport: cfg.get<string>('endpoint.transport'),
        timeoutS: cfg.get<number>('endpoint.timeoutSeconds'),
    };
    if (apiKey) {
        endpoint.apiKey = apiKey;
    }
    const settings: JsonObject = {
        endpoint,
        completion: {
            enabled: cfg.get<boolean>('enable', true),
            maxTokens: cfg.get<number>('completion.maxTokens'),
            multilineMaxTokens: cfg.get<number>('completion.multilineMaxTokens'),
            debounceMs: cfg.get<number>('completion.debounceMs'),
            temperature: cfg.get<number>('completion.temperature'),
            completionItems: cfg.get<boolean>('completion.completionItems', false),
            disabledLanguages,
        },
        nextEdit: {
            enabled: cfg.get<boolean>('nextEdit.enable'),
            model: cfg.get<string>('nextEdit.model'),
            format: cfg.get<string>('nextEdit.format'),
            debounceMs: cfg.get<number>('nextEdit.debounceMs'),
        },
        logLevel: cfg.get<string>('logLevel'),
    };
    const extra = cfg.get<JsonObject>('serverSettings', {});
    return deepMerge(settings, extra);
}

/** `override` merged into `base`; nested objects merge, everything else replaces. */
export function deepMerge(base: JsonObject, override: JsonObject): JsonObject {
    const out: JsonObject = { ...base };
    for (const [key, value] of Object.entries(override ?? {})) {
        const current = out[key];
        out[key] = isObject(current) && isObject(value) ? deepMerge(current, value) : value;
    }
    return out;
}

function isObject(value: unknown): value is JsonObject {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Flip a setting in the user's settings (or the workspace's, if that is where it is set). */
export async function updateSetting(key: string, value: unknown): Promise<void> {
    const cfg = config();
    const inspected = cfg.inspect(key);
    const target =
        inspected?.workspaceFolderValue !== undefined
            ? vscode.ConfigurationTarget.WorkspaceFolder
            : inspected?.workspaceValue !== undefined
              ? vscode.ConfigurationTarget.Workspace
              : vscode.ConfigurationTarget.Global;
    await cfg.update(key, value, target);
}

export function languagesSetting(): Record<string, boolean> {
    return { ...config().get<Record<string, boolean>>('languages', {}) };
}
