--- `:checkhealth qwen-lsp`: is the server there, which version, does the endpoint answer, and
--- what this Neovim can show. The endpoint check is `qwen-lsp doctor --json` (one real request).

local M = {}

local health = vim.health

--- The server command with extra arguments (the plugin's `cmd` starts the stdio server).
local function server_cmd(extra)
  local cmd = vim.deepcopy(require('qwen-lsp').options.cmd or { 'qwen-lsp' })
  for i = #cmd, 1, -1 do
    if cmd[i] == '--stdio' then
      table.remove(cmd, i)
    end
  end
  return vim.list_extend(cmd, extra)
end

local function run(cmd, timeout_ms)
  local qwen = require('qwen-lsp')
  local ok, job = pcall(vim.system, cmd, { text = true, env = qwen.cmd_env() })
  if not ok then
    return nil, tostring(job)
  end
  local done = job:wait(timeout_ms)
  if done.signal ~= 0 and done.code ~= 0 and done.code ~= 1 then
    return nil, ('%s did not finish within %d s'):format(cmd[1], timeout_ms / 1000)
  end
  return done
end

local function check_neovim()
  local qwen = require('qwen-lsp')
  local v = vim.version()
  local version = ('%d.%d.%d'):format(v.major, v.minor, v.patch)
  if qwen.has_inline_api() then
    health.ok(('Neovim %s has LSP inline completion: suggestions are ghost text'):format(version))
  elseif vim.lsp.completion then
    health.warn(
      ('Neovim %s has no LSP inline completion: suggestions come as completion items'):format(version),
      { 'Neovim 0.12+ shows them as ghost text' }
    )
  else
    health.error(('Neovim %s is too old'):format(version), { 'qwen-lsp needs Neovim 0.11+' })
  end
end

local function check_server()
  local cmd = server_cmd({ '--version' })
  if vim.fn.executable(cmd[1]) == 0 then
    health.error(('server command %q not found on $PATH'):format(cmd[1]), {
      'install it: pipx install /path/to/qwen-lsp (a checkout of the repository)',
      "or point setup({ cmd = { '/path/to/venv/bin/qwen-lsp' } }) at it",
    })
    return false
  end
  local done, err = run(cmd, 20000)
  if not done or done.code ~= 0 then
    health.error(('%s --version failed: %s'):format(cmd[1], err or vim.trim(done.stderr or '')))
    return false
  end
  health.ok(('server: %s (%s)'):format(vim.trim(done.stdout), vim.fn.exepath(cmd[1])))
  return true
end

local function check_endpoint()
  local qwen = require('qwen-lsp')
  local extra = { 'doctor', '--json' }
  local endpoint = (qwen.init_options() or {}).endpoint or {}
  local base_url = endpoint.baseUrl or endpoint.base_url
  if base_url then
    vim.list_extend(extra, { '--base-url', base_url })
  end
  if endpoint.model then
    vim.list_extend(extra, { '--model', endpoint.model })
  end
  local done, err = run(server_cmd(extra), 60000)
  if not done then
    health.error('qwen-lsp doctor: ' .. err)
    return
  end
  local ok, report = pcall(vim.json.decode, done.stdout or '')
  if not ok or type(report) ~= 'table' then
    health.error('qwen-lsp doctor gave no report: ' .. vim.trim(done.stderr or done.stdout or ''))
    return
  end
  local where = ('%s, model %s'):format(report.base_url, report.model)
  local advice = {}
  for _, check in ipairs(report.checks or {}) do
    if check.level == 'error' or check.level == 'warning' or check.text:find('^→') then
      advice[#advice + 1] = check.text
    end
  end
  if report.endpoint == 'ok' then
    health.ok(('endpoint answers: %s (transport %s)'):format(where, report.transport or '?'))
  elseif report.endpoint == 'busy' then
    health.warn('endpoint is busy: ' .. where, advice)
  else
    health.error(('endpoint does not answer: %s'):format(where), advice)
    return
  end
  if report.fim == 'ok' then
    health.ok(('a completion request took %d ms'):format(report.total_ms or -1))
  else
    health.error(('a completion request failed (%s)'):format(report.fim or '?'), advice)
  end
end

local function check_clients()
  local qwen = require('qwen-lsp')
  local clients = qwen.clients()
  if #clients == 0 then
    health.info('no qwen-lsp client is running (open a file after setup())')
  else
    health.ok(('%d qwen-lsp client(s) running; :QwenStatus says: %s'):format(#clients, qwen.status_line()))
  end
end

function M.check()
  health.start('qwen-lsp')
  check_neovim()
  if not require('qwen-lsp').options._setup_done then
    health.warn("require('qwen-lsp').setup() has not been called: checking with the defaults")
  end
  if check_server() then
    check_endpoint()
  end
  check_clients()
end

return M
