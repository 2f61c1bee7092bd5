--- Completion-item mode (Neovim 0.11, or ghost text turned off).
---
--- Neovim's built-in LSP completion inserts only the first whitespace-free run of a plain-text
--- `textEdit` (its "word"), which would cut an AI suggestion such as `a + b` down to `a`. When one
--- of our items is chosen, this module completes the edit with the item's full text.

local M = {}

local CLOSERS = { [')'] = true, [']'] = true, ['}'] = true, ['"'] = true, ["'"] = true, ['`'] = true }

--- How many characters right after the cursor the item re-types (auto-closed brackets/quotes).
---@param new_text string
---@param after string text after the cursor on its line
---@param claimed integer width of the item's original range
local function retyped_suffix(new_text, after, claimed)
  local k = 0
  while k < #after and CLOSERS[after:sub(k + 1, k + 1)] do
    k = k + 1
  end
  k = math.min(k, claimed)
  while k > 0 do
    if new_text:sub(-k) == after:sub(1, k) then
      return k
    end
    k = k - 1
  end
  return 0
end

--- CompleteDone: finish inserting one of our items.
---@param client_id integer
---@param done table v:completed_item
local function on_complete_done(client_id, done)
  local lsp_data = done and done.user_data and type(done.user_data) == 'table' and done.user_data.nvim
    and done.user_data.nvim.lsp
  if not lsp_data or lsp_data.client_id ~= client_id then
    return
  end
  local item = lsp_data.completion_item or {}
  local edit = item.textEdit
  if not edit or item.insertTextFormat == 2 or not edit.range then
    return -- snippets are expanded by Neovim itself
  end
  local new_text = edit.newText or ''
  local word = done.word or ''
  if new_text == word then
    return
  end
  local client = vim.lsp.get_client_by_id(client_id)
  local bufnr = vim.api.nvim_get_current_buf()
  local win = vim.api.nvim_get_current_win()
  local row, col = unpack(vim.api.nvim_win_get_cursor(win))
  row = row - 1
  local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, true)[1]
  -- Only when the chosen word really sits just before the cursor.
  if col < #word or line:sub(col - #word + 1, col) ~= word then
    return
  end
  local start_col = col - #word
  local encoding = client and client.offset_encoding or 'utf-16'
  local range = edit.range
  local claimed = 0
  if range.start.line == range['end'].line then
    local original = line -- the prefix before the edit is unchanged
    local ok, s = pcall(vim.str_byteindex, original, encoding, range.start.character, false)
    if ok and s == start_col then
      claimed = range['end'].character - range.start.character
    end
  end
  local after = line:sub(col + 1)
  local eat = retyped_suffix(new_text, after, claimed)
  local lines = vim.split(new_text, '\n', { plain = true })
  vim.api.nvim_buf_set_text(bufnr, row, start_col, row, col + eat, lines)
  local end_row = row + #lines - 1
  local end_col = (#lines == 1 and start_col or 0) + #lines[#lines]
  vim.api.nvim_win_set_cursor(win, { end_row + 1, end_col })
end

--- Watch one buffer for our items being chosen.
---@param bufnr integer
---@param client_id integer
function M.attach(bufnr, client_id)
  local group = vim.api.nvim_create_augroup(('qwen_lsp_items_%d'):format(bufnr), { clear = true })
  vim.api.nvim_create_autocmd('CompleteDone', {
    group = group,
    buffer = bufnr,
    callback = function()
      local done = vim.v.completed_item
      -- After Neovim's own CompleteDone handling (which runs the item's command).
      vim.schedule(function()
        if vim.api.nvim_get_current_buf() == bufnr then
          on_complete_done(client_id, done)
        end
      end)
    end,
  })
end

return M
