;;; qwen-lsp-test-driver.el --- drive Emacs + qwen-lsp.el for tests/editors/test_emacs.py  -*- lexical-binding: t; -*-

;; Run as: emacs --batch -q -l qwen-lsp-test-driver.el
;; Input: the JSON object in $QWEN_EMACS_TEST (see test_emacs.py).
;; Output: one line "RESULT <json>" on stdout with what the editor saw.

(require 'cl-lib)
(require 'json)

(defvar qwen-test-config
  (json-parse-string (getenv "QWEN_EMACS_TEST") :object-type 'plist :array-type 'list
                     :false-object :json-false :null-object nil))
(defvar qwen-test-result nil)

(defun qwen-test-put (key value)
  (setq qwen-test-result (plist-put qwen-test-result key value)))

(defun qwen-test-wait (predicate seconds what)
  "Process events until PREDICATE is non-nil, or fail after SECONDS."
  (let ((deadline (+ (float-time) seconds)) value)
    (while (and (not (setq value (funcall predicate))) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    (unless value (error "Timed out waiting for %s" what))
    value))

(defun qwen-test-line (n)
  (save-excursion
    (goto-char (point-min))
    (forward-line (1- n))
    (buffer-substring-no-properties (line-beginning-position) (line-end-position))))

(defun qwen-test-finish ()
  (princ (concat "RESULT " (json-encode qwen-test-result) "\n")))

(defun qwen-test-configure ()
  (add-to-list 'load-path (file-name-directory (plist-get qwen-test-config :package)))
  (load (plist-get qwen-test-config :package) nil t)
  (setq qwen-lsp-command (plist-get qwen-test-config :command)
        qwen-lsp-base-url (plist-get qwen-test-config :baseUrl)
        qwen-lsp-model (plist-get qwen-test-config :model)
        qwen-lsp-settings (plist-get qwen-test-config :settings)))

(defun qwen-test-eglot ()
  (require 'eglot)
  (setq eglot-confirm-server-initiated-edits nil
        eglot-sync-connect t)
  (qwen-test-configure)
  (qwen-lsp-eglot-setup)
  (find-file (plist-get qwen-test-config :file))
  (apply #'eglot (eglot--guess-contact))
  (qwen-test-wait (lambda () (and (eglot-current-server) (eglot--server-capable :completionProvider)))
                  20 "eglot to connect")
  (qwen-test-put :serverClass (symbol-name (eieio-object-class (eglot-current-server))))
  (qwen-test-put :serverCommand (process-command (jsonrpc--process (eglot-current-server))))
  (qwen-test-put :initOptions (qwen-lsp-initialization-options))
  (qwen-test-put :codeActionProvider (if (eglot--server-capable :codeActionProvider) t :json-false))
  (pcase (plist-get qwen-test-config :scenario)
    ("complete"
     (goto-char (point-min))
     (forward-line (1- (plist-get qwen-test-config :line)))
     (end-of-line)
     (let* ((capf (eglot-completion-at-point))
            (candidates (all-completions "" (nth 2 capf))))
       (qwen-test-put :candidates candidates))
     ;; What M-x completion-at-point (or company/corfu) does with the one candidate.
     (completion-at-point)
     (qwen-test-put :line (qwen-test-line (plist-get qwen-test-config :line)))
     (qwen-test-put :point (list (line-number-at-pos) (current-column)))
     (qwen-test-wait (lambda () qwen-lsp--last-status) 5 "a qwen/status notification")
     (qwen-test-put :status (qwen-lsp-status-string)))
    ("action"
     (if (not (eglot--server-capable :codeActionProvider))
         (qwen-test-put :skipped "no codeActionProvider")
       (let* ((beg (point-min))
              (end (point-max))
              (titles (mapcar (lambda (a) (plist-get a :title)) (qwen-lsp--eglot-actions beg end)))
              (title (cl-find-if (lambda (tt) (string-match-p "document\\|docstring" (downcase tt))) titles)))
         (qwen-test-put :titles titles)
         (when title
           (let ((action (cl-find title (qwen-lsp--eglot-actions beg end)
                                  :key (lambda (a) (plist-get a :title)) :test #'equal)))
             ;; How the server offered it to this client (eglot 1.9 cannot resolve).
             (qwen-test-put :actionShape (cond ((plist-get action :edit) "edit")
                                               ((plist-member action :command) "command")
                                               (t "needs-resolve"))))
           (qwen-lsp-code-action beg end title)
           (qwen-test-wait (lambda () (string-match-p (plist-get qwen-test-config :expect)
                                                      (buffer-string)))
                           20 "the action's edit")
           (qwen-test-put :text (buffer-substring-no-properties (point-min) (point-max)))))))))

(defun qwen-test-lsp-mode ()
  (require 'lsp-mode)
  (setq lsp-session-file (expand-file-name "lsp-session" (plist-get qwen-test-config :home))
        lsp-auto-guess-root t
        lsp-enable-snippet nil
        lsp-restart 'ignore
        lsp-enable-suggest-server-download nil
        lsp-auto-configure t
        lsp-modeline-code-actions-enable nil
        lsp-modeline-diagnostics-enable nil
        lsp-modeline-workspace-status-enable nil
        lsp-headerline-breadcrumb-enable nil
        lsp-lens-enable nil)
  (qwen-test-configure)
  (qwen-lsp-lsp-mode-setup)
  (find-file (plist-get qwen-test-config :file))
  (lsp-workspace-folders-add (file-name-directory (plist-get qwen-test-config :file)))
  (lsp)
  (qwen-test-wait (lambda () (cl-some (lambda (ws) (eq (lsp--workspace-status ws) 'initialized))
                                      (lsp-workspaces)))
                  20 "lsp-mode to initialize qwen-lsp")
  (qwen-test-put :servers (mapcar (lambda (ws) (symbol-name (lsp--client-server-id (lsp--workspace-client ws))))
                                  (lsp-workspaces)))
  (goto-char (point-min))
  (forward-line (1- (plist-get qwen-test-config :line)))
  (end-of-line)
  (let* ((capf (lsp-completion-at-point))
         (candidates (and capf (all-completions "" (nth 2 capf)))))
    (qwen-test-put :candidates candidates))
  (completion-at-point)
  (qwen-test-put :line (qwen-test-line (plist-get qwen-test-config :line)))
  (qwen-test-wait (lambda () qwen-lsp--last-status) 5 "a qwen/status notification")
  (qwen-test-put :status (qwen-lsp-status-string))
  (qwen-test-put :inlineCompletionAvailable (if (require 'lsp-inline-completion nil t) t :json-false)))

(condition-case err
    (progn
      (pcase (plist-get qwen-test-config :client)
        ("eglot" (qwen-test-eglot))
        ("lsp-mode" (qwen-test-lsp-mode)))
      (qwen-test-finish)
      (kill-emacs 0))
  (error
   (qwen-test-put :error (error-message-string err))
   (qwen-test-finish)
   (kill-emacs 1)))
