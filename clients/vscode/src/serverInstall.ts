/**
 * The extension's own copy of the server: a private virtual environment in the extension's
 * global storage, installed from the wheels bundled in the .vsix (offline), the way extensions
 * built on Microsoft's Python tools template ship their server. The Python that creates it is
 * found in this order: `python.defaultInterpreterPath`, the Python extension's active
 * environment, `python3` / `python` on PATH.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

const MIN_PYTHON: [number, number] = [3, 10];
const PROBE = [
    'import json, sys',
    'try:',
    '    import ensurepip, venv',
    '    ok = ""',
    'except ImportError as e:',
    '    ok = str(e)',
    'print(json.dumps({"version": list(sys.version_info[:3]), "executable": sys.executable, "venv": ok}))',
].join('\n');

export interface Candidate {
    /** Where the interpreter came from, as the user would look for it. */
    source: string;
    python: string;
}

export interface Attempt extends Candidate {
    problem: string;
}

export class InstallError extends Error {
    constructor(readonly attempts: Attempt[]) {
        super(
            attempts.length
                ? attempts.map((a) => `${a.source} (${a.python}): ${a.problem}`).join('; ')
                : 'no Python interpreter found',
        );
    }
}

function run(
    command: string,
    args: string[],
    timeoutMs: number,
): Promise<{ stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
        execFile(command, args, { timeout: timeoutMs, maxBuffer: 8 << 20 }, (error, stdout, stderr) => {
            if (error) {
                const detail = (stderr || stdout || '').trim().split('\n').slice(-3).join(' ');
                reject(new Error(detail || error.message));
            } else {
                resolve({ stdout, stderr });
            }
        });
    });
}

/** Interpreters to try, best first (duplicates removed). */
export async function pythonCandidates(): Promise<Candidate[]> {
    const out: Candidate[] = [];
    const configured = vscode.workspace.getConfiguration('python').get<string>('defaultInterpreterPath');
    if (configured && configured !== 'python') {
        out.push({ source: 'python.defaultInterpreterPath', python: configured });
    }
    const fromExtension = await pythonFromExtension();
    if (fromExtension) {
        out.push({ source: 'the Python extension', python: fromExtension });
    }
    for (const name of process.platform === 'win32' ? ['python', 'py'] : ['python3', 'python']) {
        out.push({ source: 'PATH', python: name });
    }
    return out.filter((c, i) => out.findIndex((d) => d.python === c.python) === i);
}

/** The active interpreter of the Python extension (ms-python.python), if it is installed. */
async function pythonFromExtension(): Promise<string | undefined> {
    const extension = vscode.extensions.getExtension('ms-python.python');
    if (!extension) {
        return undefined;
    }
    try {
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        const api: any = extension.isActive ? extension.exports : await extension.activate();
        const active = api?.environments?.getActiveEnvironmentPath?.();
        if (active?.path) {
            return active.path as string;
        }
        const command = api?.settings?.getExecutionDetails?.()?.execCommand;
        return Array.isArray(command) && command.length ? String(command[0]) : undefined;
    } catch {
        return undefined;
    }
}

/** Why ``python`` cannot make the server's environment, or "" when it can. */
async function problemWith(python: string): Promise<string> {
    let probe: { version: number[]; executable: string; venv: string };
    try {
        probe = JSON.parse((await run(python, ['-c', PROBE], 20000)).stdout);
    } catch (error) {
        return `cannot run it (${(error as Error).message})`;
    }
    const [major, minor] = probe.version;
    if (major < MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor < MIN_PYTHON[1])) {
        return `Python ${probe.version.join('.')} is too old (qwen-lsp needs ${MIN_PYTHON.join('.')}+)`;
    }
    if (probe.venv) {
        return `it cannot create virtual environments (${probe.venv}; on Debian/Ubuntu: sudo apt install python3-venv)`;
    }
    return '';
}

export class ServerInstaller {
    constructor(
        private readonly storage: string,
        private readonly wheels: string,
        private readonly version: string,
        private readonly log: vscode.LogOutputChannel,
    ) {}

    get venv(): string {
        return path.join(this.storage, 'server-venv');
    }

    get python(): string {
        return process.platform === 'win32'
            ? path.join(this.venv, 'Scripts', 'python.exe')
            : path.join(this.venv, 'bin', 'python');
    }

    private get stamp(): string {
        return path.join(this.venv, 'qwen-lsp-version');
    }

    /** The venv's Python when it holds this version of the server already. */
    installed(): string | undefined {
        try {
            return fs.readFileSync(this.stamp, 'utf8').trim() === this.version && fs.existsSync(this.python)
                ? this.python
                : undefined;
        } catch {
            return undefined;
        }
    }

    /** Install (or reuse) the server; returns the Python that runs it. Throws InstallError. */
    async ensure(): Promise<string> {
        const ready = this.installed();
        if (ready) {
            return ready;
        }
        const attempts: Attempt[] = [];
        for (const candidate of await pythonCandidates()) {
            const problem = await problemWith(candidate.python);
            if (problem) {
                attempts.push({ ...candidate, problem });
                this.log.warn(`Python from ${candidate.source} (${candidate.python}): ${problem}`);
                continue;
            }
            try {
                await this.install(candidate);
                return this.python;
            } catch (error) {
                const message = (error as Error).message;
                attempts.push({ ...candidate, problem: `installing failed: ${message}` });
                this.log.error(`Installing the server with ${candidate.python} failed: ${message}`);
            }
        }
        throw new InstallError(attempts);
    }

    private async install(candidate: Candidate): Promise<void> {
        this.log.info(
            `Installing qwen-lsp ${this.version} into ${this.venv} with ${candidate.python} (${candidate.source})`,
        );
        fs.mkdirSync(this.storage, { recursive: true });
        await run(candidate.python, ['-m', 'venv', '--clear', this.venv], 180000);
        const pip = ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input'];
        const wanted = `qwen-lsp==${this.version}`;
        try {
            await run(this.python, [...pip, '--no-index', '--find-links', this.wheels, wanted], 300000);
        } catch (offline) {
            // The bundled dependency wheels are for one platform and Python 3.10-3.13.
            this.log.warn(`Offline install failed (${(offline as Error).message}); trying PyPI for the dependencies`);
            await run(this.python, [...pip, '--find-links', this.wheels, wanted], 600000);
        }
        const { stdout } = await run(this.python, ['-m', 'qwen_lsp', '--version'], 60000);
        fs.writeFileSync(this.stamp, this.version);
        this.log.info(`Installed ${stdout.trim()}`);
    }
}
