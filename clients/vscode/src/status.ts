/**
 * The status bar item: idle / busy / error from the server's `qwen/status` notifications,
 * plus what only the extension knows (starting, stopped, disabled for this editor).
 */
import * as vscode from 'vscode';

export const STATUS_ITEM_ID = 'qwen-lsp.status';

/** Payload of the server's `qwen/status` notification. */
export interface ServerStatus {
    state: 'idle' | 'busy' | 'error' | string;
    busy?: boolean;
    message?: string;
}

export type ClientState = 'starting' | 'running' | 'stopped';

const ICONS: Record<string, string> = {
    idle: '$(sparkle)',
    busy: '$(loading~spin)',
    error: '$(error)',
    disabled: '$(circle-slash)',
    starting: '$(loading~spin)',
    stopped: '$(debug-disconnect)',
};

export class StatusBar implements vscode.Disposable {
    private readonly item: vscode.StatusBarItem;
    private server: ServerStatus = { state: 'idle', message: '' };
    private client: ClientState = 'starting';
    private enabledHere = true;
    private endpoint = '';

    constructor(command: string) {
        this.item = vscode.window.createStatusBarItem(
            STATUS_ITEM_ID,
            vscode.StatusBarAlignment.Right,
            100,
        );
        this.item.name = 'Qwen Coder';
        this.item.command = command;
        this.render();
        this.item.show();
    }

    setServerStatus(status: ServerStatus): void {
        this.server = status;
        this.render();
    }

    setClientState(state: ClientState): void {
        this.client = state;
        if (state !== 'running') {
            this.server = { state: 'idle', message: '' };
        }
        this.render();
    }


    /** The endpoint the settings name (the hover says which server an error is about). */
    setEndpoint(baseUrl: string, model: string): void {
        this.endpoint = baseUrl ? `${baseUrl} (model ${model})` : '';
        this.render();
    }

    setEnabledHere(enabled: boolean): void {
        this.enabledHere = enabled;
        this.render();
    }

    /** The server's last message (an error's explanation), if any. */
    get message(): string {
        return this.server.message ?? '';
    }

    /** The state shown, in the order that matters to the user. */
    get state(): string {
        if (this.client !== 'running') {
            return this.client;
        }
        if (this.server.state === 'error') {
            return 'error';
        }
        if (!this.enabledHere) {
            return 'disabled';
        }
        return this.server.state === 'busy' || this.server.busy ? 'busy' : 'idle';
    }

    private render(): void {
        const state = this.state;
        const detail = state === 'error' || state === 'busy' ? this.server.message : '';
        this.item.text = `${ICONS[state] ?? ICONS.idle} Qwen`;
        const lines = [`Qwen Coder: ${state}${detail ? ` — ${detail}` : ''}`];
        if (this.endpoint) {
            lines.push(`Endpoint: ${this.endpoint}`);
        }
        if (state === 'error' && /api key/i.test(detail ?? '')) {
            // The key is never a setting here: it lives in VS Code's secret storage.
            lines.push('Set the key with the command Qwen: Set API Key (kept in secret storage)');
        }
        lines.push('Click for actions');
        this.item.tooltip = lines.join('\n');
        this.item.accessibilityInformation = {
            label: `Qwen Coder: ${state}${state === 'error' && detail ? ` — ${detail}` : ''}`,
        };
        this.item.backgroundColor =
            state === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    }

    dispose(): void {
        this.item.dispose();
    }
}
