--- Insert-mode keymaps for qwen-lsp suggestions (buffer-local, set when the server attaches).
---
--- With ghost text (Neovim 0.12+), every key only acts while a suggestion is shown and otherwise
--- types what it would have typed, so <Tab> still indents when there is nothing to accept.
--- <Tab> and the dismiss key also act on a shown next-edit prediction (after the ghost text);
--- `next_edit` (<M-n>) jumps to it and applies it in normal and insert mode, whatever the mode.

local M = {}

local function feed(keys)
  return vim.api.nvim_replace_termcodes(keys, true, false, true)
end

--- The part of `text` to take for a partial accept.
---@param text string
---@param unit 'word'|'line'
---@return string
function M.partial_text(text, unit)
  if unit == 'line' then
    local first = text:match('^([^\n]*)')
    if first == '' and text:sub(1, 1) == '\n' then
      -- The suggestion starts on the next line: take the line break and that line.
      return '\n' .. (text:sub(2):match('^([^\n]*)') or '')
    end
    return first
  end
  -- 'word': leading blanks, then a run of word characters or a run of other punctuation.
  local lead = text:match('^(%s*)') or ''
  local rest = text:sub(#lead + 1)
  local word = rest:match('^[%w_]+') or rest:match('^[^%w_%s]+') or ''
  if lead:find('\n') then
    -- Never swallow more than one line break at once.
    lead = lead:match('^([^\n]*\n[ \t]*)')
  end
  return lead .. word
end

--- Insert the first `unit` of a suggestion item at its start, leaving the rest to be suggested
--- again (the server answers the remainder from its cache, without a model call).
---@param item vim.lsp.inline_completion.Item
---@param unit 'word'|'line'
function M.accept_partial(item, unit)
  local text = item.insert_text
  if type(text) ~= 'string' then
    text = text and text.value or ''
  end
  local bufnr = vim.api.nvim_get_current_buf()
  local win = vim.api.nvim_get_current_win()
  local cursor = vim.api.nvim_win_get_cursor(win)
  local row, col = cursor[1] - 1, cursor[2]
  if item.range then
    -- The item may start before the cursor (text already typed): skip what is already there.
    local start_row, start_col = item.range.start.row, item.range.start.col
    if start_row == row and start_col <= col then
      local typed = vim.api.nvim_buf_get_text(bufnr, start_row, start_col, row, col, {})[1] or ''
      if text:sub(1, #typed) == typed then
        text = text:sub(#typed + 1)
      end
    end
  end
  local piece = M.partial_text(text, unit)
  if piece == '' then
    return
  end
  local lines = vim.split(piece, '\n', { plain = true })
  vim.api.nvim_buf_set_text(bufnr, row, col, row, col, lines)
  local new_row = row + #lines - 1
  local new_col = (#lines == 1 and col or 0) + #lines[#lines]
  vim.api.nvim_win_set_cursor(win, { new_row + 1, new_col })
end

--- Set the keymaps in one buffer.
---@param bufnr integer
---@param keys qwen_lsp.Keymaps
---@param inline boolean ghost text is in use
function M.attach(bufnr, keys, inline)
  local next_edit = require('qwen-lsp.next_edit')
  if keys.next_edit and keys.next_edit ~= '' then
    vim.keymap.set({ 'n', 'i' }, keys.next_edit, function()
      next_edit.jump_or_apply(bufnr)
    end, { buffer = bufnr, silent = true, desc = 'qwen-lsp: jump to / apply the next edit' })
  end
  if not inline then
    return -- completion items use the completion popup's own keys (<C-n>, <C-y>, …)
  end
  local ic = vim.lsp.inline_completion
  local function map(lhs, rhs, desc, expr)
    if lhs and lhs ~= '' then
      vim.keymap.set('i', lhs, rhs, { buffer = bufnr, expr = expr, silent = true, desc = desc })
    end
  end

  map(keys.accept, function()
    if ic.get({ bufnr = bufnr }) or next_edit.jump_or_apply(bufnr) then
      return ''
    end
    return feed(keys.accept)
  end, 'qwen-lsp: accept suggestion', true)

  for unit, lhs in pairs({ word = keys.accept_word, line = keys.accept_line }) do
    map(lhs, function()
      local accepted = ic.get({
        bufnr = bufnr,
        on_accept = function(item)
          M.accept_partial(item, unit)
        end,
      })
      if accepted then
        return ''
      end
      return feed(lhs)
    end, 'qwen-lsp: accept next ' .. unit, true)
  end

  map(keys.next, function()
    ic.select({ bufnr = bufnr, count = 1 })
  end, 'qwen-lsp: next suggestion', false)
  map(keys.prev, function()
    ic.select({ bufnr = bufnr, count = -1 })
  end, 'qwen-lsp: previous suggestion', false)

  map(keys.dismiss, function()
    -- Accepting with a no-op handler hides the suggestion and cancels pending requests.
    if ic.get({ bufnr = bufnr, on_accept = function() end }) or next_edit.dismiss(bufnr) then
      return ''
    end
    return feed(keys.dismiss)
  end, 'qwen-lsp: dismiss suggestion', true)
end

return M
