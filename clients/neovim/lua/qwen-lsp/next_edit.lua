--- Next-edit predictions (docs/next-edit.md): the server's `qwen/nextEdit` notifications shown as
--- virtual text where the edit applies (the replaced text highlighted, the new text after the
--- line), and one key that jumps there and, once there, applies the edit.
---
--- The edit is the server's `WorkspaceEdit` for the buffer version it was made for, applied with
--- `vim.lsp.util.apply_workspace_edit` (which skips an edit for an older version); a prediction
--- for another version is never shown.

local M = {}

M.ns = vim.api.nvim_create_namespace('qwen_lsp.next_edit')

---@class qwen_lsp.NextEdit
---@field client_id integer
---@field version integer
---@field prediction table  the notification's prediction (id, edit, edits, range, jump)

---@type table<integer, qwen_lsp.NextEdit>
M.shown = {}

local function version_of(bufnr)
  return vim.lsp.util.buf_versions[bufnr]
end

--- Byte column of an LSP position in the buffer.
local function byte_col(bufnr, position, encoding)
  local line = vim.api.nvim_buf_get_lines(bufnr, position.line, position.line + 1, false)[1] or ''
  local ok, col = pcall(vim.str_byteindex, line, encoding, position.character, false)
  return ok and col or math.min(position.character, #line)
end

local function encoding_of(client_id)
  local client = vim.lsp.get_client_by_id(client_id)
  return client and client.offset_encoding or 'utf-16'
end

--- Hide the prediction shown in `bufnr` (if any).
function M.clear(bufnr)
  if vim.api.nvim_buf_is_valid(bufnr) then
    vim.api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1)
  end
  M.shown[bufnr] = nil
end

--- What a line reads with `edits` (all inside it) applied.
local function line_after(bufnr, line, edits, encoding)
  local text = vim.api.nvim_buf_get_lines(bufnr, line, line + 1, false)[1] or ''
  table.sort(edits, function(a, b)
    return a.range.start.character > b.range.start.character
  end)
  for _, edit in ipairs(edits) do
    local s, e = byte_col(bufnr, edit.range.start, encoding), byte_col(bufnr, edit.range['end'], encoding)
    text = text:sub(1, s) .. edit.newText .. text:sub(e + 1)
  end
  return vim.trim((text:gsub('%s+', ' ')))
end

local function render(bufnr, shown)
  local encoding = encoding_of(shown.client_id)
  local by_line = {} ---@type table<integer, table[]>
  for _, edit in ipairs(shown.prediction.edits or {}) do
    local s, e = edit.range.start, edit.range['end']
    local start_col, end_col = byte_col(bufnr, s, encoding), byte_col(bufnr, e, encoding)
    if s.line ~= e.line or start_col ~= end_col then
      vim.api.nvim_buf_set_extmark(bufnr, M.ns, s.line, start_col, {
        end_row = e.line,
        end_col = end_col,
        hl_group = 'QwenNextEditRemoved',
      })
    end
    by_line[e.line] = by_line[e.line] or {}
    table.insert(by_line[e.line], edit)
  end
  for line, edits in pairs(by_line) do
    local inside = vim.iter(edits):all(function(edit)
      return edit.range.start.line == line and not edit.newText:find('\n')
    end)
    local lines = { line_after(bufnr, line, edits, encoding) }
    if not inside then -- edits across lines: their new text, the first line after this one
      lines = vim.split(table.concat(vim.tbl_map(function(edit)
        return edit.newText
      end, edits), '\n'), '\n', { plain = true })
    end
    local mark = {
      virt_text = { { '⇥ ' .. (lines[1] ~= '' and lines[1] or '(delete)'), 'QwenNextEdit' } },
      virt_text_pos = 'eol',
    }
    if #lines > 1 then
      mark.virt_lines = vim.tbl_map(function(text)
        return { { text, 'QwenNextEdit' } }
      end, vim.list_slice(lines, 2))
    end
    vim.api.nvim_buf_set_extmark(bufnr, M.ns, line, 0, mark)
  end
end

--- The `qwen/nextEdit` notification handler.
function M.handler(_, result, ctx)
  if type(result) ~= 'table' or type(result.uri) ~= 'string' then
    return
  end
  local bufnr = vim.uri_to_bufnr(result.uri)
  if not vim.api.nvim_buf_is_loaded(bufnr) then
    return
  end
  M.clear(bufnr)
  if type(result.prediction) ~= 'table' or version_of(bufnr) ~= result.version then
    return -- gone, or made for another version of the text
  end
  local shown = { client_id = ctx.client_id, version = result.version, prediction = result.prediction }
  M.shown[bufnr] = shown
  render(bufnr, shown)
  vim.api.nvim_exec_autocmds('User', { pattern = 'QwenNextEdit', modeline = false })
end

--- The prediction shown in `bufnr`, if it is still for the buffer's text.
function M.current(bufnr)
  local shown = M.shown[bufnr]
  if shown and version_of(bufnr) ~= shown.version then
    M.clear(bufnr)
    return nil
  end
  return shown
end

local function tell(shown, command)
  local client = vim.lsp.get_client_by_id(shown.client_id)
  if client then
    client:request('workspace/executeCommand', { command = command, arguments = { shown.prediction.id } })
  end
end

--- Jump to the prediction, or apply it when the cursor is on its lines. Returns false when no
--- prediction is shown (so a key mapped to this can fall through). Runs scheduled: safe from an
--- `expr` mapping.
---@param bufnr? integer
---@return boolean
function M.jump_or_apply(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local shown = M.current(bufnr)
  if not shown then
    return false
  end
  vim.schedule(function()
    if M.current(bufnr) ~= shown then
      return
    end
    local range = shown.prediction.range
    local row = vim.api.nvim_win_get_cursor(0)[1] - 1
    if row < range.start.line or row > range['end'].line then
      local jump = shown.prediction.jump
      vim.api.nvim_win_set_cursor(0, { jump.line + 1, byte_col(bufnr, jump, encoding_of(shown.client_id)) })
      return
    end
    M.clear(bufnr)
    vim.lsp.util.apply_workspace_edit(shown.prediction.edit, encoding_of(shown.client_id))
    tell(shown, 'qwen-lsp.acceptNextEdit')
  end)
  return true
end

--- Dismiss the prediction (the server does not offer it again). False when none is shown.
---@param bufnr? integer
---@return boolean
function M.dismiss(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local shown = M.current(bufnr)
  if not shown then
    return false
  end
  M.clear(bufnr)
  tell(shown, 'qwen-lsp.rejectNextEdit')
  return true
end

--- Buffer-local: hide a prediction as soon as the text changes (the server sends the next).
function M.attach(bufnr)
  vim.api.nvim_set_hl(0, 'QwenNextEdit', { default = true, link = 'Comment' })
  vim.api.nvim_set_hl(0, 'QwenNextEditRemoved', { default = true, link = 'DiffDelete' })
  local group = vim.api.nvim_create_augroup('qwen_lsp_next_edit_' .. bufnr, { clear = true })
  vim.api.nvim_create_autocmd({ 'TextChanged', 'TextChangedI', 'BufUnload' }, {
    group = group,
    buffer = bufnr,
    callback = function()
      M.current(bufnr)
    end,
  })
end

return M
