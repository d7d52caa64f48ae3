# The bundled label font (fonts/README.md): embedded into libaimark as a byte
# array generated at build time, and installed to ${datadir}/aimark/fonts.
# Included by the top-level CMakeLists.txt after the aimark_objects target.
set(AIMARK_LABEL_FONT ${CMAKE_SOURCE_DIR}/fonts/AimarkLabelSans-Bold.otf)
set(AIMARK_LABEL_FONT_HEADER ${CMAKE_BINARY_DIR}/generated/aimark_font_data.h)
add_custom_command(OUTPUT ${AIMARK_LABEL_FONT_HEADER}
  COMMAND ${CMAKE_COMMAND} -DINPUT=${AIMARK_LABEL_FONT} -DOUTPUT=${AIMARK_LABEL_FONT_HEADER}
          -P ${CMAKE_SOURCE_DIR}/fonts/embed_font.cmake
  DEPENDS ${AIMARK_LABEL_FONT} ${CMAKE_SOURCE_DIR}/fonts/embed_font.cmake
  COMMENT "Embedding the bundled label font"
  VERBATIM)
add_custom_target(aimark_font_data DEPENDS ${AIMARK_LABEL_FONT_HEADER})
add_dependencies(aimark_objects aimark_font_data)
target_compile_definitions(aimark_objects PRIVATE
  AIMARK_EMBEDDED_FONT=1
  AIMARK_FONT_INSTALL_DIR="${CMAKE_INSTALL_FULL_DATADIR}/aimark/fonts")
install(FILES ${AIMARK_LABEL_FONT} ${CMAKE_SOURCE_DIR}/fonts/README.md
  DESTINATION ${CMAKE_INSTALL_DATADIR}/aimark/fonts)
