-- User commands for qwen-lsp. The server itself starts only after require('qwen-lsp').setup().
if vim.g.loaded_qwen_lsp then
  return
end
vim.g.loaded_qwen_lsp = true

vim.api.nvim_create_user_command('QwenToggle', function(args)
  local scope = args.bang and 'buffer' or (args.args ~= '' and args.args or 'global')
  require('qwen-lsp').toggle(scope)
end, {
  bang = true,
  nargs = '?',
  complete = 'filetype',
  desc = 'Toggle qwen-lsp suggestions: everywhere, in this buffer (!), or for a filetype',
})

vim.api.nvim_create_user_command('QwenStatus', function()
  require('qwen-lsp').show_status()
end, { desc = 'Show the qwen-lsp server status' })
