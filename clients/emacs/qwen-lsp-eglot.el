;;; qwen-lsp-eglot.el --- qwen-lsp as eglot runs it  -*- lexical-binding: t; -*-

;; SPDX-License-Identifier: Apache-2.0

;;; Commentary:

;; The eglot side of qwen-lsp.el, loaded by `qwen-lsp-eglot-setup' (it needs eglot).
;; Public eglot API only: a server class, `eglot-handle-notification' methods and
;; `eglot-connect-hook'.

;;; Code:

(require 'cl-lib)
(require 'eglot)
(require 'qwen-lsp)

(defclass qwen-lsp-eglot-server (eglot-lsp-server) ()
  :documentation "The qwen-lsp server as eglot runs it.")

;; The API key reaches the server process only: `process-environment' is bound while the
;; connection is initialized (that is where eglot starts the process); Emacs's own is unchanged.
(cl-defmethod initialize-instance :around ((_server qwen-lsp-eglot-server) &rest _)
  (let ((process-environment (append (qwen-lsp--server-environment) process-environment)))
    (cl-call-next-method)))

(cl-defmethod eglot-handle-notification
  ((_server qwen-lsp-eglot-server) (_method (eql qwen/status))
   &key state busy message &allow-other-keys)
  (qwen-lsp--record-status state busy message))

(defvar qwen-lsp-eglot--echo-timer nil
  "Timer that shows the server's last error again once the current command is over.")

;; An error arrives while `completion-at-point' waits for its answer, which then ends in
;; "No match" and hides it: show it again when the command is over.
(cl-defmethod eglot-handle-notification
  ((_server qwen-lsp-eglot-server) (_method (eql window/showMessage)) &key type message)
  (cl-call-next-method)
  (when (<= type 2)
    (when (timerp qwen-lsp-eglot--echo-timer)
      (cancel-timer qwen-lsp-eglot--echo-timer))
    (setq qwen-lsp-eglot--echo-timer
          (run-at-time 0.3 nil (lambda ()
                                 (setq qwen-lsp-eglot--echo-timer nil)
                                 (message "%s" (propertize message 'face 'error)))))))

(defun qwen-lsp-eglot--on-connect (server)
  "Note that SERVER, if it is qwen-lsp, is connected."
  (when (object-of-class-p server 'qwen-lsp-eglot-server)
    (qwen-lsp--connected)))

(add-hook 'eglot-connect-hook #'qwen-lsp-eglot--on-connect)

(provide 'qwen-lsp-eglot)
;;; qwen-lsp-eglot.el ends here
