-- Default config for `vim.lsp.enable('qwen_lsp')` without the plugin's setup() (Neovim 0.11+).
-- Settings go in init_options; the API key stays in the environment (QWEN_LSP_API_KEY).
return {
  cmd = { 'qwen-lsp' },
  root_markers = { '.git' },
  init_options = {
    statusNotifications = true,
  },
}
