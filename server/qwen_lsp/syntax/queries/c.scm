; Definitions and imports for C (also the base of cpp.scm). Function names come from the
; declarator chain in Python (pointer declarators nest arbitrarily deep).

; @section definitions
(function_definition) @definition.function
(struct_specifier name: (type_identifier) @name body: (_)) @definition.struct
(union_specifier name: (type_identifier) @name body: (_)) @definition.union
(enum_specifier name: (type_identifier) @name body: (_)) @definition.enum
(type_definition declarator: (type_identifier) @name) @definition.type
(preproc_def name: (identifier) @name) @definition.constant
(preproc_function_def name: (identifier) @name) @definition.macro
(translation_unit (declaration declarator: (init_declarator declarator: (identifier) @name)) @definition.variable)
(translation_unit (declaration declarator: (identifier) @name) @definition.variable)
(translation_unit (declaration declarator: (function_declarator declarator: (identifier) @name)) @definition.function)

; @section imports
(preproc_include) @import
(preproc_include path: (string_literal (string_content) @import.module))
(preproc_include path: (system_lib_string) @import.module)
