;;; qwen-lsp-first-hour.el --- a new user's first hour, for tests/editors/test_emacs_first_hour.py  -*- lexical-binding: t; -*-

;; Run as: emacs --batch -q -l qwen-lsp-first-hour.el
;; Input: the JSON object in $QWEN_EMACS_TEST:
;;   init     the user's init file (the documented snippets, as written)
;;   client   "eglot" or "lsp-mode"
;;   file     the file to open; line: the line to complete at the end of
;;   action   title regexp of the code action to pick (optional)
;;   expect   regexp the buffer must match after the action
;; Only what the command loop would do is emulated: running `post-command-hook' and due idle
;; timers after a command, and the answers a user types at prompts (the project root for
;; lsp-mode, the action picked from the list).
;; Output: one line "RESULT <json>" on stdout.

(require 'cl-lib)
(require 'json)

(defvar qwen-fh-config
  (json-parse-string (getenv "QWEN_EMACS_TEST") :object-type 'plist :array-type 'list
                     :false-object :json-false :null-object nil))
(defvar qwen-fh-result nil)

(defun qwen-fh-put (key value)
  (setq qwen-fh-result (plist-put qwen-fh-result key value)))

(defun qwen-fh-after-command ()
  "What the command loop does after a command and when Emacs is idle."
  (run-hooks 'post-command-hook)
  (dolist (timer (copy-sequence timer-idle-list))
    (timer-event-handler timer))
  (accept-process-output nil 0.05))

(defun qwen-fh-wait (predicate seconds what)
  (let ((deadline (+ (float-time) seconds)) value)
    (while (and (not (setq value (funcall predicate))) (< (float-time) deadline))
      (qwen-fh-after-command))
    (unless value (error "Timed out waiting for %s" what))
    value))

(defun qwen-fh-line (n)
  (save-excursion
    (goto-char (point-min))
    (forward-line (1- n))
    (buffer-substring-no-properties (line-beginning-position) (line-end-position))))

(defun qwen-fh-messages ()
  (with-current-buffer (messages-buffer)
    (split-string (buffer-string) "\n" t)))

(defun qwen-fh-run ()
  (let ((client (plist-get qwen-fh-config :client))
        (file (plist-get qwen-fh-config :file)))
    ;; An interactive Emacs activates the installed packages (Debian's elpa-*) before it loads
    ;; init.el; --batch does not.
    (require 'package)
    (package-activate-all)
    (load (plist-get qwen-fh-config :init) nil t)
    (when (equal client "lsp-mode")
      (require 'lsp-mode)
      ;; The answer to lsp-mode's "Import project root?" prompt: the file's folder.
      (lsp-workspace-folders-add (file-name-directory file)))
    (find-file file)
    (qwen-fh-after-command)
    (qwen-fh-put :majorMode (symbol-name major-mode))
    (qwen-fh-wait (lambda () (string-prefix-p "qwen-lsp: idle" (qwen-lsp-status-string)))
                  30 "the server to connect")
    (qwen-fh-put :statusAtStart (qwen-lsp-status-string))
    ;; The client has set the buffer up (a user types a moment later).
    (qwen-fh-wait (lambda () (cl-intersection completion-at-point-functions
                                              '(eglot-completion-at-point lsp-completion-at-point)))
                  10 "the client's completion-at-point")
    (qwen-fh-put :bindings
                 (mapcar (lambda (keys) (let ((b (key-binding (kbd keys)))) (and b (format "%s" b))))
                         '("C-c q a" "C-c q s")))
    (qwen-fh-put :keyApiKeyInEmacs (or (getenv "QWEN_LSP_API_KEY") :json-false))
    ;; Ask for a suggestion at the end of the line, as M-x completion-at-point (C-M-i) does.
    (when (plist-get qwen-fh-config :line)
      (goto-char (point-min))
      (forward-line (1- (plist-get qwen-fh-config :line)))
      (end-of-line)
      (call-interactively #'completion-at-point)
      (qwen-fh-after-command)
      (qwen-fh-put :line (qwen-fh-line (plist-get qwen-fh-config :line))))
    (let ((deadline (+ (float-time) 1.0)))  ; a second of idle time after the command
      (while (< (float-time) deadline) (accept-process-output nil 0.05)))
    (qwen-fh-put :lastMessage (car (last (qwen-fh-messages))))
    (call-interactively (key-binding (kbd "C-c q s")))
    (qwen-fh-put :statusCommand (car (last (qwen-fh-messages))))
    (when-let ((wanted (plist-get qwen-fh-config :action)))
      (set-mark (point-min))
      (goto-char (point-max))
      (activate-mark)
      (let ((offered nil) (asked nil))
        ;; The user picks the action from the list the command offers, and says yes when
        ;; eglot asks to confirm the server's edit.
        (cl-letf (((symbol-function 'y-or-n-p) (lambda (prompt) (push prompt asked) t))
                  ((symbol-function 'yes-or-no-p) (lambda (prompt) (push prompt asked) t))
                  ((symbol-function 'completing-read)
                   (lambda (_prompt collection &rest _)
                     (let ((titles (all-completions "" collection)))
                       (setq offered titles)
                       (or (cl-find-if (lambda (title) (string-match-p wanted title)) titles)
                           (error "No action matching %s in %S" wanted titles))))))
          (call-interactively (key-binding (kbd "C-c q a")))
          (qwen-fh-wait (lambda () (string-match-p (plist-get qwen-fh-config :expect)
                                                   (buffer-string)))
                        30 "the action's edit"))
        (qwen-fh-put :actions offered)
        (qwen-fh-put :confirmations (length asked)))
      (qwen-fh-put :text (buffer-substring-no-properties (point-min) (point-max))))))

(condition-case err
    (progn
      (qwen-fh-run)
      (princ (concat "RESULT " (json-encode qwen-fh-result) "\n"))
      (kill-emacs 0))
  (error
   (qwen-fh-put :error (error-message-string err))
   (qwen-fh-put :messages (last (qwen-fh-messages) 15))
   (qwen-fh-put :serverStderr
                (mapconcat (lambda (buffer)
                             (with-current-buffer buffer
                               (buffer-substring-no-properties
                                (max (point-min) (- (point-max) 3000)) (point-max))))
                           (cl-remove-if-not (lambda (b) (string-match-p "stderr" (buffer-name b)))
                                             (buffer-list))
                           "\n"))
   (princ (concat "RESULT " (json-encode qwen-fh-result) "\n"))
   (kill-emacs 1)))
