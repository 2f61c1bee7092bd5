; Definitions and imports for Ruby.

; @section definitions
(method name: (_) @name) @definition.method
(singleton_method name: (_) @name) @definition.method
(class name: (_) @name) @definition.class
(module name: (_) @name) @definition.module
(assignment left: (constant) @name) @definition.constant

; @section imports
((call method: (identifier) @_m
   arguments: (argument_list . (string (string_content) @import.module))) @import
 (#any-of? @_m "require" "require_relative" "load"))
