"""Next-edit prediction: after an edit, the edit that follows it (docs/next-edit.md).

Pure core, no LSP types (the LSP wiring is ``qwen_lsp/nextedit_lsp.py``):

* ``history`` — the user's recent edits (from the document store) as diff hunks;
* ``region`` — the editable region around the cursor (syntax-aware) and its context;
* ``prompts`` — the zeta format (models fine-tuned on it) and the instruct format (Qwen chat
  models), and the request each sends;
* ``answer`` — reading the rewritten region back; ``diff`` — minimal edits of the region;
* ``checks`` — refusal rules (truncated, far away, rewrites, deletes typed text, reverts,
  breaks the parse);
* ``predict`` — plan / interpret one prediction; ``follow`` — keeping it while the user types
  it; ``service`` — when to predict (after edits settle), cancellation, the current prediction.
"""
