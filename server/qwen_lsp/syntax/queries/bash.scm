; Definitions and imports for shell scripts (bash grammar).

; @section definitions
(function_definition name: (word) @name) @definition.function
(program (variable_assignment name: (variable_name) @name) @definition.variable)
(program (declaration_command (variable_assignment name: (variable_name) @name)) @definition.variable)

; @section imports
((command name: (command_name (word) @_cmd) argument: (_) @import.module) @import
 (#any-of? @_cmd "source" "."))
