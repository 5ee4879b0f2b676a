# modules/lookup_servers/lookup_servers.cmake: included by the modules that
# link tern_lookup_servers (sqllookup, redis). In the tern tree
# modules/CMakeLists.txt adds this folder; a module folder built on its own
# adds it here.
include_guard(GLOBAL)

if(NOT TARGET tern_lookup_servers)
  add_subdirectory(${CMAKE_CURRENT_LIST_DIR} ${CMAKE_CURRENT_BINARY_DIR}/lookup_servers)
endif()
