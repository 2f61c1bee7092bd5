;;; qwen-lsp-next-edit-driver.el --- drive Emacs + eglot through a next-edit prediction  -*- lexical-binding: t; -*-

;; Run as: emacs --batch -q -l qwen-lsp-next-edit-driver.el (tests/editors/test_emacs_next_edit.py)
;; Input: the JSON object in $QWEN_EMACS_TEST: package, command, baseUrl, settings, file,
;; old and new (the word the user replaces on the first line).
;; The user replaces the word, the prediction arrives as the code action
;; "Qwen: Apply predicted edit", M-x qwen-lsp-apply-next-edit applies it.
;; Output: one line "RESULT <json>" on stdout.

(require 'cl-lib)
(require 'json)

(defvar qwen-ne-config
  (json-parse-string (getenv "QWEN_EMACS_TEST") :object-type 'plist :array-type 'list
                     :false-object :json-false :null-object nil))
(defvar qwen-ne-result nil)

(defun qwen-ne-put (key value)
  (setq qwen-ne-result (plist-put qwen-ne-result key value)))

(defun qwen-ne-wait (predicate seconds what)
  "Process events until PREDICATE is non-nil, or fail after SECONDS."
  (let ((deadline (+ (float-time) seconds)) value)
    (while (and (not (setq value (funcall predicate))) (< (float-time) deadline))
      (accept-process-output nil 0.1))
    (unless value (error "Timed out waiting for %s" what))
    value))

(defun qwen-ne-titles ()
  (mapcar (lambda (a) (plist-get a :title)) (qwen-lsp--eglot-actions (point) (point))))

(defun qwen-ne-run ()
  (require 'eglot)
  (add-to-list 'load-path (file-name-directory (plist-get qwen-ne-config :package)))
  (load (plist-get qwen-ne-config :package) nil t)
  (setq qwen-lsp-command (plist-get qwen-ne-config :command)
        qwen-lsp-base-url (plist-get qwen-ne-config :baseUrl)
        qwen-lsp-settings (plist-get qwen-ne-config :settings)
        eglot-sync-connect t)
  (qwen-lsp-eglot-setup)
  (find-file (plist-get qwen-ne-config :file))
  (apply #'eglot (eglot--guess-contact))
  (qwen-ne-wait (lambda () (and (eglot-current-server) (eglot--server-capable :codeActionProvider)))
                20 "eglot to connect")
  (qwen-ne-put :titlesBefore (qwen-ne-titles))
  ;; The user's edit: the word on the first line replaced, as typing would.
  (goto-char (point-min))
  (search-forward (plist-get qwen-ne-config :old))
  (replace-match (plist-get qwen-ne-config :new) t t)
  ;; What eglot's idle timer does once the user pauses (idle timers do not run in --batch).
  (eglot--signal-textDocument/didChange)
  (qwen-ne-wait (lambda () (member qwen-lsp-next-edit-title (qwen-ne-titles)))
                20 "the predicted edit")
  (qwen-ne-put :titles (qwen-ne-titles))
  (qwen-lsp-apply-next-edit)
  (qwen-ne-put :text (buffer-substring-no-properties (point-min) (point-max)))
  (eglot--signal-textDocument/didChange)
  (qwen-ne-put :titlesAfter (qwen-ne-titles)))

(condition-case err
    (progn (qwen-ne-run)
           (princ (concat "RESULT " (json-encode qwen-ne-result) "\n"))
           (kill-emacs 0))
  (error
   (qwen-ne-put :error (error-message-string err))
   (princ (concat "RESULT " (json-encode qwen-ne-result) "\n"))
   (kill-emacs 1)))
