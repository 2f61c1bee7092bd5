; Definitions and imports for Rust.

; @section definitions
(function_item name: (identifier) @name) @definition.function
(function_signature_item name: (identifier) @name) @definition.function
(struct_item name: (type_identifier) @name) @definition.struct
(enum_item name: (type_identifier) @name) @definition.enum
(union_item name: (type_identifier) @name) @definition.union
(trait_item name: (type_identifier) @name) @definition.trait
(type_item name: (type_identifier) @name) @definition.type
(impl_item) @definition.impl
(mod_item name: (identifier) @name) @definition.module
(macro_definition name: (identifier) @name) @definition.macro
(const_item name: (identifier) @name) @definition.constant
(static_item name: (identifier) @name) @definition.variable
(field_declaration_list (field_declaration name: (field_identifier) @name) @definition.field)

; @section imports
(use_declaration) @import
(extern_crate_declaration) @import
(use_declaration argument: (scoped_identifier name: (identifier) @import.name))
(use_declaration argument: (identifier) @import.name)
(use_as_clause alias: (identifier) @import.name)
(use_list (identifier) @import.name)
(use_list (scoped_identifier name: (identifier) @import.name))
(scoped_use_list path: (_) @import.module)
(use_declaration argument: (scoped_identifier path: (_) @import.module))
(extern_crate_declaration name: (identifier) @import.name)
