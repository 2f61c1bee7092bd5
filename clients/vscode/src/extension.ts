/**
 * Qwen Coder for VS Code: starts the qwen-lsp language server and wires it to the editor.
 *
 * Ghost text comes from the server's `textDocument/inlineCompletion` (vscode-languageclient
 * registers the provider itself); this file adds settings, the API key in SecretStorage, the
 * status bar, commands, next-edit predictions (nextEdit.ts), and restarts the server when its
 * command line changes.
 */
import * as vscode from 'vscode';
import {
    DidChangeConfigurationNotification,
    Executable,
    LanguageClient,
    LanguageClientOptions,
    ResponseError,
    State,
    TransportKind,
} from 'vscode-languageclient/node';

import {
    SECTION,
    isEnabledFor,
    isGloballyEnabled,
    isLanguageEnabled,
    languagesSetting,
    needsRestart,
    serverLaunch,
    serverSettings,
    updateSetting,
} from './config';
import { NOTIFICATION as NEXT_EDIT, NextEditView, nextEditCapability } from './nextEdit';
import { logServerStderr } from './serverLog';
import { InstallError, ServerInstaller } from './serverInstall';
import { ServerStatus, StatusBar } from './status';

const API_KEY_SECRET = 'qwen-lsp.apiKey';
const STATUS_NOTIFICATION = 'qwen/status';

class QwenExtension implements vscode.Disposable {
    private client: LanguageClient | undefined;
    private apiKey: string | undefined;
    private readonly output: vscode.LogOutputChannel;
    private readonly status: StatusBar;
    private readonly nextEdit: NextEditView;
    private readonly disposables: vscode.Disposable[] = [];
    /** Serialises start/stop/restart so overlapping requests cannot leak a server process. */
    private lifecycle: Promise<void> = Promise.resolve();

    constructor(private readonly context: vscode.ExtensionContext) {
        this.output = vscode.window.createOutputChannel('Qwen Coder', { log: true });
        this.status = new StatusBar('qwen-lsp.statusMenu');
        this.nextEdit = new NextEditView(() => this.client);
        this.disposables.push(this.output, this.status, this.nextEdit);
    }

    async activate(): Promise<void> {
        this.apiKey = await this.context.secrets.get(API_KEY_SECRET);
        const command = (id: string, run: (...args: unknown[]) => unknown) =>
            this.disposables.push(vscode.commands.registerCommand(id, run));
        command('qwen-lsp.setApiKey', () => this.setApiKey());
        command('qwen-lsp.clearApiKey', () => this.clearApiKey());
        command('qwen-lsp.toggle', () => this.toggle());
        command('qwen-lsp.toggleLanguage', () => this.toggleLanguage());
        command('qwen-lsp.triggerInlineCompletion', () => this.trigger());
        command('qwen-lsp.restartServer', () => this.restart());
        command('qwen-lsp.showLog', () => this.output.show(true));
        command('qwen-lsp.statusMenu', () => this.statusMenu());

        this.disposables.push(
            vscode.workspace.onDidChangeConfiguration((event) => this.onConfigurationChange(event)),
            vscode.window.onDidChangeActiveTextEditor(() => this.updateEnabledHere()),
            // A key set or removed in another window.
            this.context.secrets.onDidChange(async (event) => {
                if (event.key !== API_KEY_SECRET) {
                    return;
                }
                const key = await this.context.secrets.get(API_KEY_SECRET);
                if (key === this.apiKey) {
                    return;
                }
                this.apiKey = key;
                if (key) {
                    this.pushSettings();
                } else {
                    await this.restart(); // the server keeps a key it was given
                }
            }),
        );
        this.updateEnabledHere();
        this.updateEndpoint();
        await this.start();
    }

    // --- the language client ----------------------------------------------------------------

    private start(): Promise<void> {
        return this.serialised(() => this.startClient());
    }

    private restart(): Promise<void> {
        return this.serialised(async () => {
            await this.stopClient();
            await this.startClient();
        });
    }

    private serialised(step: () => Promise<void>): Promise<void> {
        this.lifecycle = this.lifecycle.then(step, step);
        return this.lifecycle;
    }

    /** The server's command line: the settings' or the extension's own installation. */
    private async resolveLaunch(): Promise<ReturnType<typeof serverLaunch>> {
        const explicit = serverLaunch();
        if (explicit) {
            return explicit;
        }
        const installer = new ServerInstaller(
            this.context.globalStorageUri.fsPath,
            this.context.asAbsolutePath('bundled/wheels'),
            String(this.context.extension.packageJSON.version),
            this.output,
        );
        const ready = installer.installed();
        if (ready) {
            return serverLaunch(ready);
        }
        try {
            const python = await vscode.window.withProgress(
                {
                    location: vscode.ProgressLocation.Notification,
                    title: 'Qwen Coder: installing the qwen-lsp server (once)…',
                },
                () => installer.ensure(),
            );
            return serverLaunch(python);
        } catch (error) {
            if (!(error instanceof InstallError)) {
                throw error;
            }
            this.output.error(`Could not install the server: ${error.message}`);
            void this.explainInstallFailure(error);
            return undefined;
        }
    }

    private async startClient(): Promise<void> {
        this.status.setClientState('starting');
        const launch = await this.resolveLaunch();
        if (!launch) {
            this.status.setClientState('stopped');
            return;
        }
        const executable: Executable = {
            command: launch.command,
            args: launch.args,
            transport: TransportKind.stdio,
            options: { env: launch.env },
        };
        const clientOptions: LanguageClientOptions = {
            documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
            outputChannel: this.output,
            stdioOptions: {
                stdout: (input) => logServerStderr(input, this.output),
                stderr: (input) => logServerStderr(input, this.output),
            },
            initializationOptions: () => ({
                statusNotifications: true,
                ...serverSettings(this.apiKey),
            }),
            middleware: {
                provideInlineCompletionItems: (document, position, context, token, next) =>
                    isEnabledFor(document) ? next(document, position, context, token) : null,
                provideCompletionItem: (document, position, context, token, next) =>
                    this.completionItemsWanted(document)
                        ? next(document, position, context, token)
                        : null,
                workspace: {
                    configuration: async (params, token, next) => {
                        const answer = await next(params, token);
                        if (answer instanceof ResponseError) {
                            return answer;
                        }
                        return params.items.map((item, index) =>
                            item.section === SECTION ? serverSettings(this.apiKey) : answer[index],
                        );
                    },
                },
            },
        };
        const client = new LanguageClient(
            SECTION,
            'Qwen Coder',
            { run: executable, debug: executable },
            clientOptions,
        );
        this.client = client;
        client.onDidChangeState((event) => {
            if (client !== this.client) {
                return;
            }
            if (event.newState === State.Running) {
                this.status.setClientState('running');
            } else if (event.newState === State.Starting) {
                this.status.setClientState('starting');
            } else {
                this.status.setClientState('stopped');
            }
        });
        client.onNotification(STATUS_NOTIFICATION, (status: ServerStatus) => {
            if (client === this.client) {
                this.status.setServerStatus(status);
            }
        });
        client.registerFeature(nextEditCapability);
        client.onNotification(NEXT_EDIT, (params) => {
            if (client === this.client) {
                this.nextEdit.update(params);
            }
        });
        this.status.setClientState('starting');
        this.output.info(`Starting ${launch.command} ${launch.args.join(' ')}`);
        try {
            await client.start();
        } catch (error) {
            this.status.setClientState('stopped');
            this.output.error(`Could not start the server: ${String(error)}`);
            void this.explainStartFailure(launch.command, error);
        }
    }

    private async stopClient(): Promise<void> {
        const client = this.client;
        this.client = undefined;
        if (!client) {
            return;
        }
        try {
            await client.stop(5000);
        } catch (error) {
            this.output.warn(`Stopping the server: ${String(error)}`);
        }
        this.status.setClientState('stopped');
    }

    private async explainInstallFailure(error: InstallError): Promise<void> {
        const tried = error.attempts.length
            ? error.attempts.map((a) => `${a.python} from ${a.source}: ${a.problem}`).join('; ')
            : 'no Python interpreter was found';
        await this.offerFix(
            `Qwen Coder needs Python 3.10+ to install its language server, and none worked. Tried ${tried}. ` +
                'Install Python 3.10+ (with venv) and set python.defaultInterpreterPath to it, or install the ' +
                'server yourself (pipx install /path/to/qwen-lsp) and set qwen-lsp.server.path.',
        );
    }

    private async explainStartFailure(command: string, error: unknown): Promise<void> {
        await this.offerFix(
            `Qwen Coder could not start the language server (${command}): ${String(error)}. ` +
                'Check qwen-lsp.server.path / qwen-lsp.server.pythonPath, or clear both to let the extension ' +
                'use its own copy of the server.',
        );
    }

    private async offerFix(message: string): Promise<void> {
        const choice = await vscode.window.showErrorMessage(message, 'Open Settings', 'Show Log');
        if (choice === 'Open Settings') {
            await vscode.commands.executeCommand('workbench.action.openSettings', 'qwen-lsp.server');
        } else if (choice === 'Show Log') {
            this.output.show(true);
        }
    }

    /** Send the current settings to a running server (no restart needed). */
    private pushSettings(): void {
        const client = this.client;
        if (!client || !client.isRunning()) {
            return;
        }
        void client
            .sendNotification(DidChangeConfigurationNotification.type, {
                settings: { [SECTION]: serverSettings(this.apiKey) },
            })
            .catch((error: unknown) =>
                this.output.error(`Sending settings failed: ${String(error)}`),
            );
    }

    private onConfigurationChange(event: vscode.ConfigurationChangeEvent): void {
        if (!event.affectsConfiguration(SECTION)) {
            return;
        }
        this.updateEnabledHere();
        this.updateEndpoint();
        if (needsRestart(event)) {
            this.output.info('Server settings changed: restarting the server');
            void this.restart();
        } else {
            this.output.info('Settings changed: sent to the running server');
            this.pushSettings();
        }
    }

    private completionItemsWanted(document: vscode.TextDocument): boolean {
        const wanted = vscode.workspace
            .getConfiguration(SECTION)
            .get<boolean>('completion.completionItems', false);
        return wanted && isEnabledFor(document);
    }

    private updateEndpoint(): void {
        const cfg = vscode.workspace.getConfiguration(SECTION);
        const extra = cfg.get<{ endpoint?: { baseUrl?: string; model?: string } }>('serverSettings', {});
        this.status.setEndpoint(
            extra.endpoint?.baseUrl ?? cfg.get<string>('endpoint.baseUrl', ''),
            extra.endpoint?.model ?? cfg.get<string>('endpoint.model', ''),
        );
    }

    private updateEnabledHere(): void {
        const document = vscode.window.activeTextEditor?.document;
        this.status.setEnabledHere(document ? isEnabledFor(document) : isGloballyEnabled());
    }

    // --- commands ---------------------------------------------------------------------------

    private async setApiKey(): Promise<void> {
        const key = await vscode.window.showInputBox({
            title: 'Qwen Coder: API key',
            prompt: 'Stored in VS Code secret storage, never in settings.json. Leave empty to remove it.',
            password: true,
            ignoreFocusOut: true,
        });
        if (key === undefined) {
            return;
        }
        if (key.trim()) {
            this.apiKey = key.trim();
            await this.context.secrets.store(API_KEY_SECRET, this.apiKey);
            this.pushSettings();
            void vscode.window.showInformationMessage('Qwen Coder: API key saved.');
        } else {
            await this.clearApiKey();
        }
    }

    private async clearApiKey(): Promise<void> {
        this.apiKey = undefined;
        await this.context.secrets.delete(API_KEY_SECRET);
        // The server keeps a key it was given until restarted; start afresh without it.
        await this.restart();
        void vscode.window.showInformationMessage('Qwen Coder: API key removed.');
    }

    private async toggle(): Promise<void> {
        const enable = !isGloballyEnabled();
        await updateSetting('enable', enable);
        if (!enable) {
            await vscode.commands.executeCommand('editor.action.inlineSuggest.hide');
        }
        vscode.window.setStatusBarMessage(
            `Qwen Coder: inline completion ${enable ? 'enabled' : 'disabled'}`,
            3000,
        );
    }

    private async toggleLanguage(): Promise<void> {
        const languageId = vscode.window.activeTextEditor?.document.languageId;
        if (!languageId) {
            void vscode.window.showInformationMessage('Qwen Coder: open a file first.');
            return;
        }
        const languages = languagesSetting();
        const enable = !isLanguageEnabled(languageId);
        languages[languageId] = enable;
        await updateSetting('languages', languages);
        vscode.window.setStatusBarMessage(
            `Qwen Coder: inline completion ${enable ? 'enabled' : 'disabled'} for ${languageId}`,
            3000,
        );
    }

    private async trigger(): Promise<void> {
        const document = vscode.window.activeTextEditor?.document;
        if (document && !isEnabledFor(document)) {
            const choice = await vscode.window.showInformationMessage(
                `Qwen Coder inline completion is disabled for ${document.languageId}.`,
                'Enable',
            );
            if (choice !== 'Enable') {
                return;
            }
            if (!isGloballyEnabled()) {
                await updateSetting('enable', true);
            }
            if (!isLanguageEnabled(document.languageId)) {
                await updateSetting('languages', {
                    ...languagesSetting(),
                    [document.languageId]: true,
                });
            }
        }
        await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
    }

    private async statusMenu(): Promise<void> {
        const enabled = isGloballyEnabled();
        const languageId = vscode.window.activeTextEditor?.document.languageId;
        const items: (vscode.QuickPickItem & { command: string })[] = [
            {
                label: enabled ? '$(circle-slash) Disable inline completion' : '$(check) Enable inline completion',
                command: 'qwen-lsp.toggle',
            },
        ];
        if (languageId) {
            items.push({
                label: `$(symbol-keyword) ${isLanguageEnabled(languageId) ? 'Disable' : 'Enable'} for ${languageId}`,
                command: 'qwen-lsp.toggleLanguage',
            });
        }
        items.push(
            { label: '$(key) Set API key', command: 'qwen-lsp.setApiKey' },
            { label: '$(debug-restart) Restart server', command: 'qwen-lsp.restartServer' },
            { label: '$(output) Show log', command: 'qwen-lsp.showLog' },
            { label: '$(settings-gear) Open settings', command: 'qwen-lsp.openSettings' },
        );
        const state = this.status.state;
        const picked = await vscode.window.showQuickPick(items, {
            title: `Qwen Coder: ${state}`,
            placeHolder: state === 'error' ? this.status.message : undefined,
        });
        if (!picked) {
            return;
        }
        if (picked.command === 'qwen-lsp.openSettings') {
            await vscode.commands.executeCommand('workbench.action.openSettings', SECTION);
        } else {
            await vscode.commands.executeCommand(picked.command);
        }
    }

    async deactivate(): Promise<void> {
        await this.serialised(() => this.stopClient());
    }

    dispose(): void {
        for (const disposable of this.disposables) {
            disposable.dispose();
        }
    }
}

let extension: QwenExtension | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
    extension = new QwenExtension(context);
    context.subscriptions.push(extension);
    await extension.activate();
}

export async function deactivate(): Promise<void> {
    await extension?.deactivate();
    extension = undefined;
}
