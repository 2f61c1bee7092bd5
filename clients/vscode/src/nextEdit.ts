/**
 * Next-edit predictions in the editor (docs/next-edit.md).
 *
 * The server sends `qwen/nextEdit` notifications (we ask for them with the experimental client
 * capability `qwenNextEdit`): a prediction for a document version, or `null` when it is gone.
 * A prediction is shown where it applies: the text it replaces is highlighted and the new text
 * follows the line, dimmed. `Tab` jumps there; at the prediction, `Tab` applies it (only to the
 * version it was made for); `Escape` dismisses it (the server then does not offer it again).
 * An edit on the cursor's own line also comes back as an inline completion with a range, which
 * VS Code shows and `Tab` accepts as usual.
 */
import * as vscode from 'vscode';
import { LanguageClient, StaticFeature } from 'vscode-languageclient/node';

export const NOTIFICATION = 'qwen/nextEdit';
const CONTEXT_KEY = 'qwen-lsp.nextEditVisible';
const ACCEPT = 'qwen-lsp.acceptNextEdit';
const REJECT = 'qwen-lsp.rejectNextEdit';
const PREVIEW_CHARS = 80;

interface LspPosition {
    line: number;
    character: number;
}
interface LspRange {
    start: LspPosition;
    end: LspPosition;
}
interface LspTextEdit {
    range: LspRange;
    newText: string;
}
interface Prediction {
    id: string;
    edits: LspTextEdit[];
    range: LspRange;
    jump: LspPosition;
    cursorLine: boolean;
}
interface NextEditParams {
    uri: string;
    version: number;
    prediction: Prediction | null;
}

/** Asks the server for `qwen/nextEdit` notifications. */
export const nextEditCapability: StaticFeature = {
    fillClientCapabilities(capabilities) {
        capabilities.experimental = { ...(capabilities.experimental ?? {}), qwenNextEdit: true };
    },
    initialize() {},
    getState() {
        return { kind: 'static' };
    },
    clear() {},
};

export class NextEditView implements vscode.Disposable {
    private current: NextEditParams | undefined;
    private readonly removed = vscode.window.createTextEditorDecorationType({
        backgroundColor: new vscode.ThemeColor('diffEditor.removedTextBackground'),
        borderRadius: '2px',
    });
    private readonly added = vscode.window.createTextEditorDecorationType({
        after: {
            color: new vscode.ThemeColor('editorGhostText.foreground'),
            margin: '0 0 0 1em',
        },
    });
    private readonly disposables: vscode.Disposable[] = [];

    constructor(private readonly client: () => LanguageClient | undefined) {
        this.disposables.push(
            this.removed,
            this.added,
            vscode.commands.registerCommand('qwen-lsp.nextEdit.tab', () => this.tab()),
            vscode.commands.registerCommand('qwen-lsp.nextEdit.dismiss', () => this.dismiss()),
            vscode.window.onDidChangeVisibleTextEditors(() => this.render()),
        );
    }

    /** A notification from the server. */
    update(params: NextEditParams): void {
        this.current = params.prediction ? params : undefined;
        this.render();
        const editor = vscode.window.activeTextEditor;
        const prediction = params.prediction;
        if (prediction?.cursorLine && editor && editor.document.uri.toString() === params.uri) {
            // On the cursor's line the server also answers inline completion with it.
            void vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
        }
    }

    private editorFor(params: NextEditParams): vscode.TextEditor | undefined {
        return vscode.window.visibleTextEditors.find(
            (editor) =>
                editor.document.uri.toString() === params.uri &&
                editor.document.version === params.version,
        );
    }

    private render(): void {
        for (const editor of vscode.window.visibleTextEditors) {
            editor.setDecorations(this.removed, []);
            editor.setDecorations(this.added, []);
        }
        const params = this.current;
        const editor = params && this.editorFor(params);
        void vscode.commands.executeCommand('setContext', CONTEXT_KEY, Boolean(editor));
        if (!params?.prediction || !editor) {
            return;
        }
        const removed: vscode.Range[] = [];
        const added: vscode.DecorationOptions[] = [];
        for (const [line, preview] of previews(editor.document, params.prediction.edits)) {
            const end = editor.document.lineAt(line).range.end;
            added.push({
                range: new vscode.Range(end, end),
                renderOptions: { after: { contentText: `⇥ ${preview}` } },
            });
        }
        for (const edit of params.prediction.edits) {
            const range = toRange(edit.range);
            if (!range.isEmpty) {
                removed.push(range);
            }
        }
        editor.setDecorations(this.removed, removed);
        editor.setDecorations(this.added, added);
    }

    /** Tab: away from the prediction, jump to it; at it, apply it. */
    private async tab(): Promise<void> {
        const params = this.current;
        const editor = params && this.editorFor(params);
        if (!params?.prediction || !editor) {
            this.clear();
            return;
        }
        const prediction = params.prediction;
        const span = toRange(prediction.range);
        const at = span.with(
            span.start.with(undefined, 0),
            editor.document.lineAt(span.end.line).range.end,
        );
        if (!at.contains(editor.selection.active)) {
            const jump = toPosition(prediction.jump);
            editor.selection = new vscode.Selection(jump, jump);
            editor.revealRange(new vscode.Range(jump, jump), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
            return;
        }
        const edit = new vscode.WorkspaceEdit();
        for (const change of prediction.edits) {
            edit.replace(editor.document.uri, toRange(change.range), change.newText);
        }
        if (editor.document.version !== params.version) {
            this.clear(); // made for another text: never applied
            return;
        }
        this.clear();
        if (await vscode.workspace.applyEdit(edit)) {
            void this.tell(ACCEPT, prediction.id);
        }
    }

    private dismiss(): void {
        const id = this.current?.prediction?.id;
        this.clear();
        if (id) {
            void this.tell(REJECT, id);
        }
    }

    private clear(): void {
        this.current = undefined;
        this.render();
    }

    private async tell(command: string, id: string): Promise<void> {
        const client = this.client();
        if (client?.isRunning()) {
            await client.sendRequest('workspace/executeCommand', { command, arguments: [id] });
        }
    }

    dispose(): void {
        for (const disposable of this.disposables) {
            disposable.dispose();
        }
    }
}

/**
 * What each changed line will read (edits inside one line), or the new text itself (edits that
 * span lines): one preview per line the edits end on.
 */
function previews(document: vscode.TextDocument, edits: LspTextEdit[]): Map<number, string> {
    const byLine = new Map<number, LspTextEdit[]>();
    for (const edit of edits) {
        const line = edit.range.end.line;
        byLine.set(line, [...(byLine.get(line) ?? []), edit]);
    }
    const out = new Map<number, string>();
    for (const [line, onLine] of byLine) {
        const simple = onLine.every(
            (e) => e.range.start.line === line && !e.newText.includes('\n'),
        );
        let text: string;
        if (simple) {
            text = document.lineAt(line).text;
            for (const e of [...onLine].sort((a, b) => b.range.start.character - a.range.start.character)) {
                text = text.slice(0, e.range.start.character) + e.newText + text.slice(e.range.end.character);
            }
        } else {
            text = onLine.map((e) => e.newText).join(' ') || '(delete)';
        }
        text = text.replace(/\s+/g, ' ').trim();
        out.set(line, text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}…` : text);
    }
    return out;
}

function toPosition(position: LspPosition): vscode.Position {
    return new vscode.Position(position.line, position.character);
}

function toRange(range: LspRange): vscode.Range {
    return new vscode.Range(toPosition(range.start), toPosition(range.end));
}
