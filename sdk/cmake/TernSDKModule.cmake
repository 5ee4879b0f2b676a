# sdk/cmake/TernSDKModule.cmake: tern_add_module(), included by the TernSDK
# package (installed or in-tree), so a first-party module builds exactly as a
# third-party one does.
#
#   tern_add_module(<name> [OUTPUT_DIRECTORY <dir>] <sources>...)
#
# Builds a MODULE library named exactly <name>.so (no "lib" prefix: the
# loader wants the file's base name to equal the module's name), linked to
# TernSDK::module, compiled with hidden visibility and linked with a version
# script that exports only tern_module_v1.
include_guard(GLOBAL)

set(_TERN_SDK_MODULE_MAP "${CMAKE_CURRENT_LIST_DIR}/tern_module.map"
    CACHE INTERNAL "the version script of tern modules")

function(tern_add_module name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "OUTPUT_DIRECTORY" "")
  if(NOT arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "tern_add_module(${name}): no sources")
  endif()
  add_library(${name} MODULE ${arg_UNPARSED_ARGUMENTS})
  target_link_libraries(${name} PRIVATE TernSDK::module)
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    OUTPUT_NAME "${name}"
    SUFFIX ".so"
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LINK_DEPENDS "${_TERN_SDK_MODULE_MAP}")
  target_link_options(${name} PRIVATE "LINKER:--version-script=${_TERN_SDK_MODULE_MAP}")
  if(arg_OUTPUT_DIRECTORY)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${arg_OUTPUT_DIRECTORY}")
  endif()
endfunction()
