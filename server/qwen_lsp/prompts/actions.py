"""Chat prompts for the AI code actions: fix, refactor, document, tests, explain, custom.

Every prompt has the same shape so the model always finds things in the same place: the file and
language, the imports, the code around the region (as context only), the region itself with its
1-based line numbers and enclosing scopes, the diagnostics (for fixes), then the task and the
answer format. Edits are answered as exactly one fenced code block holding the whole replacement
for the region; the server diffs it against the original, so the model never has to produce a
diff or line numbers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

Messages = tuple[dict[str, str], ...]

SYSTEM = (
    "You are Qwen, an expert software engineer editing code inside the user's editor. Follow the "
    "task exactly. When the task asks for code, answer with exactly one fenced code block in the "
    "requested language and nothing else: no explanation before or after it, no diff markers, no "
    "line numbers, and no placeholders such as '...' or '# rest unchanged' - write out every line."
)

# Markdown fence labels (LSP language ids differ for a few languages).
FENCE_LABELS = {
    "javascriptreact": "jsx",
    "typescriptreact": "tsx",
    "shellscript": "bash",
    "csharp": "csharp",
}

LANGUAGE_NAMES = {
    "python": "Python",
    "javascript": "JavaScript",
    "javascriptreact": "JavaScript (React)",
    "typescript": "TypeScript",
    "typescriptreact": "TypeScript (React)",
    "go": "Go",
    "rust": "Rust",
    "java": "Java",
    "c": "C",
    "cpp": "C++",
    "csharp": "C#",
    "ruby": "Ruby",
    "php": "PHP",
    "lua": "Lua",
    "shellscript": "shell script",
}

DOC_CONVENTIONS = {
    "python": "a PEP 257 docstring (triple double quotes) as the first statement of the body: a "
    "one-line summary, then - where useful - a blank line and Args/Returns/Raises sections "
    "(Google style); for a class, document the class and its public methods' purpose",
    "javascript": "a JSDoc block comment (/** ... */) directly above the declaration with a "
    "summary, @param {type} name, @returns {type} and @throws where relevant",
    "javascriptreact": "a JSDoc block comment (/** ... */) directly above the component or "
    "function, documenting its props/@param and @returns",
    "typescript": "a TSDoc/JSDoc block comment (/** ... */) directly above the declaration with "
    "a summary, @param name - description, @returns and @throws (no types in braces: TypeScript "
    "already has them)",
    "typescriptreact": "a TSDoc block comment (/** ... */) directly above the component or "
    "function, documenting its props, @param and @returns (no types in braces)",
    "go": "a Go doc comment: // lines directly above the declaration, the first sentence "
    "starting with the declared name (e.g. '// Add returns ...')",
    "rust": "/// doc comments directly above the item: a summary line, then # Examples, "
    "# Errors and # Panics sections where they apply",
    "java": "a Javadoc comment (/** ... */) directly above the declaration with a summary, "
    "@param, @return and @throws tags",
    "c": "a Doxygen comment (/** ... */) directly above the declaration with @brief, @param, "
    "@return",
    "cpp": "a Doxygen comment (/** ... */ or ///) directly above the declaration with @brief, "
    "@param, @return and @throws",
    "csharp": "XML documentation comments (/// <summary>, <param>, <returns>, <exception>) "
    "directly above the declaration",
    "ruby": "YARD comments (# lines with @param [Type], @return [Type]) directly above the method",
    "php": "a PHPDoc comment (/** ... */) with @param, @return and @throws directly above",
    "lua": "LDoc comments (--- summary, -- @param, -- @return) directly above the function",
    "shellscript": "a # comment block directly above the function describing what it does, its "
    "arguments, output and exit status",
}

TEST_FRAMEWORKS = {
    "python": "pytest (plain test functions with assert; pytest.raises for errors; "
    "pytest.mark.parametrize for tables of cases)",
    "javascript": "Jest (describe/it/expect)",
    "javascriptreact": "Jest with React Testing Library",
    "typescript": "Jest (describe/it/expect)",
    "typescriptreact": "Jest with React Testing Library",
    "go": "the standard testing package (table-driven tests, t.Run subtests)",
    "rust": "Rust's built-in test harness (#[test] functions, assert_eq!)",
    "java": "JUnit 5 (org.junit.jupiter.api, assertEquals/assertThrows)",
    "c": "plain C with assert.h and a main that runs each test",
    "cpp": "GoogleTest (TEST, EXPECT_EQ)",
    "csharp": "xUnit ([Fact], [Theory], Assert)",
    "ruby": "RSpec (describe/it/expect)",
    "php": "PHPUnit (a class extending TestCase)",
    "lua": "busted (describe/it/assert)",
    "shellscript": "bats (@test blocks)",
}

MAX_CONTEXT_BEFORE = 4000  # characters of code shown before the region
MAX_CONTEXT_AFTER = 2000
MAX_IMPORTS = 2000
MAX_TEST_FILE = 6000
MAX_FILE = 24000
PLACEHOLDER = re.compile(r"\{(selection|scope|file|language|path|name|diagnostics)\}")


@dataclass(frozen=True)
class DiagnosticNote:
    """One diagnostic as the prompt shows it."""

    line: int  # 0-based
    severity: str  # "error", "warning", ...
    message: str
    source: str = ""
    code: str = ""
    line_text: str = ""


@dataclass(frozen=True)
class CodeContext:
    """Everything a prompt may show about the code an action works on."""

    language: str  # canonical language id
    path: str  # as shown to the model (relative to the workspace when possible)
    code: str  # the region the action rewrites (or explains, or tests)
    start_line: int  # 0-based first line of the region
    target: str  # "function `add`", "the selected lines"
    scope_headers: tuple[str, ...] = ()  # headers of scopes around the region, outermost first
    imports: str = ""
    before: str = ""  # code just before the region
    after: str = ""
    diagnostics: tuple[DiagnosticNote, ...] = ()
    name: str = ""
    scope: str = ""  # the enclosing function/class text (custom actions)
    file_text: str = ""  # the whole file (custom actions)

    @property
    def end_line(self) -> int:
        """1-based last line of the region."""
        return self.start_line + max(1, self.code.count("\n") + 1)

    @property
    def lines_label(self) -> str:
        first, last = self.start_line + 1, self.end_line
        return f"line {first}" if first == last else f"lines {first}-{last}"


@dataclass(frozen=True)
class TestFileInfo:
    path: str  # as shown to the model
    framework: str
    import_hint: str  # how the test reaches the code under test
    existing: str | None  # current content of the test file, None when it is new


def language_name(language: str) -> str:
    return LANGUAGE_NAMES.get(language, language)


def fence_label(language: str) -> str:
    return FENCE_LABELS.get(language, language)


def fenced(code: str, language: str) -> str:
    """A markdown block whose fence is longer than any backtick run inside the code."""
    longest = max((len(run) for run in re.findall(r"`{3,}", code)), default=2)
    fence = "`" * (longest + 1)
    return f"{fence}{fence_label(language)}\n{code.rstrip()}\n{fence}"


def tail(text: str, limit: int) -> str:
    """The end of ``text`` cut at a line start, at most ``limit`` characters."""
    if len(text) <= limit:
        return text
    cut = text[-limit:]
    return cut.split("\n", 1)[1] if "\n" in cut else cut


def head(text: str, limit: int) -> str:
    """The start of ``text`` cut at a line end, at most ``limit`` characters."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    return cut.rsplit("\n", 1)[0] if "\n" in cut else cut


def format_diagnostics(notes: Sequence[DiagnosticNote]) -> str:
    """One bullet per diagnostic with its 1-based line, origin and the line's code."""
    out = []
    for note in notes:
        origin = " ".join(part for part in (note.source, note.code) if part)
        origin = f" [{origin}]" if origin else ""
        out.append(f"- line {note.line + 1}: {note.severity}: {note.message}{origin}")
        if note.line_text.strip():
            out.append(f"    `{note.line_text.strip()}`")
    return "\n".join(out)


def context_sections(ctx: CodeContext, *, show_code: bool = True) -> str:
    """File, imports, surrounding code and the region, as markdown sections."""
    parts = [f"File: {ctx.path} ({language_name(ctx.language)})"]
    before = tail(ctx.before, MAX_CONTEXT_BEFORE)
    if ctx.imports.strip() and ctx.imports.strip() not in before:
        parts.append(
            "Imports of this file:\n" + fenced(head(ctx.imports, MAX_IMPORTS), ctx.language)
        )
    if ctx.before.strip():
        parts.append(
            "Code before the region (context only, do not repeat it):\n"
            + fenced(before, ctx.language)
        )
    if show_code:
        where = f"{ctx.lines_label} of {ctx.path}"
        if ctx.scope_headers:
            where += ", inside " + " > ".join(f"`{h.strip()}`" for h in ctx.scope_headers)
        parts.append(f"The region - {ctx.target}, {where}:\n" + fenced(ctx.code, ctx.language))
    if ctx.after.strip():
        parts.append(
            "Code after the region (context only, do not repeat it):\n"
            + fenced(head(ctx.after.lstrip("\r\n"), MAX_CONTEXT_AFTER), ctx.language)
        )
    if ctx.diagnostics:
        parts.append("Diagnostics reported by the editor:\n" + format_diagnostics(ctx.diagnostics))
    return "\n\n".join(parts)


def replacement_format(ctx: CodeContext) -> str:
    label = fence_label(ctx.language)
    return (
        f"Answer with the complete new version of the region ({ctx.lines_label}) as one "
        f"```{label} code block. Keep its indentation, keep every line that does not need to "
        "change exactly as it is, and do not include the code before or after the region. If "
        "the new code needs imports the file does not have yet, put them first in the block; "
        "they are moved to the file's imports."
    )


def messages(user: str) -> Messages:
    return ({"role": "system", "content": SYSTEM}, {"role": "user", "content": user})


def fix_messages(ctx: CodeContext) -> Messages:
    task = (
        f"Task: fix the problems the diagnostics report in the region ({ctx.target}). Make the "
        "smallest change that really fixes the cause; do not refactor or reformat unrelated code."
    )
    return messages(f"{context_sections(ctx)}\n\n{task}\n{replacement_format(ctx)}")


def refactor_messages(ctx: CodeContext) -> Messages:
    task = (
        f"Task: refactor and simplify {ctx.target} so it is clearer, shorter and idiomatic "
        f"{language_name(ctx.language)}, without changing its behaviour or its interface (names, "
        "parameters, return values, side effects). Keep comments that still apply."
    )
    return messages(f"{context_sections(ctx)}\n\n{task}\n{replacement_format(ctx)}")


def document_messages(ctx: CodeContext) -> Messages:
    convention = DOC_CONVENTIONS.get(ctx.language, "the language's usual documentation comments")
    task = (
        f"Task: add documentation to {ctx.target}, or update it if it is already there but "
        f"outdated or incomplete. Convention: {convention}. Document what the code does, its "
        "parameters, return value and errors - facts only, no speculation. Change nothing else: "
        "the code itself must stay exactly as it is."
    )
    return messages(f"{context_sections(ctx)}\n\n{task}\n{replacement_format(ctx)}")


def tests_messages(ctx: CodeContext, test: TestFileInfo) -> Messages:
    label = fence_label(ctx.language)
    parts = [context_sections(ctx)]
    rules = (
        f"Task: write unit tests for {ctx.target} with {test.framework}. Cover the normal "
        "behaviour, edge cases and error handling; each test checks one thing and has a "
        "descriptive name. Do not test private helpers that the code does not expose. "
        f"{test.import_hint}"
    )
    if test.existing is None:
        parts.append(
            f"{rules}\nThe tests go into a new file, {test.path}. Answer with the complete content "
            f"of that file as one ```{label} code block."
        )
    else:
        parts.append(
            f"The test file {test.path} already exists:\n"
            + fenced(head(test.existing, MAX_TEST_FILE), ctx.language)
        )
        parts.append(
            f"{rules}\nDo not repeat the tests that already exist. Answer with only the new "
            f"code to append to {test.path} as one ```{label} code block, starting with the "
            "imports it needs that the file does not have yet."
        )
    return messages("\n\n".join(parts))


def explain_messages(ctx: CodeContext) -> Messages:
    task = (
        f"Task: explain {ctx.target} to a colleague who is about to change it: what it does and "
        "why, its inputs, outputs and side effects, how it works step by step where that is not "
        "obvious, and any bugs, edge cases or risks you notice. Answer in concise Markdown; "
        "quote code only where it helps."
    )
    return messages(f"{context_sections(ctx)}\n\n{task}")


def fill_template(template: str, values: Mapping[str, str]) -> str:
    """Replace the known ``{placeholder}`` names; other braces stay as written."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def custom_messages(ctx: CodeContext, template: str, output: str) -> Messages:
    """A user-defined action: their template, plus the code when the template does not use it."""
    diagnostics = format_diagnostics(ctx.diagnostics) if ctx.diagnostics else "(none)"
    values = {
        "selection": fenced(ctx.code, ctx.language),
        "scope": fenced(ctx.scope or ctx.code, ctx.language),
        "file": fenced(head(ctx.file_text, MAX_FILE), ctx.language),
        "language": language_name(ctx.language),
        "path": ctx.path,
        "name": ctx.name or ctx.target,
        "diagnostics": diagnostics,
    }
    request = fill_template(template, values)
    # The region is shown once: by the template's placeholder if it has one, else by us.
    scope_is_region = not ctx.scope or ctx.scope == ctx.code
    has_region = "{selection}" in template or ("{scope}" in template and scope_is_region)
    parts = [context_sections(ctx, show_code=not has_region), f"Task: {request.strip()}"]
    if output == "explain":
        parts.append("Answer in concise Markdown.")
    else:
        parts.append(replacement_format(ctx))
    return messages("\n\n".join(parts))
