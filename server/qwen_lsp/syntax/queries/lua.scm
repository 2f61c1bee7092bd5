; Definitions and imports for Lua.

; @section definitions
(function_declaration name: (identifier) @name) @definition.function
(function_declaration name: (dot_index_expression field: (identifier) @name)) @definition.function
(function_declaration name: (method_index_expression method: (identifier) @name)) @definition.method
(chunk
  (variable_declaration
    (assignment_statement
      (variable_list name: (identifier) @name)
      (expression_list value: (function_definition)))) @definition.function)
(chunk
  (variable_declaration
    (assignment_statement (variable_list name: (identifier) @name))) @definition.variable)
(chunk (assignment_statement (variable_list name: (identifier) @name)) @definition.variable)

; @section imports
((variable_declaration
   (assignment_statement
     (variable_list name: (identifier) @import.name)
     (expression_list
       value: (function_call
         name: (identifier) @_req
         arguments: (arguments . (string content: (string_content) @import.module)))))) @import
 (#eq? @_req "require"))
