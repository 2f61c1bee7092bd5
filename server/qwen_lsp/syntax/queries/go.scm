; Definitions and imports for Go.

; @section definitions
(function_declaration name: (identifier) @name) @definition.function
(method_declaration name: (field_identifier) @name) @definition.method
(type_spec name: (type_identifier) @name type: (struct_type)) @definition.struct
(type_spec name: (type_identifier) @name type: (interface_type)) @definition.interface
(type_spec name: (type_identifier) @name) @definition.type
(type_alias name: (type_identifier) @name) @definition.type
(source_file (const_declaration (const_spec name: (identifier) @name) @definition.constant))
(source_file (var_declaration (var_spec name: (identifier) @name) @definition.variable))
(interface_type (method_elem name: (field_identifier) @name) @definition.method)

; @section imports
(import_declaration) @import
(import_spec path: (interpreted_string_literal (interpreted_string_literal_content) @import.module))
(import_spec name: (package_identifier) @import.name)
