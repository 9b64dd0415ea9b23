# Installers: install rules for everything besides the binary, and CPack for each OS.
#   cmake --build build --target package
# Linux:   understudy_<version>_<arch>.deb (and .rpm when rpmbuild is installed)   — tested by tests/packaging
# macOS:   Understudy-<version>-Darwin.dmg: Understudy.app (menu bar only) to drag onto Applications
# Windows: Understudy-<version>-win64.exe: an NSIS installer with a Start-menu entry and an uninstaller
# Included from the top-level CMakeLists.txt after the targets exist (option UNDERSTUDY_PACKAGING).

include(GNUInstallDirs)

set(UNDERSTUDY_INSTALLERS_DIR ${CMAKE_CURRENT_LIST_DIR})
set(UNDERSTUDY_PACKAGE_MAINTAINER "Understudy maintainers <maintainers@users.noreply.b-seed-45984844.example>"
    CACHE STRING "Maintainer / contact written into the packages")
set(UNDERSTUDY_HOMEPAGE "https://github.com/understudy-app/understudy" CACHE STRING "Project homepage for the packages")

# --- Icons -------------------------------------------------------------------------------------------------------
# One SVG is the source; a tiny Qt tool renders the PNG sizes (hicolor, macOS .icns) and the Windows .ico at build
# time, so no binary icon is checked in.
set(UNDERSTUDY_ICON_SVG ${UNDERSTUDY_INSTALLERS_DIR}/icons/understudy.svg)
set(UNDERSTUDY_ICON_DIR ${CMAKE_BINARY_DIR}/installers/icons)
set(UNDERSTUDY_ICON_SIZES 16 22 24 32 48 64 128 256 512)
find_package(Qt6 REQUIRED COMPONENTS Gui Svg)
add_executable(understudy_render_icon ${UNDERSTUDY_INSTALLERS_DIR}/icons/render_icon.cpp)
target_link_libraries(understudy_render_icon PRIVATE Qt6::Gui Qt6::Svg)

set(_icon_outputs "")
foreach(size IN LISTS UNDERSTUDY_ICON_SIZES)
  list(APPEND _icon_outputs ${UNDERSTUDY_ICON_DIR}/${size}.png)
endforeach()
set(_icon_args "")
if(WIN32)
  set(UNDERSTUDY_ICON_ICO ${UNDERSTUDY_ICON_DIR}/understudy.ico)
  list(APPEND _icon_outputs ${UNDERSTUDY_ICON_ICO})
  set(_icon_args --ico ${UNDERSTUDY_ICON_ICO})
endif()
add_custom_command(
  OUTPUT ${_icon_outputs}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${UNDERSTUDY_ICON_DIR}
  COMMAND understudy_render_icon ${UNDERSTUDY_ICON_SVG} ${UNDERSTUDY_ICON_DIR} ${UNDERSTUDY_ICON_SIZES} ${_icon_args}
  DEPENDS understudy_render_icon ${UNDERSTUDY_ICON_SVG}
  COMMENT "Rendering the application icon"
  VERBATIM)
add_custom_target(understudy_icons ALL DEPENDS ${_icon_outputs})

# --- Common CPack settings -------------------------------------------------------------------------------------------
set(CPACK_PACKAGE_NAME "understudy")
set(CPACK_PACKAGE_VENDOR "Understudy")
set(CPACK_PACKAGE_CONTACT "${UNDERSTUDY_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Failover proxy for AI coding agents (tray app)")
# Debian wants extended-description lines under 80 columns.
set(CPACK_PACKAGE_DESCRIPTION
"Understudy is a tray app with a small local proxy that sits between an AI
coding agent (Claude Code, Codex, OpenCode or any Anthropic / OpenAI SDK
client) and its model providers. Every request goes to the first healthy
model of a priority-ordered chain and moves on to the next one when a model
fails: an outage, a rate limit, a plan cap or a stream that dies mid-answer.")
set(CPACK_PACKAGE_HOMEPAGE_URL "${UNDERSTUDY_HOMEPAGE}")
set(CPACK_PACKAGE_INSTALL_DIRECTORY "Understudy")
set(CPACK_PACKAGE_EXECUTABLES "understudy;Understudy")  # Start-menu shortcut (NSIS)
set(CPACK_STRIP_FILES ON)
set(CPACK_SOURCE_IGNORE_FILES "/build[^/]*/;/\\\\.git/")

# --- Linux: .deb / .rpm ---------------------------------------------------------------------------------------------
if(UNIX AND NOT APPLE)
  install(FILES ${UNDERSTUDY_INSTALLERS_DIR}/linux/understudy.desktop DESTINATION ${CMAKE_INSTALL_DATADIR}/applications)
  install(FILES ${UNDERSTUDY_ICON_SVG} DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps)
  foreach(size IN LISTS UNDERSTUDY_ICON_SIZES)
    install(FILES ${UNDERSTUDY_ICON_DIR}/${size}.png DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/${size}x${size}/apps
            RENAME understudy.png)
  endforeach()

  # No autostart file is installed: launching at login is each user's choice, and the Settings toggle writes
  # ~/.config/autostart/understudy.desktop itself (app/Autostart.cpp), pointing at the binary that runs.

  # Debian policy: /usr/share/doc/<package>/copyright and a max-compressed changelog without timestamp.
  string(TIMESTAMP _changelog_date "%a, %d %b %Y %H:%M:%S +0000" UTC)
  configure_file(${UNDERSTUDY_INSTALLERS_DIR}/linux/changelog.in ${CMAKE_BINARY_DIR}/installers/changelog @ONLY)
  find_program(GZIP_PROGRAM gzip)
  if(GZIP_PROGRAM)
    add_custom_command(
      OUTPUT ${CMAKE_BINARY_DIR}/installers/changelog.gz
      COMMAND ${GZIP_PROGRAM} -9nf -k ${CMAKE_BINARY_DIR}/installers/changelog
      DEPENDS ${CMAKE_BINARY_DIR}/installers/changelog
      VERBATIM)
    add_custom_target(understudy_changelog ALL DEPENDS ${CMAKE_BINARY_DIR}/installers/changelog.gz)
    install(FILES ${CMAKE_BINARY_DIR}/installers/changelog.gz DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/understudy)
  endif()
  install(FILES ${UNDERSTUDY_INSTALLERS_DIR}/linux/copyright DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/understudy)

  set(CPACK_GENERATOR "DEB")
  find_program(RPMBUILD_PROGRAM rpmbuild)
  if(RPMBUILD_PROGRAM)
    list(APPEND CPACK_GENERATOR "RPM")
  endif()
  set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")

  # Debian: shared libraries from dpkg-shlibdeps, plus what Qt loads at run time (the SQLite driver for the usage
  # ledger, the SVG icon engine for the tray, libsecret for API keys in the keyring), which dpkg-shlibdeps cannot see.
  set(CPACK_DEBIAN_PACKAGE_NAME "understudy")
  set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
  set(CPACK_DEBIAN_PACKAGE_SECTION "net")
  set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "libqt6sql6-sqlite, libqt6svg6, libsecret-1-0")
  set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "gnome-keyring | kwalletmanager")
  set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "${UNDERSTUDY_HOMEPAGE}")

  # RPM (Fedora names; rpmbuild's automatic requires cover the linked libraries).
  set(CPACK_RPM_FILE_NAME RPM-DEFAULT)
  set(CPACK_RPM_PACKAGE_LICENSE "LicenseRef-all-rights-reserved")  # no license file in the tree yet
  set(CPACK_RPM_PACKAGE_GROUP "Applications/Internet")
  set(CPACK_RPM_PACKAGE_URL "${UNDERSTUDY_HOMEPAGE}")
  set(CPACK_RPM_PACKAGE_AUTOREQ ON)
  set(CPACK_RPM_PACKAGE_REQUIRES "qt6-qtsvg, libsecret")
  set(CPACK_RPM_PACKAGE_SUGGESTS "gnome-keyring")
  set(CPACK_RPM_EXCLUDE_FROM_AUTO_FILELIST_ADDITION
      /usr/share/applications /usr/share/icons /usr/share/icons/hicolor /usr/share/doc)
endif()

# --- macOS: Understudy.app in a .dmg --------------------------------------------------------------------------------
if(APPLE)
  # Icon: iconutil turns the rendered PNGs into an .icns (Xcode command-line tools are on every macOS runner).
  set(_iconset ${UNDERSTUDY_ICON_DIR}/understudy.iconset)
  set(UNDERSTUDY_ICON_ICNS ${UNDERSTUDY_ICON_DIR}/understudy.icns)
  add_custom_command(
    OUTPUT ${UNDERSTUDY_ICON_ICNS}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${_iconset}
    COMMAND ${CMAKE_COMMAND} -E copy ${UNDERSTUDY_ICON_DIR}/16.png ${_iconset}/icon_16x16.png
    COMMAND ${CMAKE_COMMAND} -E copy ${UNDERSTUDY_ICON_DIR}/32.png ${_iconset}/icon_16x16@2x.png
    COMMAND ${CMAKE_COMMAND} -E copy ${UNDERSTUDY_ICON_DIR}/32.png ${_iconset}/icon_32x32.png
    COMMAND ${CMAKE_COMMAND} -E copy ${UNDERSTUDY_ICON_DIR}/64.png ${_iconset}/icon_32x32@2x.png
    COMMAND ${CMAKE_COMMAND} -E copy ${UNDERSTUDY_ICON_DIR}/128.png ${_iconset}/icon_128x128.png
    COMMAND ${CMAKE_COMMAND} -E copy ${UNDERSTUDY_ICON_DIR}/256.png ${_iconset}/icon_128x128@2x.png
    COMMAND ${CMAKE_COMMAND} -E copy ${UNDERSTUDY_ICON_DIR}/256.png ${_iconset}/icon_256x256.png
    COMMAND ${CMAKE_COMMAND} -E copy ${UNDERSTUDY_ICON_DIR}/512.png ${_iconset}/icon_256x256@2x.png
    COMMAND ${CMAKE_COMMAND} -E copy ${UNDERSTUDY_ICON_DIR}/512.png ${_iconset}/icon_512x512.png
    COMMAND iconutil -c icns -o ${UNDERSTUDY_ICON_ICNS} ${_iconset}
    DEPENDS ${_icon_outputs}
    VERBATIM)
  # The .icns is a source of the executable, copied into Contents/Resources. The target lives in app/, so the rule
  # that makes it is a target of its own here, and the source properties are set in the target's directory.
  add_custom_target(understudy_icns DEPENDS ${UNDERSTUDY_ICON_ICNS})
  add_dependencies(understudy understudy_icns)
  target_sources(understudy PRIVATE ${UNDERSTUDY_ICON_ICNS})
  set_source_files_properties(${UNDERSTUDY_ICON_ICNS} TARGET_DIRECTORY understudy
                              PROPERTIES MACOSX_PACKAGE_LOCATION Resources GENERATED TRUE)
  set_target_properties(understudy PROPERTIES
    OUTPUT_NAME "Understudy"                      # Understudy.app/Contents/MacOS/Understudy
    MACOSX_BUNDLE_INFO_PLIST ${UNDERSTUDY_INSTALLERS_DIR}/macos/Info.plist.in   # adds LSUIElement (menu bar only)
    MACOSX_BUNDLE_BUNDLE_NAME "Understudy"
    MACOSX_BUNDLE_GUI_IDENTIFIER "app.understudy.Understudy"
    MACOSX_BUNDLE_ICON_FILE "understudy.icns"
    MACOSX_BUNDLE_SHORT_VERSION_STRING ${PROJECT_VERSION}
    MACOSX_BUNDLE_BUNDLE_VERSION ${PROJECT_VERSION}
    MACOSX_BUNDLE_INFO_STRING "Understudy ${PROJECT_VERSION}"
    MACOSX_BUNDLE_COPYRIGHT "Understudy maintainers")

  # macdeployqt, driven by Qt's deploy script: copies Qt frameworks and plugins into the bundle at install time.
  qt_generate_deploy_app_script(TARGET understudy FILENAME_VARIABLE UNDERSTUDY_DEPLOY_SCRIPT
                                NO_UNSUPPORTED_PLATFORM_ERROR)
  install(SCRIPT ${UNDERSTUDY_DEPLOY_SCRIPT})

  set(CPACK_GENERATOR "DragNDrop")
  set(CPACK_PACKAGE_FILE_NAME "Understudy-${PROJECT_VERSION}-Darwin")
  set(CPACK_DMG_VOLUME_NAME "Understudy")
  set(CPACK_DMG_FORMAT "UDZO")
  set(CPACK_PACKAGE_ICON ${UNDERSTUDY_ICON_ICNS})
endif()

# --- Windows: NSIS installer --------------------------------------------------------------------------------------------
if(WIN32)
  # windeployqt, driven by Qt's deploy script: Qt DLLs and plugins next to bin/understudy.exe at install time.
  qt_generate_deploy_app_script(TARGET understudy FILENAME_VARIABLE UNDERSTUDY_DEPLOY_SCRIPT
                                NO_UNSUPPORTED_PLATFORM_ERROR)
  install(SCRIPT ${UNDERSTUDY_DEPLOY_SCRIPT})
  install(FILES ${UNDERSTUDY_ICON_ICO} DESTINATION ${CMAKE_INSTALL_BINDIR})

  set(CPACK_GENERATOR "NSIS")
  set(CPACK_PACKAGE_FILE_NAME "Understudy-${PROJECT_VERSION}-win64")
  set(CPACK_NSIS_PACKAGE_NAME "Understudy")
  set(CPACK_NSIS_DISPLAY_NAME "Understudy")
  set(CPACK_NSIS_MUI_ICON ${UNDERSTUDY_ICON_ICO})
  set(CPACK_NSIS_MUI_UNIICON ${UNDERSTUDY_ICON_ICO})
  set(CPACK_NSIS_INSTALLED_ICON_NAME "bin\\\\understudy.exe")
  set(CPACK_NSIS_URL_INFO_ABOUT "${UNDERSTUDY_HOMEPAGE}")
  set(CPACK_NSIS_CONTACT "${UNDERSTUDY_PACKAGE_MAINTAINER}")
  set(CPACK_NSIS_ENABLE_UNINSTALL_BEFORE_INSTALL ON)
  set(CPACK_NSIS_MUI_FINISHPAGE_RUN "understudy.exe")
  # Launch at login is the settings toggle's HKCU Run value; the uninstaller removes it with the program.
  set(CPACK_NSIS_EXTRA_UNINSTALL_COMMANDS
      "DeleteRegValue HKCU 'Software\\\\Microsoft\\\\Windows\\\\CurrentVersion\\\\Run' 'Understudy'")
endif()

include(CPack)
