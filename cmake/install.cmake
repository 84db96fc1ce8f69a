# install — `make install` (cmake --install; DESTDIR honoured): the three programs, the web
# client, a config in /etc/parley that is never overwritten, the data directory, the
# systemd unit and the sysusers.d entry that creates the parley user. The Debian package
# (debian/rules) is built from these same rules.
include(GNUInstallDirs)
set(PARLEY_CONFDIR /etc/parley CACHE PATH "where parley.conf is installed")
set(PARLEY_STATEDIR /var/lib/parley CACHE PATH "parleyd's data directory")
# systemd reads /usr/local/lib/systemd/system as well as /lib/systemd/system.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(_unitdir /lib/systemd/system)
else()
  set(_unitdir ${CMAKE_INSTALL_PREFIX}/lib/systemd/system)
endif()
set(PARLEY_SYSTEMD_UNITDIR ${_unitdir} CACHE PATH "where parley.service is installed")
set(PARLEY_SYSUSERSDIR ${CMAKE_INSTALL_PREFIX}/lib/sysusers.d
    CACHE PATH "where the sysusers.d entry for the parley user is installed")
set(PARLEY_BINDIR ${CMAKE_INSTALL_FULL_BINDIR})
set(PARLEY_WEBDIR ${CMAKE_INSTALL_FULL_DATADIR}/parley/web)
set(PARLEY_DOCDIR ${CMAKE_INSTALL_FULL_DOCDIR})

install(TARGETS parleyd parleyctl parley_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY web/ DESTINATION ${CMAKE_INSTALL_DATADIR}/parley/web)
install(FILES parley.conf.example DESTINATION ${CMAKE_INSTALL_DATADIR}/parley)
install(FILES docs/DEPLOYMENT.md docs/CLI.md README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The installed config is the example with the installed paths in place of the
# development ones; a replacement that finds nothing stops the build, so the example
# cannot drift away from this.
file(READ ${CMAKE_SOURCE_DIR}/parley.conf.example _conf)
foreach(pair "data-dir = ./var|data-dir = ${PARLEY_STATEDIR}"
             "web-dir = ./web|web-dir = ${PARLEY_WEBDIR}")
  string(REPLACE "|" ";" pair "${pair}")
  list(GET pair 0 _from)
  list(GET pair 1 _to)
  string(FIND "${_conf}" "${_from}" _at)
  if(_at EQUAL -1)
    message(FATAL_ERROR "parley.conf.example has no \"${_from}\" line to install")
  endif()
  string(REPLACE "${_from}" "${_to}" _conf "${_conf}")
endforeach()
set(_conf_comment "# Installed by Parley ${PROJECT_VERSION}; the package never overwrites this file.\n# ${CMAKE_INSTALL_FULL_DATADIR}/parley/parley.conf.example has the current defaults.\n")
file(WRITE ${CMAKE_BINARY_DIR}/parley.conf "${_conf_comment}${_conf}")
install(CODE "
  set(_dest \"\$ENV{DESTDIR}${PARLEY_CONFDIR}/parley.conf\")
  if(EXISTS \"\${_dest}\")
    message(STATUS \"Keeping existing: \${_dest}\")
  else()
    file(INSTALL \"${CMAKE_BINARY_DIR}/parley.conf\" DESTINATION \"${PARLEY_CONFDIR}\"
         PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  endif()")

install(DIRECTORY DESTINATION ${PARLEY_STATEDIR}
        DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE)

configure_file(dist/parley.service.in ${CMAKE_BINARY_DIR}/parley.service @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/parley.service DESTINATION ${PARLEY_SYSTEMD_UNITDIR})
install(FILES dist/parley.sysusers DESTINATION ${PARLEY_SYSUSERSDIR} RENAME parley.conf)
