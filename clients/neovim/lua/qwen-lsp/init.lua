--- qwen-lsp for Neovim: starts the `qwen-lsp` language server and wires its features into the
--- built-in LSP client.
---
---   * Neovim 0.12+: ghost text through `vim.lsp.inline_completion` (LSP 3.18), with keymaps to
---     accept (all, next word, next line), cycle and dismiss suggestions.
---   * Neovim 0.11: completion items through `vim.lsp.completion` (popup / omnifunc).
---   * Everywhere: AI code actions through `vim.lsp.buf.code_action()`, and next-edit predictions
---     (option `next_edit`) as virtual text with a jump/apply key (`qwen-lsp.next_edit`).
---
--- Settings go to the server as `initializationOptions`; the API key only ever travels through
--- the environment of the server process.

local M = {}

M.name = 'qwen_lsp'

---@class qwen_lsp.Keymaps
---@field accept string|false      Accept the whole suggestion (falls through when none is shown)
---@field accept_word string|false Accept up to the end of the next word
---@field accept_line string|false Accept up to the end of the current line
---@field next string|false        Show the next suggestion
---@field prev string|false        Show the previous suggestion
---@field dismiss string|false     Hide the suggestion (falls through when none is shown)
---@field next_edit string|false   Jump to the predicted next edit, apply it once there (normal and insert mode)

---@class qwen_lsp.Options
---@field cmd string[]                   Command that starts the server (stdio)
---@field base_url? string               Shortcut for settings.endpoint.baseUrl
---@field model? string                  Shortcut for settings.endpoint.model
---@field api_key_env? string            Environment variable holding the API key (passed on as QWEN_LSP_API_KEY)
---@field settings table                 Server settings (see docs/settings.md), sent as initializationOptions
---@field filetypes? string[]            Only these filetypes (nil: every file buffer)
---@field disabled_filetypes string[]    Never these filetypes
---@field root_markers string[]          Files that mark the workspace root
---@field inline_completion boolean|'auto' Ghost text on 0.12+ ('auto': when the API exists)
---@field completion_items boolean|'auto'  Completion-popup items ('auto': only without ghost text)
---@field autotrigger boolean            Completion items pop up while typing (0.11 fallback)
---@field keymaps qwen_lsp.Keymaps|false
---@field status_notifications boolean   Ask the server for `qwen/status` notifications
---@field next_edit? boolean             Shortcut for settings.nextEdit.enabled (predict the next edit)

---@type qwen_lsp.Options
M.defaults = {
  cmd = { 'qwen-lsp' },
  base_url = nil,
  model = nil,
  api_key_env = nil,
  settings = {},
  filetypes = nil,
  disabled_filetypes = { 'gitcommit', 'gitrebase', 'hgcommit', 'svn', 'help', 'netrw' },
  root_markers = { '.git', 'pyproject.toml', 'package.json', 'Cargo.toml', 'go.mod' },
  inline_completion = 'auto',
  completion_items = 'auto',
  autotrigger = true,
  keymaps = {
    accept = '<Tab>',
    accept_word = '<M-Right>',
    accept_line = '<M-Down>',
    next = '<M-]>',
    prev = '<M-[>',
    dismiss = '<C-]>',
    next_edit = '<M-n>',
  },
  status_notifications = true,
  next_edit = nil,
}

---@type qwen_lsp.Options
M.options = vim.deepcopy(M.defaults)

--- Runtime state: what the user toggled, and the last status per client.
M.state = {
  enabled = true,
  ---@type table<string, boolean> filetype -> enabled (overrides the options)
  filetype_enabled = {},
  ---@type table<integer, {state: string, busy: boolean, message: string, time: number}>
  status = {},
}

local function notify(message, level)
  vim.notify('qwen-lsp: ' .. message, level or vim.log.levels.INFO)
end

--- True when this Neovim has LSP inline completion (0.12+).
function M.has_inline_api()
  local ok, inline = pcall(function()
    return vim.lsp.inline_completion -- nil on 0.11: not one of vim.lsp's modules there
  end)
  return ok and type(inline) == 'table' and type(inline.enable) == 'function'
end

--- Whether ghost text is used (depends on the option and on the Neovim version).
function M.uses_inline()
  local choice = M.options.inline_completion
  if choice == 'auto' then
    return M.has_inline_api()
  end
  return choice == true and M.has_inline_api()
end

--- Whether completion items are used.
function M.uses_items()
  local choice = M.options.completion_items
  if choice == 'auto' then
    return not M.uses_inline()
  end
  return choice == true
end

local function deep_merge(base, extra)
  return vim.tbl_deep_extend('force', base or {}, extra or {})
end

--- The `initializationOptions` sent to the server: the user's settings, the shortcuts, the
--- completion-items switch matching the client mode, and the status opt-in. Never an API key.
function M.init_options()
  local opts = M.options
  local settings = vim.deepcopy(opts.settings or {})
  settings.endpoint = settings.endpoint or {}
  if opts.base_url then
    settings.endpoint.baseUrl = opts.base_url
  end
  if opts.model then
    settings.endpoint.model = opts.model
  end
  for _, key in ipairs({ 'apiKey', 'api_key' }) do
    if settings.endpoint[key] ~= nil then
      settings.endpoint[key] = nil
      notify('the API key is never sent in settings; set it in the environment (api_key_env)', vim.log.levels.WARN)
    end
  end
  if next(settings.endpoint) == nil then
    settings.endpoint = nil
  end
  settings.completion = settings.completion or {}
  if settings.completion.completionItems == nil and settings.completion.completion_items == nil then
    settings.completion.completionItems = M.uses_items()
  end
  if opts.next_edit ~= nil then
    settings.nextEdit = settings.nextEdit or {}
    settings.nextEdit.enabled = opts.next_edit and true or false
  end
  settings.statusNotifications = opts.status_notifications and true or nil
  return settings
end

--- Environment for the server process: the API key from `api_key_env`, if named.
function M.cmd_env()
  local name = M.options.api_key_env
  if not name or name == '' then
    return nil
  end
  local value = vim.env[name]
  if value == nil or value == '' then
    notify(('environment variable %s is not set; no API key'):format(name), vim.log.levels.WARN)
    return nil
  end
  return { QWEN_LSP_API_KEY = value }
end

--- Whether suggestions are wanted in this buffer (filetype lists, toggles).
---@param bufnr integer
function M.enabled_for(bufnr)
  if not M.state.enabled or vim.b[bufnr].qwen_lsp_disabled then
    return false
  end
  local ft = vim.bo[bufnr].filetype
  local toggled = M.state.filetype_enabled[ft]
  if toggled ~= nil then
    return toggled
  end
  if M.options.filetypes and not vim.tbl_contains(M.options.filetypes, ft) then
    return false
  end
  return not vim.tbl_contains(M.options.disabled_filetypes or {}, ft)
end

local function root_for(bufnr)
  return vim.fs.root(bufnr, M.options.root_markers) or vim.fn.getcwd()
end

--- The `qwen/status` handler: remember and announce the server's state.
local function on_status(_, result, ctx)
  if type(result) ~= 'table' then
    return
  end
  M.state.status[ctx.client_id] = {
    state = tostring(result.state or ''),
    busy = result.busy == true,
    message = tostring(result.message or ''),
    time = vim.uv.now(),
  }
  vim.api.nvim_exec_autocmds('User', { pattern = 'QwenStatus', modeline = false })
end

--- The client configuration (for `vim.lsp.config` or `vim.lsp.start`).
function M.client_config()
  local cmd = M.options.cmd
  return {
    name = M.name,
    cmd = cmd,
    cmd_env = M.cmd_env(),
    init_options = M.init_options(),
    root_markers = M.options.root_markers,
    root_dir = function(bufnr, on_dir)
      if M.enabled_for(bufnr) then
        on_dir(root_for(bufnr))
      end
    end,
    handlers = {
      ['qwen/status'] = on_status,
      ['qwen/nextEdit'] = require('qwen-lsp.next_edit').handler,
    },
    -- Ask for `qwen/nextEdit` notifications (shown when next_edit is on in the settings).
    capabilities = { experimental = { qwenNextEdit = true } },
  }
end

--- All running qwen-lsp clients (optionally for one buffer).
---@param bufnr? integer
function M.clients(bufnr)
  return vim.lsp.get_clients({ name = M.name, bufnr = bufnr })
end

--- Turn suggestions on or off for one client in one buffer.
local function set_buffer_features(client, bufnr, on)
  if M.uses_inline() then
    -- `bufnr` and `client_id` filters are exclusive; per buffer is what we need here.
    vim.lsp.inline_completion.enable(on, { bufnr = bufnr })
  end
  if M.uses_items() and vim.lsp.completion and vim.lsp.completion.enable then
    vim.lsp.completion.enable(on, client.id, bufnr, { autotrigger = M.options.autotrigger })
  end
end

local function on_attach(client, bufnr)
  local on = M.enabled_for(bufnr)
  set_buffer_features(client, bufnr, on)
  require('qwen-lsp.next_edit').attach(bufnr)
  if M.options.keymaps then
    require('qwen-lsp.keymaps').attach(bufnr, M.options.keymaps, M.uses_inline())
  end
  if M.uses_items() then
    require('qwen-lsp.items').attach(bufnr, client.id)
  end
end

--- Re-apply the toggles to every attached buffer.
function M.refresh()
  for _, client in ipairs(M.clients()) do
    for bufnr in pairs(client.attached_buffers) do
      if vim.api.nvim_buf_is_valid(bufnr) then
        set_buffer_features(client, bufnr, M.enabled_for(bufnr))
      end
    end
  end
end

--- `:QwenToggle` (everywhere), `:QwenToggle!` (this buffer), `:QwenToggle {filetype}`.
---@param scope? 'global'|'buffer'|string
function M.toggle(scope)
  local bufnr = vim.api.nvim_get_current_buf()
  local what
  if scope == nil or scope == '' or scope == 'global' then
    M.state.enabled = not M.state.enabled
    what = M.state.enabled and 'on' or 'off'
  elseif scope == 'buffer' then
    vim.b[bufnr].qwen_lsp_disabled = not vim.b[bufnr].qwen_lsp_disabled
    what = (vim.b[bufnr].qwen_lsp_disabled and 'off' or 'on') .. ' in this buffer'
  else
    local ft = scope
    local now = M.state.filetype_enabled[ft]
    if now == nil then
      local probe = vim.bo[bufnr].filetype == ft and bufnr or nil
      now = probe and M.enabled_for(probe)
        or (not M.options.filetypes or vim.tbl_contains(M.options.filetypes, ft))
          and not vim.tbl_contains(M.options.disabled_filetypes or {}, ft)
    end
    M.state.filetype_enabled[ft] = not now
    what = (M.state.filetype_enabled[ft] and 'on' or 'off') .. ' for ' .. ft
  end
  M.refresh()
  -- Buffers of a newly enabled filetype may have no client yet: let vim.lsp.enable retry.
  if M.options._started_with_config and vim.v.vim_did_enter == 1 then
    pcall(vim.cmd.doautoall, 'nvim.lsp.enable FileType')
  end
  notify('suggestions ' .. what)
end

--- One line describing the state, for `:QwenStatus` and statuslines.
---@param bufnr? integer
function M.status_line(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local clients = M.clients(bufnr)
  if #clients == 0 then
    if #M.clients() == 0 then
      return 'qwen-lsp: not running'
    end
    return 'qwen-lsp: not attached to this buffer'
  end
  local client = clients[1]
  local status = M.state.status[client.id]
  local parts = { 'qwen-lsp' }
  if status then
    parts[#parts + 1] = status.busy and 'busy' or (status.state ~= '' and status.state or 'idle')
    if status.message ~= '' then
      parts[#parts + 1] = status.message
    end
  else
    parts[#parts + 1] = 'ready'
  end
  parts[#parts + 1] = M.enabled_for(bufnr) and 'enabled' or 'disabled'
  parts[#parts + 1] = M.uses_inline() and 'ghost text' or 'completion items'
  return table.concat(parts, ' · ')
end

--- Short form for statuslines: '' when not attached.
function M.statusline()
  if #M.clients(vim.api.nvim_get_current_buf()) == 0 then
    return ''
  end
  local status = nil
  for _, client in ipairs(M.clients(0)) do
    status = M.state.status[client.id] or status
  end
  if status and status.busy then
    return 'Qwen…'
  end
  return M.enabled_for(vim.api.nvim_get_current_buf()) and 'Qwen' or 'Qwen (off)'
end

function M.show_status()
  vim.notify(M.status_line(), vim.log.levels.INFO)
end

local function check_cmd()
  local cmd = M.options.cmd
  if type(cmd) == 'table' and cmd[1] and vim.fn.executable(cmd[1]) == 0 then
    notify(
      ('cannot start %q: not found on $PATH (pipx install /path/to/qwen-lsp, or set cmd)'):format(cmd[1]),
      vim.log.levels.ERROR
    )
    return false
  end
  return true
end

--- Set up the plugin: merge options, register and enable the server.
---@param opts? qwen_lsp.Options|table
function M.setup(opts)
  opts = opts or {}
  if opts.api_key ~= nil then
    notify('the `api_key` option is ignored: put the key in the environment (api_key_env)', vim.log.levels.WARN)
    opts.api_key = nil
  end
  M.options = deep_merge(vim.deepcopy(M.defaults), opts)
  if opts.keymaps == false then
    M.options.keymaps = false
  end
  if opts.filetypes then
    M.options.filetypes = opts.filetypes
  end
  if opts.disabled_filetypes then
    M.options.disabled_filetypes = opts.disabled_filetypes
  end
  M.options._setup_done = true
  if not check_cmd() then
    return
  end

  local group = vim.api.nvim_create_augroup('qwen_lsp', { clear = true })
  vim.api.nvim_create_autocmd('LspAttach', {
    group = group,
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data.client_id)
      if client and client.name == M.name then
        on_attach(client, args.buf)
      end
    end,
  })

  local config = M.client_config()
  if vim.lsp.config and vim.lsp.enable then
    -- Neovim 0.11+: declarative config, started per buffer by vim.lsp.enable.
    vim.lsp.config(M.name, config)
    vim.lsp.enable(M.name)
    M.options._started_with_config = true
  else
    -- Older API: start (or reuse) the client on FileType ourselves.
    vim.api.nvim_create_autocmd('FileType', {
      group = group,
      callback = function(args)
        M.start(args.buf)
      end,
    })
    for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
      if vim.api.nvim_buf_is_loaded(bufnr) and vim.bo[bufnr].filetype ~= '' then
        M.start(bufnr)
      end
    end
  end
end

--- Start (or reuse) the server for one buffer with `vim.lsp.start` (fallback path).
---@param bufnr integer
function M.start(bufnr)
  if vim.bo[bufnr].buftype ~= '' or not M.enabled_for(bufnr) then
    return nil
  end
  local config = M.client_config()
  config.root_dir = root_for(bufnr)
  config.root_markers = nil
  return vim.lsp.start(config, { bufnr = bufnr })
end

return M
