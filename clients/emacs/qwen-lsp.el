;;; qwen-lsp.el --- Qwen-Coder completions and code actions through qwen-lsp  -*- lexical-binding: t; -*-

;; Version: 0.1.0
;; Package-Requires: ((emacs "27.1"))
;; Keywords: languages, tools, convenience
;; URL: https://github.com/qwen-lsp/qwen-lsp
;; SPDX-License-Identifier: Apache-2.0

;;; Commentary:

;; Registers the `qwen-lsp' language server with eglot and with lsp-mode.
;;
;; eglot: `qwen-lsp-eglot-setup' adds qwen-lsp to `eglot-server-programs'
;; for `qwen-lsp-modes'.  Suggestions arrive as completion items
;; (`completion-at-point', company or corfu); `qwen-lsp-code-action'
;; runs an AI code action, resolving it when the eglot version cannot.
;; Eglot runs one server per buffer, so this replaces e.g. pyright there;
;; use lsp-mode to run qwen-lsp next to another server.
;;
;; lsp-mode: `qwen-lsp-lsp-mode-setup' registers qwen-lsp as an add-on
;; client (it runs next to the language's own server).  With lsp-mode 9.0+
;; (`lsp-inline-completion') suggestions are shown as ghost text (LSP 3.18
;; inline completion); older lsp-mode versions get completion items.
;;
;; Settings are sent as LSP initializationOptions.  The API key is never
;; part of them: the server reads QWEN_LSP_API_KEY, OPENAI_API_KEY or
;; DASHSCOPE_API_KEY from its environment (see `qwen-lsp-api-key-env').

;; Next-edit predictions (server setting next_edit.enabled): once your
;; edits settle the server predicts the edit that follows them and offers
;; it as the code action "Qwen: Apply predicted edit";
;; `qwen-lsp-apply-next-edit' applies it (to the buffer version it was
;; made for), as does picking it in `eglot-code-actions'.

;;; Code:

(require 'cl-lib)
(require 'json)
(require 'subr-x)

(declare-function eglot-current-server "eglot")
(declare-function object-of-class-p "eieio")
(declare-function eglot--current-server-or-lose "eglot")
(declare-function eglot--TextDocumentIdentifier "eglot")
(declare-function eglot--pos-to-lsp-position "eglot")
(declare-function eglot--apply-workspace-edit "eglot")
(declare-function eglot-execute-command "eglot")
(declare-function eglot--server-capable "eglot")
(declare-function jsonrpc-request "jsonrpc")
(declare-function lsp-register-client "lsp-mode")
(declare-function make-lsp-client "lsp-mode")
(declare-function lsp-stdio-connection "lsp-mode")
(declare-function lsp-inline-completion-mode "lsp-inline-completion")
(declare-function lsp-inline-completion-display "lsp-inline-completion")
(declare-function lsp-find-workspace "lsp-mode")
(defvar eglot-server-programs)
(defvar lsp-inline-completion-mode)

(defgroup qwen-lsp nil
  "Qwen-Coder completions and code actions through the qwen-lsp server."
  :group 'tools
  :prefix "qwen-lsp-")

(defcustom qwen-lsp-command '("qwen-lsp")
  "Command (program and arguments) that starts the server on stdio."
  :type '(repeat string))

(defcustom qwen-lsp-base-url nil
  "Base URL of the OpenAI-compatible endpoint, e.g. \"http://127.0.0.1:8000/v1\".
nil leaves it to the server's config file or environment."
  :type '(choice (const :tag "Server default" nil) string))

(defcustom qwen-lsp-model nil
  "Model name sent to the endpoint, e.g. \"qwen2.5-coder\".
nil leaves it to the server's config file or environment."
  :type '(choice (const :tag "Server default" nil) string))

(defcustom qwen-lsp-api-key-env nil
  "Name of an environment variable that holds the API key.
When set, its value is passed to the server process as QWEN_LSP_API_KEY.
When nil the server reads QWEN_LSP_API_KEY, OPENAI_API_KEY or
DASHSCOPE_API_KEY itself.  The key never goes into the settings."
  :type '(choice (const :tag "Server's own variables" nil) string))

(defcustom qwen-lsp-settings nil
  "Further server settings, as a plist mirroring the server's TOML sections.
Example: (:completion (:maxTokens 64 :debounceMs 80) :actions (:enabled t)).
Keys may be camelCase or snake_case.  See docs/settings.md."
  :type 'plist)

(defcustom qwen-lsp-modes
  '(python-mode python-ts-mode js-mode js-ts-mode typescript-mode typescript-ts-mode
    tsx-ts-mode go-mode go-ts-mode rust-mode rust-ts-mode java-mode java-ts-mode
    c-mode c-ts-mode c++-mode c++-ts-mode sh-mode bash-ts-mode ruby-mode ruby-ts-mode
    php-mode lua-mode csharp-mode csharp-ts-mode)
  "Major modes in which qwen-lsp runs."
  :type '(repeat symbol))

(defcustom qwen-lsp-inline-completion t
  "Show ghost text (LSP inline completion) where the client supports it.
Only lsp-mode 9.0+ does; elsewhere suggestions are completion items."
  :type 'boolean)

(defcustom qwen-lsp-status-notifications t
  "Ask the server for `qwen/status' notifications (shown by `qwen-lsp-status')."
  :type 'boolean)

(defvar qwen-lsp--last-status nil
  "The last `qwen/status' notification, as a plist (:state :busy :message).")

;;;; Settings

(defun qwen-lsp--plist-merge (base extra)
  "Return BASE with EXTRA's keys set, merging nested plists."
  (let ((out (copy-sequence base)))
    (cl-loop for (key value) on extra by #'cddr
             do (let ((old (plist-get out key)))
                  (setq out (plist-put out key
                                       (if (and (consp old) (keywordp (car old))
                                                (consp value) (keywordp (car value)))
                                           (qwen-lsp--plist-merge old value)
                                         value)))))
    out))

(defun qwen-lsp--without-api-key (settings)
  "SETTINGS without any API key in its endpoint section (warns if one was there)."
  (let ((endpoint (plist-get settings :endpoint)))
    (if (not (or (plist-member endpoint :apiKey) (plist-member endpoint :api_key)))
        settings
      (display-warning 'qwen-lsp
                       "The API key is never sent in settings; use the environment (qwen-lsp-api-key-env)")
      (let (clean)
        (cl-loop for (key value) on endpoint by #'cddr
                 unless (memq key '(:apiKey :api_key))
                 do (setq clean (append clean (list key value))))
        (plist-put (copy-sequence settings) :endpoint clean)))))

(defun qwen-lsp-initialization-options (&rest _)
  "The initializationOptions sent to the server (a plist, JSON-ready)."
  (let ((endpoint (append (and qwen-lsp-base-url (list :baseUrl qwen-lsp-base-url))
                          (and qwen-lsp-model (list :model qwen-lsp-model))))
        (options (qwen-lsp--without-api-key (copy-tree qwen-lsp-settings))))
    (when endpoint
      (setq options (qwen-lsp--plist-merge (list :endpoint endpoint) options)))
    (when qwen-lsp-status-notifications
      (setq options (plist-put options :statusNotifications t)))
    (or options (make-hash-table))))

(defun qwen-lsp--server-environment ()
  "Extra environment entries (\"NAME=value\") for the server process."
  (when-let* ((name qwen-lsp-api-key-env)
              (value (getenv name)))
    (unless (string-empty-p value)
      (list (concat "QWEN_LSP_API_KEY=" value)))))

;;;; Status

(defun qwen-lsp--record-status (state busy message)
  "Remember a `qwen/status' notification with STATE, BUSY and MESSAGE."
  (setq qwen-lsp--last-status (list :state state :busy (eq busy t) :message message))
  (force-mode-line-update t))

(defun qwen-lsp-status-string ()
  "One line describing the server's last reported state."
  (if (null qwen-lsp--last-status)
      (if (qwen-lsp--connected-p)
          "qwen-lsp: idle · connected; no suggestion asked for yet"
        "qwen-lsp: not running in this buffer (start it with M-x eglot or M-x lsp)")
    (let ((state (plist-get qwen-lsp--last-status :state))
          (message (plist-get qwen-lsp--last-status :message)))
      (concat "qwen-lsp: "
              (if (plist-get qwen-lsp--last-status :busy) "busy" (or state "idle"))
              (if (and message (not (string-empty-p message))) (concat " · " message) "")))))

;;;###autoload
(defun qwen-lsp-status ()
  "Show the qwen-lsp server's last reported status."
  (interactive)
  (message "%s" (qwen-lsp-status-string)))

(defun qwen-lsp--connected-p ()
  "Non-nil when a qwen-lsp server runs for the current buffer (eglot or lsp-mode)."
  (or (and (fboundp 'eglot-current-server) (eglot-current-server)
           (object-of-class-p (eglot-current-server) 'qwen-lsp-eglot-server))
      (and (fboundp 'lsp-find-workspace) buffer-file-name
           (lsp-find-workspace 'qwen-lsp buffer-file-name))))

(defun qwen-lsp--connected ()
  "Record that a server connected: it is idle until it reports otherwise."
  (unless qwen-lsp--last-status
    (qwen-lsp--record-status "idle" nil "connected; no suggestion asked for yet")))

;;;; eglot

(defun qwen-lsp-eglot-contact (&optional _interactive)
  "The eglot contact: server class, command and initialization options."
  (require 'qwen-lsp-eglot)
  `(qwen-lsp-eglot-server ,@qwen-lsp-command
                          :initializationOptions ,(qwen-lsp-initialization-options)))

;;;###autoload
(defun qwen-lsp-eglot-setup ()
  "Use qwen-lsp as the eglot server for `qwen-lsp-modes'."
  (require 'qwen-lsp-eglot)
  (dolist (mode qwen-lsp-modes)
    (setq eglot-server-programs
          (cons (cons mode #'qwen-lsp-eglot-contact)
                (cl-remove-if (lambda (entry) (equal (car entry) mode)) eglot-server-programs)))))

(defun qwen-lsp--eglot-actions (beg end)
  "Code actions of the current eglot server between BEG and END."
  (let ((server (eglot--current-server-or-lose)))
    (append
     (jsonrpc-request server :textDocument/codeAction
                      (list :textDocument (eglot--TextDocumentIdentifier)
                            :range (list :start (eglot--pos-to-lsp-position beg)
                                         :end (eglot--pos-to-lsp-position end))
                            :context (list :diagnostics [])))
     nil)))

(defun qwen-lsp--eglot-run-action (action)
  "Resolve ACTION if it carries neither edit nor command, then apply and run it."
  (let ((server (eglot--current-server-or-lose)))
    (when (and (plist-get action :title) (not (plist-member action :command))
               (not (plist-get action :edit)) (plist-get action :data))
      ;; Older eglot versions do not resolve code actions themselves.
      (setq action (jsonrpc-request server :codeAction/resolve action)))
    (let ((edit (plist-get action :edit))
          (command (plist-get action :command)))
      (when edit
        (eglot--apply-workspace-edit edit))
      (cond ((stringp command)            ; a bare Command
             (eglot-execute-command server (intern command) (plist-get action :arguments)))
            (command
             (eglot-execute-command server (intern (plist-get command :command))
                                    (plist-get command :arguments)))))))

;;;###autoload
(defun qwen-lsp-code-action (beg end &optional title)
  "Run a qwen-lsp code action on the region (BEG END), or at point.
TITLE picks the action non-interactively; otherwise you are asked."
  (interactive (if (use-region-p) (list (region-beginning) (region-end)) (list (point) (point))))
  (require 'eglot)
  (let* ((actions (qwen-lsp--eglot-actions beg end))
         (titles (mapcar (lambda (a) (plist-get a :title)) actions))
         (choice (or title
                     (completing-read "Qwen action: " titles nil t)))
         (action (cl-find choice actions :key (lambda (a) (plist-get a :title)) :test #'equal)))
    (unless action
      (user-error "No code action %S here (have: %s)" choice (string-join titles ", ")))
    (qwen-lsp--eglot-run-action action)))

;;;; lsp-mode

(defun qwen-lsp--lsp-mode-status (_workspace params)
  "lsp-mode handler for the `qwen/status' notification with PARAMS."
  (let ((get (lambda (key) (if (hash-table-p params) (gethash key params) (plist-get params (intern (concat ":" key)))))))
    (qwen-lsp--record-status (funcall get "state") (funcall get "busy") (funcall get "message"))))

(defun qwen-lsp--lsp-mode-environment ()
  "Environment alist for lsp-mode's `:environment-fn'."
  (mapcar (lambda (entry)
            (let ((parts (split-string entry "=" nil)))
              (cons (car parts) (string-join (cdr parts) "="))))
          (qwen-lsp--server-environment)))

(defun qwen-lsp--lsp-mode-enable-inline ()
  "Turn on ghost text in this buffer when lsp-mode can show it."
  (when (and qwen-lsp-inline-completion
             (require 'lsp-inline-completion nil t)
             (fboundp 'lsp-inline-completion-mode)
             (not lsp-inline-completion-mode))
    (lsp-inline-completion-mode 1)))

;;;###autoload
(defun qwen-lsp-lsp-mode-setup ()
  "Register qwen-lsp with lsp-mode, as an add-on client for `qwen-lsp-modes'."
  (require 'lsp-mode)
  (lsp-register-client
   (make-lsp-client
    :new-connection (lsp-stdio-connection (lambda () qwen-lsp-command))
    :activation-fn (lambda (_file-name &optional mode)
                     (memq (or mode major-mode) qwen-lsp-modes))
    :server-id 'qwen-lsp
    :add-on? t
    :priority -1
    :initialization-options #'qwen-lsp-initialization-options
    :environment-fn #'qwen-lsp--lsp-mode-environment
    :notification-handlers
    (let ((handlers (make-hash-table :test #'equal)))
      (puthash "qwen/status" #'qwen-lsp--lsp-mode-status handlers)
      handlers)
    :initialized-fn (lambda (_workspace)
                      (qwen-lsp--connected)
                      (when (fboundp 'lsp-inline-completion-display)
                        (add-hook 'lsp-managed-mode-hook #'qwen-lsp--lsp-mode-enable-inline))))))

;;;###autoload
(defun qwen-lsp-inline-complete ()
  "Ask for a ghost-text suggestion now (lsp-mode 9.0+)."
  (interactive)
  (if (and (require 'lsp-inline-completion nil t) (fboundp 'lsp-inline-completion-display))
      (lsp-inline-completion-display)
    (completion-at-point)))

;;;; Next edit

(defconst qwen-lsp-next-edit-title "Qwen: Apply predicted edit"
  "Title of the code action that carries the server's next-edit prediction.")

;;;###autoload
(defun qwen-lsp-apply-next-edit ()
  "Apply the edit qwen-lsp predicts after your last edits (eglot).
Needs next_edit.enabled in the server settings; a prediction comes once
your edits settle.  Its edit is for the buffer version it was made for:
eglot refuses it if the buffer changed since."
  (interactive)
  (require 'eglot)
  (let ((action (cl-find qwen-lsp-next-edit-title (qwen-lsp--eglot-actions (point) (point))
                         :key (lambda (a) (plist-get a :title)) :test #'equal)))
    (unless action
      (user-error "No predicted edit yet (is next_edit.enabled on?  One comes once your edits settle)"))
    (qwen-lsp--eglot-run-action action)))

(provide 'qwen-lsp)
;;; qwen-lsp.el ends here
