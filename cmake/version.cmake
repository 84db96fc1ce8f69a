# version — PARLEY_VERSION_STRING: the project VERSION, plus `git describe` when the
# source is a git checkout, or the contents of a .version file written into a source
# copy (make deb copies the tree without .git). Compiled into src/core/version.c only,
# so a new commit rebuilds one file.
set(PARLEY_VERSION_STRING ${PROJECT_VERSION})
find_package(Git QUIET)
set(_describe "")
if(GIT_FOUND AND EXISTS ${CMAKE_SOURCE_DIR}/.git)
  execute_process(COMMAND ${GIT_EXECUTABLE} describe --tags --always --dirty
                  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
                  OUTPUT_VARIABLE _describe OUTPUT_STRIP_TRAILING_WHITESPACE
                  ERROR_QUIET RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    set(_describe "")
  endif()
  # Configure again when HEAD moves (a commit, a checkout), so the string follows it.
  execute_process(COMMAND ${GIT_EXECUTABLE} rev-parse --absolute-git-dir
                  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
                  OUTPUT_VARIABLE _gitdir OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(_gitdir AND EXISTS ${_gitdir}/logs/HEAD)
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_gitdir}/logs/HEAD)
  endif()
elseif(EXISTS ${CMAKE_SOURCE_DIR}/.version)
  file(STRINGS ${CMAKE_SOURCE_DIR}/.version _describe LIMIT_COUNT 1)
endif()
if(_describe)
  set(PARLEY_VERSION_STRING "${PROJECT_VERSION} (git ${_describe})")
endif()
set_source_files_properties(src/core/version.c PROPERTIES COMPILE_DEFINITIONS
                            "PARLEY_VERSION=\"${PARLEY_VERSION_STRING}\"")
message(STATUS "Parley version: ${PARLEY_VERSION_STRING}")
