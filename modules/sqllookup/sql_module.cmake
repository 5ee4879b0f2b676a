# modules/sqllookup/sql_module.cmake: included by modules/pgsql/ and
# modules/mysql/. Makes sure the shared library tern_sqllookup exists (in the
# tern tree modules/CMakeLists.txt adds this folder; a module folder built on
# its own adds it here) and defines tern_sql_module().
include_guard(GLOBAL)

if(NOT TARGET tern_sqllookup AND NOT TARGET tern)
  add_subdirectory(${CMAKE_CURRENT_LIST_DIR} ${CMAKE_CURRENT_BINARY_DIR}/sqllookup)
endif()

# tern_sql_module(<type> <client library's pkg-config name>): the module
# <type> (<type>.cpp, linked with tern_sqllookup and the client library) in
# TERN_MODULE_DIR; the unit tests of the module on the SDK's fake host
# (<type>_test.cpp), and, in the tern tree, its integration test against a
# real server (<type>_lookup_test.py, run with this tree's tern binary).
function(tern_sql_module type client_package)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(${type}_client REQUIRED IMPORTED_TARGET ${client_package})
  set(client PkgConfig::${type}_client)
  tern_add_module(${type} OUTPUT_DIRECTORY ${TERN_MODULE_DIR} ${type}.cpp)
  target_link_libraries(${type} PRIVATE tern_sqllookup ${client})
  if(TERN_TESTS AND TARGET GTest::gtest_main)
    include(GoogleTest)
    add_executable(${type}_test ${type}_test.cpp ${type}.cpp)
    target_link_libraries(${type}_test PRIVATE tern_sqllookup ${client} GTest::gtest_main)
    gtest_discover_tests(${type}_test DISCOVERY_TIMEOUT 60)
  endif()
  if(TERN_TESTS AND TARGET tern)
    find_package(Python3 REQUIRED COMPONENTS Interpreter)
    add_test(NAME ${type}_lookup
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/${type}_lookup_test.py
              --tern $<TARGET_FILE:tern>)
    set_tests_properties(${type}_lookup PROPERTIES TIMEOUT 300)
  endif()
endfunction()
