; Definitions and imports for C++, on top of c.scm.
; inherits: c

; @section definitions
(class_specifier name: (_) @name body: (_)) @definition.class
(namespace_definition name: (_) @name) @definition.namespace
(alias_declaration name: (type_identifier) @name) @definition.type
(field_declaration_list (function_definition) @definition.method)
(field_declaration_list
  (declaration declarator: (function_declarator)) @definition.method)
(field_declaration_list
  (field_declaration declarator: (function_declarator)) @definition.method)
(field_declaration_list (field_declaration declarator: (field_identifier) @name) @definition.field)
(concept_definition name: (identifier) @name) @definition.type

; @section imports
(using_declaration) @import
(using_declaration (identifier) @import.module)
(using_declaration (qualified_identifier name: (identifier) @import.name))
(namespace_alias_definition) @import
(namespace_alias_definition name: (namespace_identifier) @import.name)
