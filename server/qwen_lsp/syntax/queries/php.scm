; Definitions and imports for PHP.

; @section definitions
(function_definition name: (name) @name) @definition.function
(method_declaration name: (name) @name) @definition.method
(class_declaration name: (name) @name) @definition.class
(interface_declaration name: (name) @name) @definition.interface
(trait_declaration name: (name) @name) @definition.trait
(enum_declaration name: (name) @name) @definition.enum
(namespace_definition name: (namespace_name) @name body: (_)) @definition.namespace
(const_declaration (const_element (name) @name)) @definition.constant
(property_declaration (property_element name: (variable_name (name) @name))) @definition.field

; @section imports
(namespace_use_declaration) @import
(namespace_use_clause alias: (name) @import.name)
(namespace_use_clause . (qualified_name (name) @import.name .) .)
(namespace_use_clause (name) @import.name !alias)
(namespace_use_clause (qualified_name prefix: (namespace_name) @import.module))
(expression_statement
  [(require_expression (string (string_content) @import.module))
   (require_once_expression (string (string_content) @import.module))
   (include_expression (string (string_content) @import.module))
   (include_once_expression (string (string_content) @import.module))]) @import
