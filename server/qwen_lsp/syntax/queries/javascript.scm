; Definitions and imports for JavaScript (also the base of typescript.scm).
; A node captured under several kinds keeps the most specific one (function/class beat variable).

; @section definitions
(function_declaration name: (identifier) @name) @definition.function
(generator_function_declaration name: (identifier) @name) @definition.function
(class_declaration name: (_) @name) @definition.class
(method_definition name: (_) @name) @definition.method

(program
  [(lexical_declaration (variable_declarator name: (identifier) @name) @definition.variable)
   (variable_declaration (variable_declarator name: (identifier) @name) @definition.variable)
   (export_statement
     declaration: [(lexical_declaration
                     (variable_declarator name: (identifier) @name) @definition.variable)
                   (variable_declaration
                     (variable_declarator name: (identifier) @name) @definition.variable)])])

(variable_declarator
  name: (identifier) @name
  value: [(arrow_function) (function_expression) (generator_function)]) @definition.function
(variable_declarator name: (identifier) @name value: (class)) @definition.class

; @section imports
(import_statement) @import
(import_statement source: (string (string_fragment) @import.module)) @import
(import_statement (import_clause (identifier) @import.name)) @import
(import_statement (import_clause (namespace_import (identifier) @import.name))) @import
(import_statement
  (import_clause (named_imports (import_specifier name: (_) @import.name !alias)))) @import
(import_statement
  (import_clause (named_imports (import_specifier alias: (_) @import.name)))) @import
((lexical_declaration
   (variable_declarator
     name: (identifier) @import.name
     value: (call_expression
       function: (identifier) @_req
       arguments: (arguments . (string (string_fragment) @import.module))))) @import
 (#eq? @_req "require"))
