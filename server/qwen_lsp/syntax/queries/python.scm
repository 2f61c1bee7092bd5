; Definitions and imports for Python. Sections are split by the "@section" marker lines.
; Captures: @definition.<kind> (whole node), @name, @import, @import.name, @import.module.

; @section definitions
(function_definition name: (identifier) @name) @definition.function
(class_definition name: (identifier) @name) @definition.class
(type_alias_statement left: (type (identifier) @name)) @definition.type

(module
  (expression_statement
    (assignment left: (identifier) @name) @definition.variable))
(class_definition
  body: (block
    (expression_statement
      (assignment left: (identifier) @name) @definition.field)))

; @section imports
(import_statement) @import
(future_import_statement) @import
(import_from_statement) @import
(import_statement name: (dotted_name) @import.name) @import
(import_statement name: (aliased_import alias: (identifier) @import.name)) @import
(import_from_statement module_name: (_) @import.module) @import
(import_from_statement name: (dotted_name) @import.name) @import
(import_from_statement name: (aliased_import alias: (identifier) @import.name)) @import
